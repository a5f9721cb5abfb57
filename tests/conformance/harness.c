/* Generic host harness for the ONNX conformance runner (tests/conformance/conformance.cpp).
 *
 *   run INPUT.bin OUTPUT.bin
 *
 * INPUT.bin holds exactly MODEL_INPUT_SIZE little-endian floats (the model's run-time input);
 * OUTPUT.bin receives MODEL_OUTPUT_SIZE floats (the model's outputs concatenated in graph
 * order). Buffers are heap-allocated at their exact sizes so that AddressSanitizer catches a
 * kernel reading or writing past them. Exit code 0 on success, 2 on an I/O problem, 3 when
 * model_init or model_infer reports an error. */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  FILE *f;
  float *input, *output;
  size_t got;
  int rc;
  if (argc != 3) {
    fprintf(stderr, "usage: %s INPUT.bin OUTPUT.bin\n", argv[0]);
    return 2;
  }
  input = (float *)malloc(sizeof(float) * (MODEL_INPUT_SIZE > 0 ? MODEL_INPUT_SIZE : 1));
  output = (float *)malloc(sizeof(float) * (MODEL_OUTPUT_SIZE > 0 ? MODEL_OUTPUT_SIZE : 1));
  if (input == NULL || output == NULL) {
    fprintf(stderr, "harness: out of memory\n");
    return 2;
  }
  f = fopen(argv[1], "rb");
  if (f == NULL) {
    fprintf(stderr, "harness: cannot open %s\n", argv[1]);
    return 2;
  }
  got = fread(input, sizeof(float), MODEL_INPUT_SIZE, f);
  if (got != (size_t)MODEL_INPUT_SIZE || fgetc(f) != EOF) {
    fprintf(stderr, "harness: %s does not hold exactly %d floats\n", argv[1],
            (int)MODEL_INPUT_SIZE);
    fclose(f);
    return 2;
  }
  fclose(f);
  rc = model_init();
  if (rc != 0) {
    fprintf(stderr, "harness: model_init returned %d\n", rc);
    return 3;
  }
  rc = model_infer(input, output);
  if (rc != 0) {
    fprintf(stderr, "harness: model_infer returned %d\n", rc);
    return 3;
  }
  f = fopen(argv[2], "wb");
  if (f == NULL || fwrite(output, sizeof(float), MODEL_OUTPUT_SIZE, f) !=
                       (size_t)MODEL_OUTPUT_SIZE) {
    fprintf(stderr, "harness: cannot write %s\n", argv[2]);
    return 2;
  }
  fclose(f);
  free(input);
  free(output);
  return 0;
}
