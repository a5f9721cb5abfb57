/* Trains a compiled model with model_train_step and compares it with the PyTorch reference
 * of tests/reference/train_reference.py. The same source runs on the host and under QEMU, where
 * semihosting reads the host's files.
 *
 *   check_training DIR [TOLERANCE [UPDATE_TOLERANCE]]
 *
 * DIR holds train_reference.py's files (meta.txt, tensors.txt, train_inputs.bin,
 * train_labels.bin, weights_before.bin, weights_after.bin, update_expected.bin, losses.bin,
 * probes.bin, probes_before.bin, probes_expected.bin). The run:
 *   1. model_init; model_checkpoint must equal weights_before (per tensor, relative 1e-6: the
 *      start weights, BN folding included, are the reference's);
 *   2. model_infer on the probes before training vs probes_before;
 *   3. bad calls of model_train_step (NULL, n = 0, n > MODEL_BATCH, label out of range, a NaN
 *      input) must fail with the documented code and change nothing;
 *   4. `steps` x model_train_step on `batch` samples each; model_last_loss vs losses.bin;
 *   5. model_checkpoint vs weights_after, and the update (checkpoint before - after) vs
 *      update_expected, per tensor;
 *   6. model_infer on the probes vs probes_expected;
 *   7. model_init restores the start weights.
 * Error: max |a - r| / max |r| per tensor (weights, update), per sample (outputs), per step
 * (loss |a - r| / |r|). Exits 0 when every error is within TOLERANCE (default 1e-3) and the update
 * within UPDATE_TOLERANCE (default TOLERANCE; "-" reports it without gating), 1 otherwise, 2 on
 * I/O errors or a broken API contract. The last line is the summary that train.sh parses:
 *   train: before E update E weights E loss E probes_before E probes E (tolerance T, update U): PASS
 * Compile with the model's sources and -I OUT. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

#define MAX_TENSORS 1024
#define NAME_CHARS 80
#define CHUNK 1024
#define START_TOLERANCE 1e-6

static float start[MODEL_TRAINABLE_PARAMS];
static float now[MODEL_TRAINABLE_PARAMS];
static float inputs[MODEL_BATCH * MODEL_INPUT_SIZE];
static int32_t labels[MODEL_BATCH];
static float output[MODEL_OUTPUT_SIZE];
static float expected[MODEL_OUTPUT_SIZE];
static float chunk[CHUNK];
static long tensorSize[MAX_TENSORS];
static char tensorName[MAX_TENSORS][NAME_CHARS];
static int tensors;
static const char *dir;
static char path[512];

static const char *file(const char *name) {
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return path;
}

static FILE *openFile(const char *name, const char *mode) {
  FILE *f = fopen(file(name), mode);
  if (f == NULL)
    fprintf(stderr, "check_training: cannot open %s\n", path);
  return f;
}

/* Relative error of a vs r accumulated over calls: worst |a-r| and worst |r|. */
typedef struct {
  double diff, scale;
  int nonfinite;
} Err;

static void errAdd(Err *e, double a, double r) {
  double d = fabs(a - r);
  if (a != a || r != r || d != d || isinf(a)) {
    e->nonfinite = 1;
    return;
  }
  e->diff = d > e->diff ? d : e->diff;
  e->scale = fabs(r) > e->scale ? fabs(r) : e->scale;
}

static double errValue(const Err *e) {
  if (e->nonfinite)
    return INFINITY;
  return e->scale > 0.0 ? e->diff / e->scale : e->diff;
}

static int readMeta(int *steps, int *batch) {
  char key[32];
  long value;
  FILE *f = openFile("meta.txt", "r");
  *steps = *batch = -1;
  if (f == NULL)
    return 2;
  while (fscanf(f, "%31s %ld", key, &value) == 2) {
    if (strcmp(key, "steps") == 0)
      *steps = (int)value;
    else if (strcmp(key, "batch") == 0)
      *batch = (int)value;
  }
  fclose(f);
  if (*steps < 0 || *batch < 1 || *batch > MODEL_BATCH) {
    fprintf(stderr, "check_training: meta.txt: steps %d, batch %d (MODEL_BATCH %d)\n", *steps,
            *batch, MODEL_BATCH);
    return 2;
  }
  return 0;
}

