/* Trains a compiled model with model_train_step and compares it with the PyTorch reference
 * of tests/reference/train_reference.py. The same source runs on the host and under QEMU, where
 * semihosting reads the host's files.
 *
 *   check_training DIR [TOLERANCE [UPDATE_TOLERANCE]]
 *
 * DIR holds train_reference.py's files (meta.txt, tensors.txt, train_inputs.bin,
 * train_labels.bin, losses.bin, weights_before.bin, trajectory.bin, weights_after.bin,
 * update_expected.bin, probes.bin, probes_before.bin, probes_expected.bin). The run:
 *   1. model_init; model_checkpoint must equal weights_before (per tensor, relative 1e-6: the
 *      start weights, BN folding included, are the reference's); model_infer on the probes
 *      before training vs probes_before;
 *   2. bad calls of model_train_step (NULL, n = 0, n > MODEL_BATCH, a label out of range, a NaN
 *      input) must fail with the documented code and change nothing;
 *   3. free-running (one step, momentum, or the reference's noise at most TOLERANCE / 10):
 *      `steps` x model_train_step on `batch` samples each from the start weights;
 *      model_last_loss vs losses.bin; model_checkpoint vs weights_after and the update
 *      (start - end) vs update_expected, per tensor; model_infer on the probes vs
 *      probes_expected;
 *   4. step by step (several steps without momentum, when the reference is chaotic or
 *      free-running fails): for each step k, model_restore the reference's weights before step
 *      k (weights_before or trajectory.bin; model_restore must round-trip exactly), one
 *      model_train_step, then the loss and model_checkpoint vs the reference's weights after
 *      step k; after the last step the probes vs probes_expected;
 *   5. model_init restores the start weights.
 * Error: max |a - r| / max |r| per tensor (weights, update), per sample (outputs), per step
 * (loss |a - r| / |r|). Exit 0 when every gated error is within TOLERANCE (default 1e-3), 1
 * otherwise, 2 on I/O errors or a broken API contract. Gated: the start weights (1e-6), the probes
 * before training, and the results of 3 or 4. The reference's noise (meta.txt: how far PyTorch's
 * own end point moves under rounding-sized perturbations) decides: a chaotic trajectory's end
 * point cannot be compared with another implementation's, so it is checked step by step. The
 * update is gated unless UPDATE_TOLERANCE (default TOLERANCE) is "-". The last line is the
 * summary train.sh parses ("-" for what did not run):
 *   train: before E update E weights E loss E probes_before E probes E steps_weights E
 *          steps_loss E steps_probes E noise E (...): PASS|FAIL
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
static double beforeErr[MAX_TENSORS], afterErr[MAX_TENSORS], updateErr[MAX_TENSORS];
static double stepErr[MAX_TENSORS], stepWorstErr[MAX_TENSORS];
static int tensors;
static const char *dir;
static char path[512];

static const char *file(const char *name) {
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return path;
}

static FILE *openFile(const char *name) {
  FILE *f = fopen(file(name), "rb");
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

static double maxOf(double a, double b) { return b > a || b != b ? b : a; }

static int readMeta(int *steps, int *batch, double *noise, double *momentum) {
  char key[32];
  double value;
  FILE *f = openFile("meta.txt");
  *steps = *batch = -1;
  *noise = *momentum = 0.0;
  if (f == NULL)
    return 2;
  while (fscanf(f, "%31s %lf", key, &value) == 2) {
    if (strcmp(key, "steps") == 0)
      *steps = (int)value;
    else if (strcmp(key, "batch") == 0)
      *batch = (int)value;
    else if (strcmp(key, "noise") == 0)
      *noise = value;
    else if (strcmp(key, "momentum") == 0)
      *momentum = value;
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
  FILE *f = openFile("tensors.txt");
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

/* FNV-1a over the bytes of a checkpoint: the start weights, to check model_init later. */
static uint32_t checkpointHash(const float *w) {
  const unsigned char *p = (const unsigned char *)w;
  uint32_t h = 2166136261u;
  size_t i;
  for (i = 0; i < sizeof(float) * MODEL_TRAINABLE_PARAMS; ++i)
    h = (h ^ p[i]) * 16777619u;
  return h;
}

