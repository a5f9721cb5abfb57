/* odlc runtime: latent replay and the continual-learning loop. See odlc_learn.h. */
#include "odlc_learn.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* ---- Random numbers ---------------------------------------------------------------------- */

static uint32_t next_random(uint32_t *state)
{
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *state = x;
  return x;
}

uint32_t odlc_replay_random(odlc_replay *r, uint32_t bound)
{
  return bound == 0 ? 0u : next_random(&r->rng) % bound;
}

/* ---- Replay buffer ----------------------------------------------------------------------- */

void odlc_replay_reset(odlc_replay *r, uint32_t seed)
{
  int32_t c;
  r->count = 0;
  r->rng = seed != 0 ? seed : 0x9e3779b9u;
  for (c = 0; c < r->num_classes; ++c) {
    r->stored[c] = 0;
    r->seen[c] = 0;
  }
}

/* Writes stored bytes: directly in RAM, through the write hook in flash. */
static void put(const odlc_replay *r, void *dst, const void *src, size_t bytes)
{
  if (r->write != NULL)
    r->write(dst, src, bytes);
  else
    memcpy(dst, src, bytes);
}

static void store(odlc_replay *r, int32_t slot, const float *latent, int32_t label)
{
  const int32_t n = r->latent_size;
  int32_t i;
  r->labels[slot] = label;
  if (r->data_f32 != NULL) {
    put(r, r->data_f32 + (size_t)slot * (size_t)n, latent, (size_t)n * sizeof(float));
    return;
  }
  /* uint8 with a per-sample affine map over the latent's own range */
  {
    float lo = latent[0], hi = latent[0], scale, inverse;
    uint8_t *slot_q = r->data_u8 + (size_t)slot * (size_t)n;
    uint8_t *q = r->write != NULL ? r->stage : slot_q;
    for (i = 1; i < n; ++i) {
      lo = latent[i] < lo ? latent[i] : lo;
      hi = latent[i] > hi ? latent[i] : hi;
    }
    scale = (hi - lo) / 255.0f;
    inverse = scale > 0.0f ? 1.0f / scale : 0.0f;
    for (i = 0; i < n; ++i) {
      float v = (latent[i] - lo) * inverse + 0.5f;
      q[i] = (uint8_t)(v >= 255.0f ? 255.0f : v);
    }
    if (r->write != NULL)
      r->write(slot_q, q, (size_t)n);
    r->scale[slot] = scale;
    r->offset[slot] = lo;
  }
}

void odlc_replay_load(const odlc_replay *r, int32_t slot, float *out)
{
  const int32_t n = r->latent_size;
  int32_t i;
  if (r->data_f32 != NULL) {
    memcpy(out, r->data_f32 + (size_t)slot * (size_t)n, (size_t)n * sizeof(float));
    return;
  }
  {
    const uint8_t *q = r->data_u8 + (size_t)slot * (size_t)n;
    const float scale = r->scale[slot], offset = r->offset[slot];
    for (i = 0; i < n; ++i)
      out[i] = scale * (float)q[i] + offset;
  }
}

/* A uniformly chosen slot holding `label`. */
static int32_t random_slot_of(odlc_replay *r, int32_t label)
{
  int32_t pick = (int32_t)odlc_replay_random(r, (uint32_t)r->stored[label]), slot;
  for (slot = 0; slot < r->count; ++slot) {
    if (r->labels[slot] != label)
      continue;
    if (pick-- == 0)
      return slot;
  }
  return 0;
}

/* Class-balanced reservoir sampling (Chrysakis & Moens, ICML 2020): fill while there is room;
 * then a sample of a class smaller than the largest replaces a random sample of a largest
 * class, and a sample of a largest class replaces a random sample of its own class with
 * probability stored / seen (reservoir sampling within the class). */
