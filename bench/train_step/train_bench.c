/* Training-step benchmark firmware: the cost of one SGD step of the tail (latents cached, no
 * replay), of model_train_step (prefix per sample + step), and of one model_learn experience.
 * On the MCU targets the unit is retired instructions (QEMU -icount); on the host nanoseconds
 * (median of several runs).
 *
 *   train_bench EXPERIENCE_SAMPLES EPOCHS
 *
 * Prints `tail_step`, `train_step_api` and `learn_experience` lines with the unit. */
#if defined(ODLC_BOARD_HOST)
#define _POSIX_C_SOURCE 199309L
#include <time.h>
#endif
#include <stdio.h>
#include <stdlib.h>

#include "model.h"
#include "odlc_board.h"

#define MAX_SAMPLES 100

static float inputs[MAX_SAMPLES * MODEL_INPUT_SIZE];
static int32_t labels[MAX_SAMPLES];

static unsigned long long now(void) {
#if defined(ODLC_BOARD_HOST)
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (unsigned long long)t.tv_sec * 1000000000ull + (unsigned long long)t.tv_nsec;
#else
  return (unsigned long long)board_instructions();
#endif
}

static unsigned long long cost_of_learn(int n, int epochs) {
  unsigned long long start;
  model_init();
  board_counter_start();
  start = now();
  if (model_learn(inputs, labels, n, epochs) != 0)
    exit(1);
  return now() - start;
}

static int compare(const void *a, const void *b) {
  unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
  return x < y ? -1 : x > y;
}

/* Median of `runs` measurements of fn(arg). */
static unsigned long long median(unsigned long long (*fn)(int, int), int a, int b, int runs) {
  unsigned long long v[9];
  int i;
  for (i = 0; i < runs; ++i)
    v[i] = fn(a, b);
  qsort(v, (size_t)runs, sizeof v[0], compare);
  return v[runs / 2];
}

static unsigned long long cost_of_train_step(int n, int unused) {
  unsigned long long start;
  (void)unused;
  model_init();
  board_counter_start();
  start = now();
  if (model_train_step(inputs, labels, n) != 0)
    exit(1);
  return now() - start;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : MODEL_BATCH, epochs = argc > 2 ? atoi(argv[2]) : 4, i;
#if defined(ODLC_BOARD_HOST)
  int runs = 7; /* wall time is noisy: median */
  int extra = 200; /* extra epochs: a tiny tail step must dominate the timer's noise */
  const char *unit = "ns";
#else
  int runs = 1; /* retired instructions under QEMU -icount are exact */
  int extra = 10;
  const char *unit = "instructions";
#endif
  unsigned long long one, more;
  unsigned state = 12345u;
  if (n > MAX_SAMPLES)
    return 2;
  for (i = 0; i < MAX_SAMPLES * MODEL_INPUT_SIZE; ++i) {
    state = state * 1664525u + 1013904223u;
    inputs[i] = (float)(state >> 8) / 16777216.0f * 2.0f - 1.0f;
  }
  for (i = 0; i < MAX_SAMPLES; ++i)
    labels[i] = i % MODEL_NUM_CLASSES;
  /* Without a replay buffer, learning MODEL_BATCH cached samples is one step per epoch, so
   * `extra` more epochs cost `extra` tail steps. */
  one = median(cost_of_learn, MODEL_BATCH, 1, runs);
  more = median(cost_of_learn, MODEL_BATCH, 1 + extra, runs);
  if (more <= one) {
    printf("error: %d more epochs measured no slower (%llu vs %llu %s)\n", extra, more, one,
           unit);
    return 1;
  }
  printf("tail_step %llu %s\n", (more - one) / (unsigned long long)extra, unit);
  printf("train_step_api %llu %s\n", median(cost_of_train_step, MODEL_BATCH, 0, runs), unit);
  if (n > 0) /* EXPERIENCE_SAMPLES 0 skips the experience (slow under QEMU) */
    printf("learn_experience %llu %s (%d samples, %d epochs)\n",
           median(cost_of_learn, n, epochs, runs), unit, n, epochs);
  return 0;
}
