/* Calls every kind of parameter and result of compile.lz's library. */
#include "abi.h"

#include <stdio.h>
#include <stdlib.h>

int main(void) {
  float p0 = 1.5f;
  double p1[2] = {2.0, 3.0};
  int64_t p1Shape[1] = {2};
  abi_pair_result pair;
  int status = abi_pair(p0, p1, p1Shape, &pair);
  printf("pair %d: %g %g %g\n", status, pair.r0, pair.r1_0, pair.r1_1[1]);
  free(pair.r1_1);

  /* The result is the argument: the library hands out a copy. */
  double x[3] = {1.0, 2.0, 3.0};
  int64_t xShape[1] = {3};
  abi_same_result same;
  status = abi_same(x, xShape, &same);
  printf("same %d: copied %d, %g %g\n", status, same.r0 != x, same.r0[2],
         same.r1[2]);
  free(same.r0);
  free(same.r1);

  bool flags[2] = {true, false};
  int64_t flagShape[1] = {2};
  abi_masked_result masked;
  status = abi_masked(flags, flagShape, 7, &masked);
  printf("masked %d: %d %d\n", status, (int)masked.r0[0], (int)masked.r0[1]);
  free(masked.r0);

  /* Shapes that do not fit, a read out of bounds, a null result. */
  int64_t wrong[1] = {4};
  status = abi_dot(x, xShape, x, wrong, NULL);
  printf("null %d: %s\n", status, abi_last_error());
  abi_dot_result dot;
  status = abi_dot(x, xShape, x, wrong, &dot);
  printf("shape %d: %s\n", status, abi_last_error());
  status = abi_dot(x, xShape, x, xShape, &dot);
  printf("dot %d: %g\n", status, dot.r0);
  abi_at_result at;
  status = abi_at(x, xShape, 5, &at);
  printf("at %d: %s\n", status, abi_last_error());
  status = abi_at(x, xShape, 1, &at);
  printf("at %d: %g '%s'\n", status, at.r0, abi_last_error());

  abi_halve_result halve;
  status = abi_halve(x, xShape, 3, &halve);
  printf("halve %d: %g %g, x %g %g\n", status, halve.r0[1], halve.r0[2], x[1],
         x[2]);
  free(halve.r0);
  return 0;
}