static int readTensors(void) {
  char line[1024];
  long total = 0;
  FILE *f = openFile("tensors.txt", "r");
  if (f == NULL)
    return 2;
  while (fgets(line, sizeof line, f) != NULL) {
    char *end;
    long n = strtol(line, &end, 10);
    size_t len;
    if (end == line)
      continue;
    if (tensors == MAX_TENSORS || n <= 0) {
      fprintf(stderr, "check_training: tensors.txt: too many tensors or a bad count\n");
      fclose(f);
      return 2;
    }
    while (*end == ' ')
      ++end;
    len = strcspn(end, "\r\n");
    if (len >= NAME_CHARS)
      len = NAME_CHARS - 1;
    memcpy(tensorName[tensors], end, len);
    tensorName[tensors][len] = '\0';
    tensorSize[tensors++] = n;
    total += n;
  }
  fclose(f);
  if (total != MODEL_TRAINABLE_PARAMS) {
    fprintf(stderr, "check_training: the reference has %ld trainable floats, the model %d\n",
            total, MODEL_TRAINABLE_PARAMS);
    return 2;
  }
  return 0;
}

/* Per-tensor errors of mine[] (or, when base != NULL, of base[] - mine[]) against the floats of
 * file `name`; the worst goes to *worst and per-tensor values to perTensor[]. */
static int compareWeights(const char *name, const float *base, const float *mine,
                          double *perTensor, double *worst) {
  long offset = 0;
  int t;
  FILE *f = openFile(name, "rb");
  if (f == NULL)
    return 2;
  *worst = 0.0;
  for (t = 0; t < tensors; ++t) {
    Err e = {0.0, 0.0, 0};
    long left = tensorSize[t];
    while (left > 0) {
      size_t want = left < CHUNK ? (size_t)left : CHUNK, i;
      if (fread(chunk, sizeof(float), want, f) != want) {
        fprintf(stderr, "check_training: %s is too short\n", name);
        fclose(f);
        return 2;
      }
      for (i = 0; i < want; ++i) {
        double a = base != NULL ? (double)base[offset + (long)i] - (double)mine[offset + (long)i]
                                : (double)mine[offset + (long)i];
        errAdd(&e, a, (double)chunk[i]);
      }
      offset += (long)want;
      left -= (long)want;
    }
    perTensor[t] = errValue(&e);
    *worst = perTensor[t] > *worst ? perTensor[t] : *worst;
  }
  if (fgetc(f) != EOF) {
    fprintf(stderr, "check_training: %s is too long\n", name);
    fclose(f);
    return 2;
  }
  fclose(f);
  return 0;
}

static double afterErr[MAX_TENSORS], updateErr[MAX_TENSORS], beforeErr[MAX_TENSORS];

/* model_infer on every probe vs `reference`; the worst per-sample error goes to *worst. */
static int compareProbes(const char *reference, const char *what, double *worst) {
  FILE *in = openFile("probes.bin", "rb"), *ref;
  int samples = 0;
  size_t got;
  if (in == NULL)
    return 2;
  ref = openFile(reference, "rb");
  if (ref == NULL) {
    fclose(in);
    return 2;
  }
  *worst = 0.0;
  while ((got = fread(inputs, sizeof(float), MODEL_INPUT_SIZE, in)) == MODEL_INPUT_SIZE) {
    Err e = {0.0, 0.0, 0};
    int i;
    if (fread(expected, sizeof(float), MODEL_OUTPUT_SIZE, ref) != MODEL_OUTPUT_SIZE) {
      fprintf(stderr, "check_training: %s has fewer samples than probes.bin\n", reference);
      return 2;
    }
    if (model_infer(inputs, output) != 0) {
      fprintf(stderr, "check_training: model_infer failed on probe %d\n", samples);
      return 2;
    }
    for (i = 0; i < MODEL_OUTPUT_SIZE; ++i)
      errAdd(&e, (double)output[i], (double)expected[i]);
    printf("%s probe %d: relative error %.3e\n", what, samples, errValue(&e));
    *worst = errValue(&e) > *worst ? errValue(&e) : *worst;
    ++samples;
  }
  if (got != 0 || fgetc(ref) != EOF || samples == 0) {
    fprintf(stderr, "check_training: probes.bin and %s do not hold the same whole number of "
                    "samples\n", reference);
    return 2;
  }
  fclose(in);
  fclose(ref);
  return 0;
}

