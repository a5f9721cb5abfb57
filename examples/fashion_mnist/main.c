/* Example firmware: a Fashion-MNIST CNN pretrained on classes 0-5 learns classes 6-9 on the
 * device, in two experiences (6 and 7, then 8 and 9), with latent replay keeping the old
 * classes. Images come from host files through semihosting (raw uint8, prepared by
 * scripts/run-example.sh), so the same source runs on the host and under QEMU.
 *
 *   fw TRAIN_IMAGES TRAIN_LABELS TEST_IMAGES TEST_LABELS [TEST_COUNT [PER_CLASS [REPLAY_SEED]]]
 *
 * PER_CLASS new samples per class form an experience; REPLAY_SEED samples per old class are
 * offered to the replay buffer first. Prints accuracy on old and new classes before and after
 * each experience, and a machine-readable RESULT line per evaluation. */
#include <stdio.h>
#include <stdlib.h>

#include "model.h"
#include "odlc_board.h"

#define PIXELS 784
#define MEAN 0.2860f /* normalization used in training (train.py) */
#define STD 0.3530f
#define MAX_SAMPLES 80 /* largest experience (or replay-seeding chunk) staged at once */

static const char *const kClassNames[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                            "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                            "Bag",         "Ankle boot"};

static float samples[MAX_SAMPLES * MODEL_INPUT_SIZE];
static int32_t sample_labels[MAX_SAMPLES];

typedef struct {
  FILE *images, *labels;
} Dataset;

static void to_input(const unsigned char *pixels, float *input) {
  int i;
  for (i = 0; i < PIXELS; ++i)
    input[i] = ((float)pixels[i] / 255.0f - MEAN) / STD;
}

/* Loads the first `per_class` samples of each class in [first, last] into samples[]. */
static int load_classes(Dataset *d, int first, int last, int per_class) {
  static unsigned char pixels[PIXELS];
  int taken[10] = {0}, n = 0, label;
  rewind(d->images);
  rewind(d->labels);
  while (n < MAX_SAMPLES && (label = fgetc(d->labels)) != EOF) {
    if (fread(pixels, 1, PIXELS, d->images) != PIXELS)
      break;
    if (label < first || label > last || taken[label] >= per_class)
      continue;
    taken[label] += 1;
    to_input(pixels, samples + (size_t)n * MODEL_INPUT_SIZE);
    sample_labels[n++] = label;
  }
  return n;
}

/* Accuracy over the first `count` test images: old classes 0-5 and each new class. */
static void evaluate(Dataset *test, int count, const char *when, int learned_up_to) {
  static unsigned char pixels[PIXELS];
  static float input[MODEL_INPUT_SIZE], logits[MODEL_OUTPUT_SIZE];
  int seen[10] = {0}, correct[10] = {0}, n, c, label, old_seen = 0, old_correct = 0;
  int new_seen = 0, new_correct = 0;
  rewind(test->images);
  rewind(test->labels);
  for (n = 0; n < count && (label = fgetc(test->labels)) != EOF; ++n) {
    int best = 0;
    if (fread(pixels, 1, PIXELS, test->images) != PIXELS)
      break;
    to_input(pixels, input);
    model_infer(input, logits);
    for (c = 1; c < MODEL_NUM_CLASSES; ++c)
      if (logits[c] > logits[best])
        best = c;
    seen[label] += 1;
    correct[label] += best == label;
  }
  for (c = 0; c < 10; ++c) {
    if (c < 6) {
      old_seen += seen[c];
      old_correct += correct[c];
    } else if (c <= learned_up_to) {
      new_seen += seen[c];
      new_correct += correct[c];
    }
  }
  printf("%-28s old classes 0-5: %5.1f%%", when, 100.0 * old_correct / (old_seen ? old_seen : 1));
  for (c = 6; c < 10; ++c)
    printf("  %d %-10s %5.1f%%", c, kClassNames[c], 100.0 * correct[c] / (seen[c] ? seen[c] : 1));
  printf("\n");
  printf("RESULT %s old=%.4f new=%.4f\n", when, (double)old_correct / (old_seen ? old_seen : 1),
         new_seen ? (double)new_correct / new_seen : 0.0);
}

static int experience(Dataset *train, int first, int last, int per_class) {
  int n = load_classes(train, first, last, per_class), rc;
  unsigned long long instructions;
  board_counter_start();
  rc = model_learn(samples, sample_labels, n, 0);
  instructions = board_instructions();
  printf("learned classes %d-%d from %d samples (rc %d, loss %.3f, replay holds %d)", first,
         last, n, rc, (double)model_last_loss(), model_replay_count());
  if (instructions > 0)
    printf(", %llu instructions", instructions);
  printf("\n");
  return rc;
}

static FILE *open_or_die(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "fw: cannot open %s\n", path);
    exit(2);
  }
  return f;
}

int main(int argc, char **argv) {
  Dataset train, test;
  int test_count, per_class, replay_seed, n;
  if (argc < 5) {
    fprintf(stderr, "usage: fw TRAIN_IMAGES TRAIN_LABELS TEST_IMAGES TEST_LABELS [TEST_COUNT "
                    "[PER_CLASS [REPLAY_SEED]]]\n");
    return 2;
  }
  train.images = open_or_die(argv[1]);
  train.labels = open_or_die(argv[2]);
  test.images = open_or_die(argv[3]);
  test.labels = open_or_die(argv[4]);
  test_count = argc > 5 ? atoi(argv[5]) : 1000;
  per_class = argc > 6 ? atoi(argv[6]) : 30;
  replay_seed = argc > 7 ? atoi(argv[7]) : 10;
  if (per_class * 2 > MAX_SAMPLES || replay_seed > MAX_SAMPLES || model_init() != 0)
    return 2;

  for (n = 0; n < 6; ++n) /* one class at a time: the staging buffer is small */
    if (model_remember(samples, sample_labels, load_classes(&train, n, n, replay_seed)) != 0)
      return 1;
  printf("replay buffer seeded with %d samples of classes 0-5\n", model_replay_count());
  evaluate(&test, test_count, "before learning", 5);
  if (experience(&train, 6, 7, per_class) != 0)
    return 1;
  evaluate(&test, test_count, "after experience 1 (6, 7)", 7);
  if (experience(&train, 8, 9, per_class) != 0)
    return 1;
  evaluate(&test, test_count, "after experience 2 (8, 9)", 9);
  return 0;
}
