/* Calls cuda-compile.lz's library, compiled for --target=cuda, and prints
 * its status and error, or its result. */
#include "scaled.h"

#include <stdio.h>
#include <stdlib.h>

int main(void) {
  double x[3] = {1.0, 2.0, 3.0};
  int64_t shape[1] = {3};
  scaled_scale_result result;
  int status = scaled_scale(x, shape, 2.0, &result);
  if (status != LEIBNIZ_OK) {
    printf("status %d: %s\n", status, scaled_last_error());
    return 1;
  }
  printf("%g %g %g\n", result.r0[0], result.r0[1], result.r0[2]);
  free(result.r0);
  return 0;
}