void odlc_replay_offer(odlc_replay *r, const float *latent, int32_t label)
{
  int32_t largest = 0, c, victim;
  r->seen[label] += 1;
  if (r->capacity <= 0)
    return;
  if (r->count < r->capacity) {
    store(r, r->count++, latent, label);
    r->stored[label] += 1;
    return;
  }
  for (c = 1; c < r->num_classes; ++c)
    if (r->stored[c] > r->stored[largest])
      largest = c;
  if (r->stored[label] < r->stored[largest]) {
    /* among the largest classes, pick one at random */
    int32_t ties = 0, pick;
    for (c = 0; c < r->num_classes; ++c)
      ties += r->stored[c] == r->stored[largest];
    pick = (int32_t)odlc_replay_random(r, (uint32_t)ties);
    for (c = 0; c < r->num_classes; ++c)
      if (r->stored[c] == r->stored[largest] && pick-- == 0)
        break;
    victim = random_slot_of(r, c);
    r->stored[c] -= 1;
    store(r, victim, latent, label);
    r->stored[label] += 1;
    return;
  }
  if (odlc_replay_random(r, (uint32_t)r->seen[label]) >= (uint32_t)r->stored[label])
    return;
  victim = random_slot_of(r, label);
  store(r, victim, latent, label);
}

/* ---- Learning ---------------------------------------------------------------------------- */

static int all_finite(const float *x, size_t count)
{
  size_t i;
  for (i = 0; i < count; ++i)
    if (!(x[i] - x[i] == 0.0f))
      return 0;
  return 1;
}

int odlc_check_samples(const odlc_learner *l, const float *inputs, const int32_t *labels,
                       int32_t n, int32_t max_n)
{
  int32_t i;
  if (l == NULL || inputs == NULL || labels == NULL)
    return ODLC_ERR_NULL;
  if (n < 1 || (max_n > 0 && n > max_n))
    return ODLC_ERR_COUNT;
  for (i = 0; i < n; ++i)
    if (labels[i] < 0 || labels[i] >= l->num_classes)
      return ODLC_ERR_LABEL;
  if (!all_finite(inputs, (size_t)n * (size_t)l->input_size))
    return ODLC_ERR_NONFINITE;
  return 0;
}

static const float *sample(const odlc_learner *l, const float *inputs, int32_t i)
{
  return inputs + (size_t)i * (size_t)l->input_size;
}

static float *slot(const odlc_learner *l, int32_t k)
{
  return l->latents + (size_t)k * (size_t)l->latent_size;
}

/* Zeroes batch rows k.. so unused rows hold finite values (their loss weight is 0). */
static void clear_rows(const odlc_learner *l, int32_t k)
{
  if (k < l->batch)
    memset(slot(l, k), 0, (size_t)(l->batch - k) * (size_t)l->latent_size * sizeof(float));
}

/* Row k of the batch holds new sample i (-1: a replayed latent): velocity probes are the first
 * new samples of the experience. */
static void set_probe(const odlc_learner *l, int32_t k, int32_t i)
{
  if (l->velocity != NULL) {
    l->velocity->probe_of_row[k] = i >= 0 && i < l->velocity->active_probes ? i : -1;
  }
}

int odlc_train_step(const odlc_learner *l, const float *inputs, const int32_t *labels, int32_t n,
                    float *loss)
{
  int32_t i;
  int status = odlc_check_samples(l, inputs, labels, n, l != NULL ? l->batch : 0);
  if (status != 0)
    return status;
  for (i = 0; i < n; ++i) {
    l->prefix(sample(l, inputs, i), slot(l, i));
    l->labels[i] = labels[i];
    set_probe(l, i, -1); /* a plain step records no signatures */
  }
  clear_rows(l, n);
  *loss = l->train(l->labels, n, NULL);
  return 0;
}

