/* Calls the library that `leibniz compile` makes of signal.lz:
 *
 *   leibniz compile --checks signal.lz -o libsignal.so
 *   cc main.c -I. -L. -lsignal -Wl,-rpath,. -o main && ./main
 *
 * or, as one object file to link into the program:
 *
 *   leibniz compile --checks signal.lz -o signal.o
 *   cc main.c signal.o -lstdc++ -lm -o main && ./main
 *
 * --checks makes the library check reads and sizes at run time and return
 * LEIBNIZ_ERROR_CHECK when one fails; without it, such a call is undefined.
 */
#include "signal.h"

#include <stdio.h>
#include <stdlib.h>

int main(void) {
  double x[6] = {1.0, 4.0, 2.0, 8.0, 5.0, 7.0};
  int64_t xShape[1] = {6};

  signal_standardize_result z;
  if (signal_standardize(x, xShape, &z) != LEIBNIZ_OK) {
    fprintf(stderr, "%s\n", signal_last_error());
    return 1;
  }
  printf("mean %.4f, sd %.4f, z:", z.r0, z.r1);
  for (int64_t i = 0; i < z.r2_shape[0]; ++i)
    printf(" %.4f", z.r2[i]);
  printf("\n");
  free(z.r2);

  double window[3] = {1.0, 2.0, 1.0};
  int64_t windowShape[1] = {3};
  signal_smooth_result s;
  if (signal_smooth(x, xShape, window, windowShape, &s) != LEIBNIZ_OK) {
    fprintf(stderr, "%s\n", signal_last_error());
    return 1;
  }
  printf("smoothed:");
  for (int64_t i = 0; i < s.r0_shape[0]; ++i)
    printf(" %.4f", s.r0[i]);
  printf("\n");
  free(s.r0);

  /* A window longer than the signal makes the result's size n - w + 1
     negative, which the library reports instead of computing. */
  double wide[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  int64_t wideShape[1] = {8};
  int status = signal_smooth(x, xShape, wide, wideShape, &s);
  printf("status %d: %s\n", status, signal_last_error());
  return 0;
}
