/* Runs a compiled model on every sample of an input file and compares the outputs with a
 * reference file (both raw little-endian float32, samples concatenated). The same source runs on
 * the host and under QEMU, where semihosting reads the host's files.
 *
 *   check_model INPUT.bin EXPECTED.bin [TOLERANCE]
 *
 * Error of a sample: max_i |y_i - r_i| / max_i |r_i| (relative to the output's scale). Prints
 * one line per sample and a summary; exits 0 when every sample is within TOLERANCE (default
 * 1e-4), 1 otherwise, 2 on I/O errors or a broken API contract. Besides the numbers it checks
 * what the API promises and a numeric comparison cannot see:
 *   - model_infer leaves its (const) input untouched;
 *   - model_infer keeps no state between calls: sample 0 is run again after all the others and
 *     must give a bitwise identical output;
 *   - INPUT.bin and EXPECTED.bin hold the same whole number of samples.
 * Compile with the model's sources and -I OUT. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static float input[MODEL_INPUT_SIZE];
static float output[MODEL_OUTPUT_SIZE];
static float expected[MODEL_OUTPUT_SIZE];
static float firstOutput[MODEL_OUTPUT_SIZE];

static double sampleError(void) {
  double worst = 0.0, scale = 0.0;
  int i;
  for (i = 0; i < MODEL_OUTPUT_SIZE; ++i) {
    double diff = fabs((double)output[i] - (double)expected[i]);
    double mag = fabs((double)expected[i]);
    if (diff != diff || output[i] != output[i])
      return INFINITY;
    worst = diff > worst ? diff : worst;
    scale = mag > scale ? mag : scale;
  }
  return scale > 0.0 ? worst / scale : worst;
}

/* FNV-1a over the bytes of the input buffer: detects a model_infer that writes to its input
 * without keeping a second copy of it (RAM is tight on the MCU boards). */
static uint32_t inputHash(void) {
  const unsigned char *p = (const unsigned char *)input;
  uint32_t h = 2166136261u;
  size_t i;
  for (i = 0; i < sizeof input; ++i)
    h = (h ^ p[i]) * 16777619u;
  return h;
}

/* Runs one inference on `input` into `output`; 0 on success, 2 on a broken contract. */
static int infer(int sample) {
  uint32_t before = inputHash();
  if (model_infer(input, output) != 0) {
    fprintf(stderr, "check_model: model_infer failed on sample %d\n", sample);
    return 2;
  }
  if (inputHash() != before) {
    fprintf(stderr, "check_model: model_infer modified its const input (sample %d)\n", sample);
    return 2;
  }
  return 0;
}

/* 1 when the stream is at its end (no byte left), else 0. */
static int atEnd(FILE *f) { return fgetc(f) == EOF; }

int main(int argc, char **argv) {
  FILE *in, *ref;
  double tolerance = 1e-4, worst = 0.0;
  int samples = 0;
  size_t got;
  if (argc < 3) {
    fprintf(stderr, "usage: check_model INPUT.bin EXPECTED.bin [TOLERANCE]\n");
    return 2;
  }
  if (argc > 3)
    tolerance = atof(argv[3]);
  in = fopen(argv[1], "rb");
  ref = fopen(argv[2], "rb");
  if (in == NULL || ref == NULL) {
    fprintf(stderr, "check_model: cannot open %s\n", in == NULL ? argv[1] : argv[2]);
    return 2;
  }
  if (model_init() != 0) {
    fprintf(stderr, "check_model: model_init failed\n");
    return 2;
  }
  while ((got = fread(input, sizeof(float), MODEL_INPUT_SIZE, in)) == MODEL_INPUT_SIZE) {
    double err;
    if (fread(expected, sizeof(float), MODEL_OUTPUT_SIZE, ref) != MODEL_OUTPUT_SIZE) {
      fprintf(stderr, "check_model: %s has fewer samples than %s\n", argv[2], argv[1]);
      return 2;
    }
    if (infer(samples) != 0)
      return 2;
    if (samples == 0)
      memcpy(firstOutput, output, sizeof output);
    err = sampleError();
    printf("sample %d: max relative error %.3e\n", samples, err);
    worst = err > worst ? err : worst;
    ++samples;
  }
  if (got != 0) {
    fprintf(stderr, "check_model: %s ends with a partial sample (%d floats per sample)\n",
            argv[1], MODEL_INPUT_SIZE);
    return 2;
  }
  if (!atEnd(ref)) {
    fprintf(stderr, "check_model: %s has more samples than %s\n", argv[2], argv[1]);
    return 2;
  }
  if (samples == 0) {
    fprintf(stderr, "check_model: no complete sample in %s\n", argv[1]);
    return 2;
  }
  /* Inference must not depend on earlier calls: rerun sample 0 after all the others. */
  rewind(in);
  if (fread(input, sizeof(float), MODEL_INPUT_SIZE, in) != MODEL_INPUT_SIZE) {
    fprintf(stderr, "check_model: cannot reread %s\n", argv[1]);
    return 2;
  }
  if (infer(0) != 0)
    return 2;
  if (memcmp(firstOutput, output, sizeof output) != 0) {
    fprintf(stderr, "check_model: sample 0 run again after %d samples gives a different output "
                    "(state leaks between model_infer calls)\n", samples);
    return 2;
  }
  fclose(in);
  fclose(ref);
  printf("%d samples, worst relative error %.3e (tolerance %.1e): %s\n", samples, worst,
         tolerance, worst <= tolerance ? "PASS" : "FAIL");
  return worst <= tolerance ? 0 : 1;
}