/* Opens `name` at checkpoint `index` (MODEL_TRAINABLE_PARAMS floats each). */
static FILE *openCheckpoint(const char *name, long index) {
  FILE *f = openFile(name);
  if (f != NULL && index > 0 &&
      fseek(f, index * (long)MODEL_TRAINABLE_PARAMS * (long)sizeof(float), SEEK_SET) != 0) {
    fprintf(stderr, "check_training: cannot seek in %s\n", name);
    fclose(f);
    return NULL;
  }
  return f;
}

/* Per-tensor errors of mine[] (or, when base != NULL, of base[] - mine[]) against checkpoint
 * `index` of file `name`, which must end there when `whole`; the worst goes to *worst. */
static int compareWeights(const char *name, long index, int whole, const float *base,
                          const float *mine, double *perTensor, double *worst) {
  long offset = 0;
  int t;
  FILE *f = openCheckpoint(name, index);
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
    *worst = maxOf(*worst, perTensor[t]);
  }
  if (whole && fgetc(f) != EOF) {
    fprintf(stderr, "check_training: %s is too long\n", name);
    fclose(f);
    return 2;
  }
  fclose(f);
  return 0;
}

static int loadCheckpoint(const char *name, long index, float *out) {
  FILE *f = openCheckpoint(name, index);
  size_t got;
  if (f == NULL)
    return 2;
  got = fread(out, sizeof(float), MODEL_TRAINABLE_PARAMS, f);
  fclose(f);
  if (got != MODEL_TRAINABLE_PARAMS) {
    fprintf(stderr, "check_training: %s has no checkpoint %ld\n", name, index);
    return 2;
  }
  return 0;
}

/* model_infer on every probe vs `reference`; the worst per-sample error goes to *worst. */
static int compareProbes(const char *reference, const char *what, double *worst) {
  FILE *in = openFile("probes.bin"), *ref;
  int samples = 0;
  size_t got;
  if (in == NULL)
    return 2;
  ref = openFile(reference);
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
    *worst = maxOf(*worst, errValue(&e));
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

/* Calls that must fail with their documented code and leave the weights as they were. */
static int checkBadCalls(int batch) {
  struct {
    const char *what;
    const float *in;
    const int32_t *lab;
    int n, want;
  } cases[5];
  int i, k, rc;
  int32_t bad[MODEL_BATCH];
  float keep;
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
    rc = model_train_step(cases[k].in, cases[k].lab, cases[k].n);
    if (rc != cases[k].want) {
      fprintf(stderr, "check_training: model_train_step(%s) returned %d, expected %d\n",
              cases[k].what, rc, cases[k].want);
      return 2;
    }
  }
  keep = inputs[0];
  inputs[0] = NAN;
  rc = model_train_step(inputs, labels, batch);
  inputs[0] = keep;
  if (rc != -4) {
    fprintf(stderr, "check_training: model_train_step(NaN input) returned %d, expected -4\n", rc);
    return 2;
  }
  model_checkpoint(now);
  if (memcmp(now, start, sizeof now) != 0) {
    fprintf(stderr, "check_training: a failing model_train_step changed the weights\n");
    return 2;
  }
  return 0;
}

/* The training files, read step by step. */
typedef struct {
  FILE *in, *lab, *loss;
} Batches;

static int openBatches(Batches *b) {
  b->in = openFile("train_inputs.bin");
  b->lab = openFile("train_labels.bin");
  b->loss = openFile("losses.bin");
  return b->in == NULL || b->lab == NULL || b->loss == NULL ? 2 : 0;
}

static int nextBatch(Batches *b, int batch, int k, float *loss) {
  if (fread(inputs, sizeof(float), (size_t)batch * MODEL_INPUT_SIZE, b->in) !=
          (size_t)batch * MODEL_INPUT_SIZE ||
      fread(labels, sizeof(int32_t), (size_t)batch, b->lab) != (size_t)batch ||
      fread(loss, sizeof(float), 1, b->loss) != 1) {
    fprintf(stderr, "check_training: the training files end before step %d\n", k);
    return 2;
  }
  return 0;
}

static int closeBatches(Batches *b, int steps) {
  int extra = fgetc(b->in) != EOF || fgetc(b->lab) != EOF || fgetc(b->loss) != EOF;
  fclose(b->in);
  fclose(b->lab);
  fclose(b->loss);
  if (extra) {
    fprintf(stderr, "check_training: the training files hold more than %d steps\n", steps);
    return 2;
  }
  return 0;
}

