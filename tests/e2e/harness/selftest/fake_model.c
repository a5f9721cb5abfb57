/* A fake model with switchable bugs, for testing that check_model.c catches each of them
 * (e2e.sh harness). output = {x0 + x1, x2 - x3, x0 * x3}; e2e.sh writes probes whose reference
 * outputs all have scale max|r| = 8.
 *   -DBUG_OFFSET        output[0] off by 2e-4 of the output's scale
 *   -DBUG_NAN           output[1] is NaN
 *   -DBUG_WRITES_INPUT  writes to its const input
 *   -DBUG_STATE         output depends on the number of earlier calls
 *   -DBUG_FAILS         model_infer returns -1
 *   -DBUG_OVERFLOW      writes one float past the output (host: AddressSanitizer)
 *   -DBUG_UB            signed integer overflow (host: UndefinedBehaviorSanitizer) */
#include <limits.h>
#include <math.h>

#include "model.h"

#ifdef BUG_STATE
static int calls;
#endif

int model_init(void) { return 0; }

int model_infer(const float *input, float *output) {
  output[0] = input[0] + input[1];
  output[1] = input[2] - input[3];
  output[2] = input[0] * input[3];
#ifdef BUG_OFFSET
  output[0] += 2e-4f * 8.0f; /* the reference outputs' scale is 8 */
#endif
#ifdef BUG_NAN
  output[1] = nanf("");
#endif
#ifdef BUG_WRITES_INPUT
  ((float *)input)[2] = 0.0f;
#endif
#ifdef BUG_STATE
  output[2] += (float)(calls++) * 1e-5f; /* far inside the tolerance */
#endif
#ifdef BUG_OVERFLOW
  output[MODEL_OUTPUT_SIZE] = 0.0f;
#endif
#ifdef BUG_UB
  {
    volatile int big = INT_MAX;
    output[0] += (float)(big + 1);
  }
#endif
#ifdef BUG_FAILS
  return -1;
#endif
  return 0;
}
