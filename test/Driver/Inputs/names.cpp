// Calls the function of names.lz through its header, from C++.
#include "lib9names.h"

#include <cstdio>

int main() {
  double x[2] = {1, 2};
  int64_t xShape[1] = {2};
  lib9names_f_result r;
  int status = lib9names_f(1, x, xShape, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                           13, 14, &r);
  std::printf("status %d, %g\n", status, r.r0);
  return 0;
}
