#!/usr/bin/env bash
# Installs what Leibniz needs to build and test on Debian 12, with apt-get.
# A fast no-op when everything is present.
set -euo pipefail

packages=(
  cmake ninja-build ccache gcc g++ binutils python3 python3-numpy diffutils
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  libgtest-dev libopenblas-dev
  clang-22 libclang-rt-22-dev
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
       grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || {
    echo "setup: need root or sudo to install ${missing[*]}" >&2
    exit 1
  }
  sudo=sudo
fi
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
  --no-install-recommends "${missing[@]}"