/* Calls that must fail with `want` and leave the weights as they were. */
static int checkBadCalls(int batch) {
  struct {
    const char *what;
    const float *in;
    const int32_t *lab;
    int n, want;
  } cases[5];
  int i, k, rc;
  int32_t bad[MODEL_BATCH];
  for (i = 0; i < MODEL_BATCH; ++i)
    bad[i] = labels[i];
  bad[batch - 1] = MODEL_NUM_CLASSES;
  cases[0].what = "NULL inputs", cases[0].in = NULL, cases[0].lab = labels, cases[0].n = batch,
  cases[0].want = -1;
  cases[1].what = "NULL labels", cases[1].in = inputs, cases[1].lab = NULL, cases[1].n = batch,
  cases[1].want = -1;
  cases[2].what = "n = 0", cases[2].in = inputs, cases[2].lab = labels, cases[2].n = 0,
  cases[2].want = -2;
  cases[3].what = "n = MODEL_BATCH + 1", cases[3].in = inputs, cases[3].lab = labels,
  cases[3].n = MODEL_BATCH + 1, cases[3].want = -2;
  cases[4].what = "label = MODEL_NUM_CLASSES", cases[4].in = inputs, cases[4].lab = bad,
  cases[4].n = batch, cases[4].want = -3;
  for (k = 0; k < 5; ++k) {
    int rc = model_train_step(cases[k].in, cases[k].lab, cases[k].n);
    if (rc != cases[k].want) {
      fprintf(stderr, "check_training: model_train_step(%s) returned %d, expected %d\n",
              cases[k].what, rc, cases[k].want);
      return 2;
    }
  }
  {
    float keep = inputs[0];
    inputs[0] = NAN;
    rc = model_train_step(inputs, labels, batch);
    inputs[0] = keep;
    if (rc != -4) {
      fprintf(stderr, "check_training: model_train_step(NaN input) returned %d, expected -4\n",
              rc);
      return 2;
    }
  }
  model_checkpoint(now);
  if (memcmp(now, start, sizeof now) != 0) {
    fprintf(stderr, "check_training: a failing model_train_step changed the weights\n");
    return 2;
  }
  return 0;
}