static int32_t gcd(int32_t a, int32_t b)
{
  while (b != 0) {
    int32_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/* Inverse-frequency class weights over the new samples and the replay buffer (seed 001):
 * w_c = C / f_c / sum_j (1 / f_j) over the C classes present. */
static void set_class_weights(const odlc_learner *l, const int32_t *labels, int32_t n)
{
  int32_t c, present = 0;
  float inverse_sum = 0.0f;
  for (c = 0; c < l->num_classes; ++c)
    l->class_count[c] = l->replay->stored[c];
  for (c = 0; c < n; ++c)
    l->class_count[labels[c]] += 1;
  for (c = 0; c < l->num_classes; ++c) {
    if (l->class_count[c] == 0)
      continue;
    present += 1;
    inverse_sum += 1.0f / (float)l->class_count[c];
  }
  for (c = 0; c < l->num_classes; ++c)
    l->class_weight[c] = l->class_count[c] == 0
                             ? 0.0f
                             : (float)present / (float)l->class_count[c] / inverse_sum;
}

/* The latent of new sample i: from the cache when the experience fits it. */
static void new_latent(const odlc_learner *l, const float *inputs, int32_t n, int32_t i,
                       float *out)
{
  if (n <= l->cache_capacity) {
    memcpy(out, l->cache + (size_t)i * (size_t)l->latent_size,
           (size_t)l->latent_size * sizeof(float));
    return;
  }
  l->prefix(sample(l, inputs, i), out);
}

/* One epoch: new samples in the order i -> (a * i + b) mod n, a random permutation that needs
 * no memory, in batches topped up with replayed latents. */
static float run_epoch(const odlc_learner *l, const float *inputs, const int32_t *labels,
                       int32_t n, const float *weights)
{
  odlc_replay *r = l->replay;
  int32_t a = 1, b, done = 0;
  float loss = 0.0f;
  if (n > 1)
    do
      a = 1 + (int32_t)odlc_replay_random(r, (uint32_t)(n - 1));
    while (gcd(a, n) != 1);
  b = (int32_t)odlc_replay_random(r, (uint32_t)n);
  while (done < n) {
    int32_t replayed = r->count > 0 ? l->replay_per_batch : 0;
    int32_t fresh = l->batch - replayed, k = 0, j;
    if (fresh > n - done)
      fresh = n - done;
    for (j = 0; j < fresh; ++j, ++k) {
      int32_t i = (int32_t)(((int64_t)a * (done + j) + b) % n);
      new_latent(l, inputs, n, i, slot(l, k));
      l->labels[k] = labels[i];
      set_probe(l, k, i);
    }
    for (j = 0; j < replayed; ++j, ++k) {
      int32_t s = (int32_t)odlc_replay_random(r, (uint32_t)r->count);
      odlc_replay_load(r, s, slot(l, k));
      l->labels[k] = r->labels[s];
      set_probe(l, k, -1);
    }
    clear_rows(l, k);
    loss = l->train(l->labels, k, weights);
    done += fresh;
  }
  return loss;
}

int odlc_learn(const odlc_learner *l, const float *inputs, const int32_t *labels, int32_t n,
               int32_t epochs, float *loss)
{
  int32_t e, i;
  const float *weights = NULL;
  int status = odlc_check_samples(l, inputs, labels, n, 0);
  if (status != 0)
    return status;
  if (epochs < 1)
    return ODLC_ERR_COUNT;
  if (l->class_weighted) {
    set_class_weights(l, labels, n);
    weights = l->class_weight;
  }
  if (n <= l->cache_capacity)
    for (i = 0; i < n; ++i)
      l->prefix(sample(l, inputs, i), l->cache + (size_t)i * (size_t)l->latent_size);
  if (l->velocity != NULL)
    odlc_velocity_begin(l->velocity, n);
  for (e = 0; e < epochs; ++e) {
    *loss = run_epoch(l, inputs, labels, n, weights);
    if (l->velocity != NULL)
      odlc_velocity_epoch_end(l->velocity);
  }
  for (i = 0; i < n; ++i) {
    new_latent(l, inputs, n, i, slot(l, 0));
    odlc_replay_offer(l->replay, slot(l, 0), labels[i]);
  }
  return 0;
}

int odlc_remember(const odlc_learner *l, const float *inputs, const int32_t *labels, int32_t n)
{
  int32_t i;
  int status = odlc_check_samples(l, inputs, labels, n, 0);
  if (status != 0)
    return status;
  for (i = 0; i < n; ++i) {
    l->prefix(sample(l, inputs, i), slot(l, 0));
    odlc_replay_offer(l->replay, slot(l, 0), labels[i]);
  }
  return 0;
}