/* One model_train_step on the batch in inputs/labels; the loss's error vs `want`. */
static int trainStep(int batch, int k, float want, const char *what, double *err) {
  int rc = model_train_step(inputs, labels, batch);
  if (rc != 0) {
    fprintf(stderr, "check_training: model_train_step failed with %d at step %d\n", rc, k);
    return 2;
  }
  *err = fabs((double)model_last_loss() - (double)want) / fabs((double)want);
  if (*err != *err)
    *err = INFINITY;
  printf("%s step %d: loss %.6f, reference %.6f, relative error %.3e\n", what, k,
         (double)model_last_loss(), (double)want, *err);
  return 0;
}

/* Free-running training from the start weights (step 3 of the header). */
static int freeRunning(int steps, int batch, double *worstLoss, double *worstAfter,
                       double *worstUpdate, double *probes) {
  Batches b;
  int k, rc;
  *worstLoss = 0.0;
  if ((rc = openBatches(&b)) != 0)
    return rc;
  for (k = 0; k < steps; ++k) {
    float want;
    double err;
    if ((rc = nextBatch(&b, batch, k, &want)) != 0)
      return rc;
    if ((rc = trainStep(batch, k, want, "free-running", &err)) != 0)
      return rc;
    *worstLoss = maxOf(*worstLoss, err);
  }
  if ((rc = closeBatches(&b, steps)) != 0)
    return rc;
  model_checkpoint(now);
  if ((rc = compareWeights("weights_after.bin", 0, 1, NULL, now, afterErr, worstAfter)) != 0 ||
      (rc = compareWeights("update_expected.bin", 0, 1, start, now, updateErr, worstUpdate)) != 0)
    return rc;
  return compareProbes("probes_expected.bin", "free-running", probes);
}

/* checkBadCalls on the first training batch. */
static int badCalls(int batch) {
  Batches b;
  float want;
  int rc = openBatches(&b);
  if (rc == 0)
    rc = nextBatch(&b, batch, 0, &want);
  if (b.in != NULL)
    fclose(b.in);
  if (b.lab != NULL)
    fclose(b.lab);
  if (b.loss != NULL)
    fclose(b.loss);
  return rc != 0 ? rc : checkBadCalls(batch);
}

/* model_restore then model_checkpoint gives back what was restored. */
static int checkRestore(void) {
  int rc = loadCheckpoint("weights_before.bin", 0, now);
  if (rc != 0)
    return rc;
  if (model_restore(now) != 0 || model_checkpoint(start) != 0 ||
      memcmp(start, now, sizeof now) != 0) {
    fprintf(stderr, "check_training: model_checkpoint after model_restore differs\n");
    return 2;
  }
  return 0;
}

/* Each step from the reference's weights before it (step 4 of the header). */
static int stepByStep(int steps, int batch, double *worstWeights, double *worstLoss,
                      double *probes) {
  Batches b;
  int k, t, rc;
  *worstWeights = *worstLoss = 0.0;
  for (t = 0; t < tensors; ++t)
    stepWorstErr[t] = 0.0;
  if ((rc = openBatches(&b)) != 0)
    return rc;
  for (k = 0; k < steps; ++k) {
    float want;
    double err, w;
    if ((rc = nextBatch(&b, batch, k, &want)) != 0)
      return rc;
    rc = k == 0 ? loadCheckpoint("weights_before.bin", 0, now)
                : loadCheckpoint("trajectory.bin", k - 1, now);
    if (rc != 0)
      return rc;
    if (model_restore(now) != 0) {
      fprintf(stderr, "check_training: model_restore failed\n");
      return 2;
    }
    if (k == 0) {
      model_checkpoint(start);
      if (memcmp(start, now, sizeof now) != 0) {
        fprintf(stderr, "check_training: model_checkpoint after model_restore differs\n");
        return 2;
      }
    }
    if ((rc = trainStep(batch, k, want, "step-by-step", &err)) != 0)
      return rc;
    *worstLoss = maxOf(*worstLoss, err);
    model_checkpoint(now);
    rc = k + 1 == steps ? compareWeights("weights_after.bin", 0, 1, NULL, now, stepErr, &w)
                        : compareWeights("trajectory.bin", k, k + 2 == steps, NULL, now, stepErr,
                                         &w);
    if (rc != 0)
      return rc;
    printf("step-by-step step %d: worst tensor %.3e\n", k, w);
    for (t = 0; t < tensors; ++t)
      stepWorstErr[t] = maxOf(stepWorstErr[t], stepErr[t]);
    *worstWeights = maxOf(*worstWeights, w);
  }
  if ((rc = closeBatches(&b, steps)) != 0)
    return rc;
  return compareProbes("probes_expected.bin", "step-by-step", probes);
}