int main(int argc, char **argv) {
  double tolerance = 1e-3, updateTolerance, worstBefore, worstAfter, worstUpdate, worstLoss = 0.0;
  double probesBefore, probesAfter;
  int gateUpdate = 1, steps, batch, k, t, rc, pass;
  FILE *in, *lab, *loss;
  if (argc < 2) {
    fprintf(stderr, "usage: check_training DIR [TOLERANCE [UPDATE_TOLERANCE|-]]\n");
    return 2;
  }
  dir = argv[1];
  if (argc > 2)
    tolerance = atof(argv[2]);
  updateTolerance = tolerance;
  if (argc > 3) {
    if (strcmp(argv[3], "-") == 0)
      gateUpdate = 0;
    else
      updateTolerance = atof(argv[3]);
  }
  if ((rc = readMeta(&steps, &batch)) != 0 || (rc = readTensors()) != 0)
    return rc;
  printf("check_training: %d steps of %d samples (MODEL_BATCH %d), %d tensors, %d trainable "
         "floats\n", steps, batch, MODEL_BATCH, tensors, MODEL_TRAINABLE_PARAMS);
  if (model_init() != 0) {
    fprintf(stderr, "check_training: model_init failed\n");
    return 2;
  }
  if (model_checkpoint(start) != 0) {
    fprintf(stderr, "check_training: model_checkpoint failed\n");
    return 2;
  }
  if ((rc = compareWeights("weights_before.bin", NULL, start, beforeErr, &worstBefore)) != 0)
    return rc;
  if ((rc = compareProbes("probes_before.bin", "before training", &probesBefore)) != 0)
    return rc;

  in = openFile("train_inputs.bin", "rb");
  lab = openFile("train_labels.bin", "rb");
  loss = openFile("losses.bin", "rb");
  if (in == NULL || lab == NULL || loss == NULL)
    return 2;
  for (k = 0; k < steps; ++k) {
    float want;
    double err;
    if (fread(inputs, sizeof(float), (size_t)batch * MODEL_INPUT_SIZE, in) !=
            (size_t)batch * MODEL_INPUT_SIZE ||
        fread(labels, sizeof(int32_t), (size_t)batch, lab) != (size_t)batch ||
        fread(&want, sizeof(float), 1, loss) != 1) {
      fprintf(stderr, "check_training: the training files end before step %d\n", k);
      return 2;
    }
    if (k == 0 && (rc = checkBadCalls(batch)) != 0)
      return rc;
    if ((rc = model_train_step(inputs, labels, batch)) != 0) {
      fprintf(stderr, "check_training: model_train_step failed with %d at step %d\n", rc, k);
      return 2;
    }
    err = fabs((double)model_last_loss() - (double)want) / fabs((double)want);
    if (err != err)
      err = INFINITY;
    printf("step %d: loss %.6f, reference %.6f, relative error %.3e\n", k,
           (double)model_last_loss(), (double)want, err);
    worstLoss = err > worstLoss ? err : worstLoss;
  }
  if (fgetc(in) != EOF || fgetc(lab) != EOF || fgetc(loss) != EOF) {
    fprintf(stderr, "check_training: the training files hold more than %d steps\n", steps);
    return 2;
  }
  fclose(in);
  fclose(lab);
  fclose(loss);

  model_checkpoint(now);
  if ((rc = compareWeights("weights_after.bin", NULL, now, afterErr, &worstAfter)) != 0 ||
      (rc = compareWeights("update_expected.bin", start, now, updateErr, &worstUpdate)) != 0)
    return rc;
  for (t = 0; t < tensors; ++t)
    printf("tensor %d %s [%ld]: before %.3e, after %.3e, update %.3e\n", t, tensorName[t],
           tensorSize[t], beforeErr[t], afterErr[t], updateErr[t]);
  if ((rc = compareProbes("probes_expected.bin", "after training", &probesAfter)) != 0)
    return rc;

  /* model_init puts the compiled weights back. */
  model_init();
  model_checkpoint(now);
  if (memcmp(now, start, sizeof now) != 0) {
    fprintf(stderr, "check_training: model_init does not restore the start weights\n");
    return 2;
  }

  pass = worstBefore <= START_TOLERANCE && probesBefore <= tolerance && worstLoss <= tolerance &&
         worstAfter <= tolerance && probesAfter <= tolerance &&
         (!gateUpdate || worstUpdate <= updateTolerance);
  printf("train: before %.3e update %.3e weights %.3e loss %.3e probes_before %.3e probes %.3e "
         "(tolerance %.1e, update %s%.1e): %s\n",
         worstBefore, worstUpdate, worstAfter, worstLoss, probesBefore, probesAfter, tolerance,
         gateUpdate ? "" : "not gated, ", updateTolerance, pass ? "PASS" : "FAIL");
  return pass ? 0 : 1;
}
