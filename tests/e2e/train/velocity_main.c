/* Velocity-policy test firmware (velocity_case.py): model_learn on the samples of
 * velocity_data.h, then every trained weight printed as "w INDEX HEXFLOAT" for the PyTorch
 * reference to compare. The same source runs on the host and under QEMU. */
#include <stdio.h>

#include "model.h"
#include "velocity_data.h"

static float weights[MODEL_TRAINABLE_PARAMS];

int main(void)
{
  int i, status;
  model_init();
  status = model_learn(kInputs, kLabels, VELOCITY_SAMPLES, VELOCITY_EPOCHS);
  if (status != 0) {
    printf("model_learn failed: %d\n", status);
    return 1;
  }
  model_checkpoint(weights);
  for (i = 0; i < MODEL_TRAINABLE_PARAMS; ++i) {
    printf("w %d %a\n", i, (double)weights[i]);
  }
  printf("loss %a\n", (double)model_last_loss());
  return 0;
}
