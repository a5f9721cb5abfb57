/* odlc explore --data: the host program that measures one configuration's accuracy. odlc
 * embeds this file, compiles it with the generated C of one (cut, p) point and runs it in a
 * temporary directory that odlc filled with the class-incremental split:
 *
 *   seed.img/seed.lbl  old-class samples offered to the replay buffer before learning
 *   exp1.img/exp1.lbl  the first experience (new classes), in dataset order
 *   exp2.img/exp2.lbl  the second experience
 *   test.img/test.lbl  the test images
 *
 * Images are raw uint8 (IMAGE_SIZE bytes each, the idx header stripped), labels one byte each.
 *
 *   harness DIR MEAN STD FIRST_NEW BEFORE
 *
 * Pixels become (p / 255 - MEAN) / STD. Classes below FIRST_NEW are old, the rest new. With
 * BEFORE = 1 it also evaluates the model before learning. Prints machine-readable lines:
 *
 *   RESULT before old=X all=X
 *   RESULT learn experience=K rc=R loss=X replay=N
 *   RESULT after old=X new=X all=X
 *
 * and exits 0, or non-zero with a message on stderr. Host only: it uses stdio and malloc, which
 * the generated code itself never does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

#define CLASSES 10

typedef struct {
  int count;
  float *inputs;  /* count * MODEL_INPUT_SIZE */
  int32_t *labels; /* count */
} Split;

static void die(const char *what, const char *path) {
  fprintf(stderr, "harness: %s %s\n", what, path);
  exit(2);
}

/* Reads DIR/NAME.lbl and DIR/NAME.img, normalizing the pixels. */
static Split load(const char *dir, const char *name, float mean, float std) {
  char path[4096];
  Split s;
  FILE *f;
  long bytes;
  unsigned char *raw;
  size_t pixels = MODEL_INPUT_SIZE, i;
  snprintf(path, sizeof path, "%s/%s.lbl", dir, name);
  f = fopen(path, "rb");
  if (f == NULL)
    die("cannot open", path);
  fseek(f, 0, SEEK_END);
  bytes = ftell(f);
  rewind(f);
  s.count = (int)bytes;
  s.labels = (int32_t *)malloc(sizeof(int32_t) * (size_t)(s.count > 0 ? s.count : 1));
  s.inputs = (float *)malloc(sizeof(float) * pixels * (size_t)(s.count > 0 ? s.count : 1));
  raw = (unsigned char *)malloc(pixels * (size_t)(s.count > 0 ? s.count : 1));
  if (s.labels == NULL || s.inputs == NULL || raw == NULL)
    die("out of memory reading", path);
  if (fread(raw, 1, (size_t)s.count, f) != (size_t)s.count)
    die("cannot read", path);
  fclose(f);
  for (i = 0; i < (size_t)s.count; ++i)
    s.labels[i] = raw[i];
  snprintf(path, sizeof path, "%s/%s.img", dir, name);
  f = fopen(path, "rb");
  if (f == NULL)
    die("cannot open", path);
  if (fread(raw, 1, pixels * (size_t)s.count, f) != pixels * (size_t)s.count)
    die("cannot read", path);
  fclose(f);
  for (i = 0; i < pixels * (size_t)s.count; ++i)
    s.inputs[i] = ((float)raw[i] / 255.0f - mean) / std;
  free(raw);
  return s;
}

/* Accuracy on the test split: old classes, new classes, all. */
static void evaluate(const Split *test, int first_new, double *old_acc, double *new_acc,
                     double *all_acc) {
  static float logits[MODEL_OUTPUT_SIZE];
  int seen[CLASSES] = {0}, correct[CLASSES] = {0}, i, c;
  int old_seen = 0, old_correct = 0, new_seen = 0, new_correct = 0;
  for (i = 0; i < test->count; ++i) {
    int best = 0, label = test->labels[i];
    if (model_infer(test->inputs + (size_t)i * MODEL_INPUT_SIZE, logits) != 0)
      die("model_infer failed on", "a test image");
    for (c = 1; c < MODEL_OUTPUT_SIZE; ++c)
      if (logits[c] > logits[best])
        best = c;
    seen[label] += 1;
    correct[label] += best == label;
  }
  for (c = 0; c < CLASSES; ++c) {
    if (c < first_new) {
      old_seen += seen[c];
      old_correct += correct[c];
    } else {
      new_seen += seen[c];
      new_correct += correct[c];
    }
  }
  *old_acc = old_seen ? (double)old_correct / old_seen : 0.0;
  *new_acc = new_seen ? (double)new_correct / new_seen : 0.0;
  *all_acc = test->count ? (double)(old_correct + new_correct) / test->count : 0.0;
}

static int experience(const char *dir, const char *name, int k, float mean, float std) {
  Split s = load(dir, name, mean, std);
  int rc = s.count > 0 ? model_learn(s.inputs, s.labels, s.count, 0) : 0;
  printf("RESULT learn experience=%d samples=%d rc=%d loss=%.6f replay=%d\n", k, s.count, rc,
         (double)model_last_loss(), model_replay_count());
  if (rc != 0)
    fprintf(stderr, "harness: model_learn returned %d on experience %d\n", rc, k);
  free(s.inputs);
  free(s.labels);
  return rc;
}

int main(int argc, char **argv) {
  const char *dir;
  float mean, std;
  int first_new, before;
  double old_acc, new_acc, all_acc;
  Split seed, test;
  if (argc != 6) {
    fprintf(stderr, "usage: harness DIR MEAN STD FIRST_NEW BEFORE\n");
    return 2;
  }
  dir = argv[1];
  mean = (float)atof(argv[2]);
  std = (float)atof(argv[3]);
  first_new = atoi(argv[4]);
  before = atoi(argv[5]);
  if (model_init() != 0)
    die("model_init failed", "");
  test = load(dir, "test", mean, std);
  seed = load(dir, "seed", mean, std);
  if (seed.count > 0 && model_remember(seed.inputs, seed.labels, seed.count) != 0)
    die("model_remember failed on", "the replay seed");
  free(seed.inputs);
  free(seed.labels);
  if (before) {
    evaluate(&test, first_new, &old_acc, &new_acc, &all_acc);
    printf("RESULT before old=%.6f all=%.6f\n", old_acc, all_acc);
  }
  if (experience(dir, "exp1", 1, mean, std) != 0 || experience(dir, "exp2", 2, mean, std) != 0)
    return 1;
  evaluate(&test, first_new, &old_acc, &new_acc, &all_acc);
  printf("RESULT after old=%.6f new=%.6f all=%.6f\n", old_acc, new_acc, all_acc);
  return 0;
}
