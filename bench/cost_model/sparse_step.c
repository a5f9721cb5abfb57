/* Sparse-update savings firmware (tests/e2e/train/sparse_instructions.py): the retired
 * instructions of exactly one SGD step of the compiled tail (the "train" function), as the
 * difference of model_learn over one and over two epochs of MODEL_BATCH cached samples (no
 * replay: one step per epoch; the prefix runs once per sample in both and cancels). Prints
 * `step INSTRUCTIONS`. */
#include <stdio.h>
#include <stdlib.h>

#include "model.h"
#include "odlc_board.h"

static float inputs[MODEL_BATCH * MODEL_INPUT_SIZE];
static int32_t labels[MODEL_BATCH];

static unsigned long long learn(int epochs)
{
  unsigned long long instr;
  model_init();
  board_counter_start();
  if (model_learn(inputs, labels, MODEL_BATCH, epochs) != 0) {
    printf("error: model_learn failed\n");
    exit(1);
  }
  instr = board_instructions();
  return instr;
}

int main(void)
{
  unsigned state = 12345u;
  unsigned long long one, two;
  for (int i = 0; i < MODEL_BATCH * MODEL_INPUT_SIZE; ++i) {
    state = state * 1664525u + 1013904223u;
    inputs[i] = (float)(state >> 8) / 16777216.0f * 2.0f - 1.0f;
  }
  for (int i = 0; i < MODEL_BATCH; ++i)
    labels[i] = i % MODEL_NUM_CLASSES;
  one = learn(1);
  two = learn(2);
  if (two <= one) {
    printf("error: two epochs measured no slower (%llu vs %llu)\n", two, one);
    return 1;
  }
  printf("step %llu\n", two - one);
  return 0;
}
