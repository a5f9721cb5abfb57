/* Example firmware: classifies Fashion-MNIST test images with the odlc-compiled model and prints
 * accuracy per class. Images and labels come from host files through semihosting (raw uint8,
 * prepared by scripts/run-example.sh), so the same source runs on the host and under QEMU.
 *
 *   fw IMAGES.u8 LABELS.u8 COUNT */
#include <stdio.h>
#include <stdlib.h>

#include "model.h"
#include "odlc_board.h"

#define PIXELS 784
#define MEAN 0.2860f /* normalization used in training (train.py) */
#define STD 0.3530f

static const char *const kClassNames[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                            "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                            "Bag",         "Ankle boot"};

static int argmax(const float *v, int n) {
  int best = 0, i;
  for (i = 1; i < n; ++i)
    if (v[i] > v[best])
      best = i;
  return best;
}

int main(int argc, char **argv) {
  static unsigned char pixels[PIXELS];
  static float input[MODEL_INPUT_SIZE], logits[MODEL_OUTPUT_SIZE];
  int seen[10] = {0}, correct[10] = {0}, count, n, i;
  unsigned long long instructions = 0;
  FILE *images, *labels;
  if (argc < 4) {
    fprintf(stderr, "usage: fw IMAGES.u8 LABELS.u8 COUNT\n");
    return 2;
  }
  images = fopen(argv[1], "rb");
  labels = fopen(argv[2], "rb");
  count = atoi(argv[3]);
  if (images == NULL || labels == NULL || model_init() != 0) {
    fprintf(stderr, "fw: cannot open the data files\n");
    return 2;
  }
  for (n = 0; n < count; ++n) {
    int label = fgetc(labels), predicted;
    if (label == EOF || fread(pixels, 1, PIXELS, images) != PIXELS)
      break;
    for (i = 0; i < PIXELS; ++i)
      input[i] = ((float)pixels[i] / 255.0f - MEAN) / STD;
    board_counter_start();
    if (model_infer(input, logits) != 0)
      return 1;
    instructions += board_instructions();
    predicted = argmax(logits, MODEL_NUM_CLASSES);
    if (n < 5)
      printf("image %d: predicted %-11s (label %s)\n", n, kClassNames[predicted],
             kClassNames[label]);
    seen[label] += 1;
    correct[label] += predicted == label;
  }
  printf("\n%-12s %6s %8s\n", "class", "images", "accuracy");
  for (i = 0; i < 10; ++i)
    printf("%d %-10s %6d %7.1f%%\n", i, kClassNames[i], seen[i],
           seen[i] ? 100.0 * correct[i] / seen[i] : 0.0);
  {
    int oldSeen = 0, oldCorrect = 0;
    for (i = 0; i < 6; ++i) {
      oldSeen += seen[i];
      oldCorrect += correct[i];
    }
    printf("classes 0-5 (pretrained): %.1f%% of %d images\n",
           oldSeen ? 100.0 * oldCorrect / oldSeen : 0.0, oldSeen);
  }
  if (instructions > 0 && n > 0)
    printf("\n%llu instructions per inference (%s)\n", instructions / (unsigned long long)n,
           board_name());
  return 0;
}
