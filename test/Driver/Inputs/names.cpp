// Calls the function of names.lz through its header, from C++: the
// arguments are 1, 2, ..., 21 in the order of the flattened parameters.
#include "lib9names.h"

#include <cstdio>

int main() {
  double x[2] = {2, 0};
  int64_t xShape[1] = {2};
  lib9names_f_result r;
  int status = lib9names_f(1, x, xShape, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                           14, 15, 16, 17, 18, 19, 20, 21, &r);
  std::printf("status %d, %.17g\n", status, r.r0);
  return 0;
}
