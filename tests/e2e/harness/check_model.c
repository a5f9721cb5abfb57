/* Runs a compiled model on every sample of an input file and compares the outputs with a
 * reference file (both raw little-endian float32, samples concatenated). The same source runs on
 * the host and under QEMU, where semihosting reads the host's files.
 *
 *   check_model INPUT.bin EXPECTED.bin [TOLERANCE]
 *
 * Error of a sample: max_i |y_i - r_i| / max_i |r_i| (relative to the output's scale). Prints
 * one line per sample and a summary; exits 0 when every sample is within TOLERANCE (default
 * 1e-4), 1 otherwise, 2 on I/O errors. Compile with the model's sources and -I OUT. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "model.h"

static float input[MODEL_INPUT_SIZE];
static float output[MODEL_OUTPUT_SIZE];
static float expected[MODEL_OUTPUT_SIZE];

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

int main(int argc, char **argv) {
  FILE *in, *ref;
  double tolerance = 1e-4, worst = 0.0;
  int samples = 0;
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
  while (fread(input, sizeof(float), MODEL_INPUT_SIZE, in) == MODEL_INPUT_SIZE) {
    double err;
    if (fread(expected, sizeof(float), MODEL_OUTPUT_SIZE, ref) != MODEL_OUTPUT_SIZE) {
      fprintf(stderr, "check_model: %s has fewer samples than %s\n", argv[2], argv[1]);
      return 2;
    }
    if (model_infer(input, output) != 0) {
      fprintf(stderr, "check_model: model_infer failed\n");
      return 2;
    }
    err = sampleError();
    printf("sample %d: max relative error %.3e\n", samples, err);
    worst = err > worst ? err : worst;
    ++samples;
  }
  fclose(in);
  fclose(ref);
  if (samples == 0) {
    fprintf(stderr, "check_model: no complete sample in %s\n", argv[1]);
    return 2;
  }
  printf("%d samples, worst relative error %.3e (tolerance %.1e): %s\n", samples, worst,
         tolerance, worst <= tolerance ? "PASS" : "FAIL");
  return worst <= tolerance ? 0 : 1;
}
