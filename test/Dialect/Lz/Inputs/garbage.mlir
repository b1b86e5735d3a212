func.func @f() {
  garbageÿ
}
