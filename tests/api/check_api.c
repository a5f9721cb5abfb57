/* Bad input to the generated training API: every call must return a negative code and change
 * nothing (weights, replay buffer). Built with the example model's generated C. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model.h"

static float inputs[(MODEL_BATCH + 1) * MODEL_INPUT_SIZE];
static int32_t labels[MODEL_BATCH + 1];
static float before[MODEL_TRAINABLE_PARAMS], after[MODEL_TRAINABLE_PARAMS];
static int failures = 0;

/* Runs `rc` (already called) through the checks: negative, weights and replay unchanged. */
static void expect_rejected(const char *what, int rc, int replay_before) {
  int changed;
  model_checkpoint(after);
  changed = memcmp(before, after, sizeof before) != 0 || model_replay_count() != replay_before;
  printf("%-44s rc %3d  %s\n", what, rc, rc < 0 && !changed ? "ok" : "FAILED");
  failures += rc >= 0 || changed;
}

static void fill_valid(void) {
  int i;
  for (i = 0; i < (MODEL_BATCH + 1) * MODEL_INPUT_SIZE; ++i)
    inputs[i] = (float)((i * 37) % 101) / 101.0f - 0.5f;
  for (i = 0; i <= MODEL_BATCH; ++i)
    labels[i] = i % MODEL_NUM_CLASSES;
}

int main(void) {
  float out[MODEL_OUTPUT_SIZE];
  int replay;
  model_init();
  fill_valid();
  /* Put something in the replay buffer and train once, so "unchanged" means something. */
  if (model_remember(inputs, labels, MODEL_BATCH) != 0 || model_train_step(inputs, labels, 2) != 0)
    return 2;
  replay = model_replay_count();
  model_checkpoint(before);

  expect_rejected("train_step: label -1", (labels[1] = -1, model_train_step(inputs, labels, 2)), replay);
  fill_valid();
  expect_rejected("train_step: label == classes",
                  (labels[0] = MODEL_NUM_CLASSES, model_train_step(inputs, labels, 2)), replay);
  fill_valid();
  expect_rejected("train_step: n = 0", model_train_step(inputs, labels, 0), replay);
  expect_rejected("train_step: n = -3", model_train_step(inputs, labels, -3), replay);
  expect_rejected("train_step: n = batch + 1", model_train_step(inputs, labels, MODEL_BATCH + 1), replay);
  expect_rejected("train_step: NULL inputs", model_train_step(NULL, labels, 1), replay);
  expect_rejected("train_step: NULL labels", model_train_step(inputs, NULL, 1), replay);
  expect_rejected("train_step: NaN in the last sample",
                  (inputs[2 * MODEL_INPUT_SIZE - 1] = NAN, model_train_step(inputs, labels, 2)), replay);
  fill_valid();
  expect_rejected("train_step: +inf input", (inputs[5] = INFINITY, model_train_step(inputs, labels, 1)), replay);
  fill_valid();
  expect_rejected("learn: label out of range", (labels[2] = 99, model_learn(inputs, labels, 3, 1)), replay);
  fill_valid();
  expect_rejected("learn: n = 0", model_learn(inputs, labels, 0, 1), replay);
  expect_rejected("learn: epochs = -1", model_learn(inputs, labels, 2, -1), replay);
  expect_rejected("learn: NULL inputs", model_learn(NULL, labels, 2, 1), replay);
  expect_rejected("learn: -inf input", (inputs[MODEL_INPUT_SIZE + 3] = -INFINITY, model_learn(inputs, labels, 2, 1)), replay);
  fill_valid();
  expect_rejected("remember: NaN input", (inputs[0] = NAN, model_remember(inputs, labels, 1)), replay);
  fill_valid();
  expect_rejected("remember: label -5", (labels[0] = -5, model_remember(inputs, labels, 1)), replay);
  fill_valid();
  expect_rejected("restore: NULL", model_restore(NULL), replay);
  after[0] = NAN;
  expect_rejected("restore: NaN weight", model_restore(after), replay);
  expect_rejected("checkpoint: NULL", model_checkpoint(NULL), replay);
  expect_rejected("infer: NULL input", model_infer(NULL, out), replay);
  expect_rejected("infer: NULL output", model_infer(inputs, NULL), replay);

  /* And valid calls still work afterwards. */
  if (model_train_step(inputs, labels, MODEL_BATCH) != 0 || model_learn(inputs, labels, 3, 1) != 0) {
    printf("valid calls failed after the bad ones\n");
    return 1;
  }
  printf("%d failures\n", failures);
  return failures != 0;
}