int main(int argc, char **argv) {
  double tolerance = 1e-3, updateTolerance, noise, momentum, worstBefore, probesBefore;
  double freeLoss = 0.0, freeWeights = 0.0, freeUpdate = 0.0, freeProbes = 0.0;
  double stepWeights = 0.0, stepLoss = 0.0, stepProbes = 0.0;
  int gateUpdate = 1, gateFree, freeOk, stepped, steps, batch, t, rc, pass;
  uint32_t startHash;
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
  if ((rc = readMeta(&steps, &batch, &noise, &momentum)) != 0 || (rc = readTensors()) != 0)
    return rc;
  /* One step cannot be chaotic. With momentum, step by step cannot work: model_restore sets
   * the weights, not the velocities. */
  gateFree = steps == 1 || momentum != 0.0 || noise <= tolerance / 10.0;
  printf("check_training: %d steps of %d samples (MODEL_BATCH %d), %d tensors, %d trainable "
         "floats; reference noise %.1e\n", steps, batch, MODEL_BATCH, tensors,
         MODEL_TRAINABLE_PARAMS, noise);
  if (model_init() != 0 || model_checkpoint(start) != 0) {
    fprintf(stderr, "check_training: model_init or model_checkpoint failed\n");
    return 2;
  }
  startHash = checkpointHash(start);
  if ((rc = compareWeights("weights_before.bin", 0, 1, NULL, start, beforeErr, &worstBefore)) !=
          0 ||
      (rc = compareProbes("probes_before.bin", "before training", &probesBefore)) != 0)
    return rc;
  if ((rc = badCalls(batch)) != 0)
    return rc;
  freeOk = 1;
  if (gateFree) {
    rc = freeRunning(steps, batch, &freeLoss, &freeWeights, &freeUpdate, &freeProbes);
    if (rc != 0)
      return rc;
    freeOk = freeWeights <= tolerance && freeLoss <= tolerance && freeProbes <= tolerance &&
             (!gateUpdate || freeUpdate <= updateTolerance);
  }
  /* A chaotic trajectory is checked step by step only; a failing free-running one too, to show
   * the step that goes wrong. */
  stepped = steps > 1 && momentum == 0.0 && (!gateFree || !freeOk);
  if (stepped && (rc = stepByStep(steps, batch, &stepWeights, &stepLoss, &stepProbes)) != 0)
    return rc;
  if (!stepped && (rc = checkRestore()) != 0)
    return rc;
  for (t = 0; t < tensors; ++t) {
    printf("tensor %d %s [%ld]: before %.3e", t, tensorName[t], tensorSize[t], beforeErr[t]);
    if (gateFree)
      printf(", free-running after %.3e, update %.3e", afterErr[t], updateErr[t]);
    if (stepped)
      printf(", step-by-step %.3e", stepWorstErr[t]);
    printf("\n");
  }

  /* model_init puts the compiled weights back. */
  model_init();
  model_checkpoint(now);
  if (checkpointHash(now) != startHash) {
    fprintf(stderr, "check_training: model_init does not restore the start weights\n");
    return 2;
  }

  pass = worstBefore <= START_TOLERANCE && probesBefore <= tolerance &&
         stepWeights <= tolerance && stepLoss <= tolerance && stepProbes <= tolerance && freeOk;
  printf("train: before %.3e ", worstBefore);
  if (gateFree)
    printf("update %.3e weights %.3e loss %.3e ", freeUpdate, freeWeights, freeLoss);
  else
    printf("update - weights - loss - ");
  printf("probes_before %.3e probes ", probesBefore);
  if (gateFree)
    printf("%.3e ", freeProbes);
  else
    printf("- ");
  if (stepped)
    printf("steps_weights %.3e steps_loss %.3e steps_probes %.3e ", stepWeights, stepLoss,
           stepProbes);
  else
    printf("steps_weights - steps_loss - steps_probes - ");
  printf("noise %.3e (tolerance %.1e; %s; update %s): %s\n", noise, tolerance,
         gateFree ? "free-running" : "step by step only: the reference is chaotic (noise > "
                                      "tolerance/10)",
         gateUpdate ? "gated" : "not gated", pass ? "PASS" : "FAIL");
  return pass ? 0 : 1;
}
