/* odlc runtime: velocity-based dynamic channel selection (NEq, seed 004). See odlc_learn.h. */
#include "odlc_learn.h"

#include <math.h>

void odlc_velocity_begin(odlc_velocity *v, int32_t n)
{
  int32_t l, c;
  v->active_probes = n < v->probes ? n : v->probes;
  v->epochs = 0;
  for (l = 0; l < v->num_layers; ++l) {
    odlc_velocity_layer *layer = &v->layers[l];
    for (c = 0; c < layer->channels; ++c) {
      layer->phi[c] = 0.0f;
      layer->velocity[c] = 0.0f;
    }
  }
}

void odlc_velocity_observe_f32(odlc_velocity *v, int32_t layer_index, const float *y, int32_t n)
{
  const odlc_velocity_layer *layer = &v->layers[layer_index];
  const ptrdiff_t row = (ptrdiff_t)layer->channels * layer->plane;
  int32_t r, c, i;
  for (r = 0; r < n; ++r) {
    const int32_t probe = v->probe_of_row[r];
    if (probe < 0) {
      continue;
    }
    for (c = 0; c < layer->channels; ++c) {
      const float *yc = y + r * row + (ptrdiff_t)c * layer->plane;
      float sum = 0.0f;
      for (i = 0; i < layer->plane; ++i) {
        sum += yc[i];
      }
      layer->signature[(ptrdiff_t)probe * layer->channels + c] = sum / (float)layer->plane;
    }
  }
}

/* 1 - cosine similarity of channel c's signatures this epoch and the one before, as half the
 * squared distance of the two normalized signatures: the same number, without the cancellation
 * of 1 - cos when the outputs barely moved (0 when both are zero, 1 when one is). */
static float distance(const odlc_velocity_layer *layer, int32_t probes, int32_t c)
{
  float now = 0.0f, before = 0.0f, d = 0.0f;
  int32_t p;
  for (p = 0; p < probes; ++p) {
    const float a = layer->signature[(ptrdiff_t)p * layer->channels + c];
    const float b = layer->previous[(ptrdiff_t)p * layer->channels + c];
    now += a * a;
    before += b * b;
  }
  if (!(now > 0.0f) || !(before > 0.0f)) { /* a zero signature: moved fully, or not at all */
    return (now > 0.0f) == (before > 0.0f) ? 0.0f : 1.0f;
  }
  now = 1.0f / sqrtf(now);
  before = 1.0f / sqrtf(before);
  for (p = 0; p < probes; ++p) {
    const float e = layer->signature[(ptrdiff_t)p * layer->channels + c] * now -
                    layer->previous[(ptrdiff_t)p * layer->channels + c] * before;
    d += e * e;
  }
  return 0.5f * d;
}

/* Whether channel c is among selected[0..taken). */
static int is_selected(const odlc_velocity_layer *layer, int32_t taken, int32_t c)
{
  int32_t k;
  for (k = 0; k < taken; ++k) {
    if (layer->selected[k] == c) {
      return 1;
    }
  }
  return 0;
}

/* selected = the count - count / 4 channels of largest |velocity| (ties: lower channel), then
 * count / 4 explored in turn from the cursor; ascending. Repeated passes: count x channels
 * steps and no scratch memory. */
static void select_fastest(odlc_velocity_layer *layer)
{
  const int32_t explore = layer->count / 4, fastest = layer->count - explore;
  int32_t k, c, taken = 0;
  float bound = INFINITY;
  int32_t bound_channel = -1;
  for (k = 0; k < fastest; ++k) {
    int32_t best = -1;
    float best_speed = -1.0f;
    for (c = 0; c < layer->channels; ++c) {
      float speed = fabsf(layer->velocity[c]);
      if (!(speed >= 0.0f)) { /* NaN: never the fastest */
        speed = 0.0f;
      }
      /* after (bound, bound_channel) in the order: speed descending, channel ascending */
      const int tied = !(speed < bound) && !(speed > bound);
      if ((speed < bound || (tied && c > bound_channel)) && speed > best_speed) {
        best = c;
        best_speed = speed;
      }
    }
    bound = best_speed;
    bound_channel = best;
    layer->selected[taken++] = best;
  }
  for (c = layer->cursor; taken < layer->count; c = (c + 1) % layer->channels) {
    if (!is_selected(layer, taken, c)) {
      layer->selected[taken++] = c;
      layer->cursor = (c + 1) % layer->channels;
    }
  }
  for (k = 1; k < taken; ++k) { /* ascending, as the kernels expect (insertion sort) */
    const int32_t value = layer->selected[k];
    int32_t j = k - 1;
    while (j >= 0 && layer->selected[j] > value) {
      layer->selected[j + 1] = layer->selected[j];
      --j;
    }
    layer->selected[j + 1] = value;
  }
}

void odlc_velocity_epoch_end(odlc_velocity *v)
{
  int32_t l, c, i;
  v->epochs += 1;
  if (v->active_probes < 1) {
    return;
  }
  for (l = 0; l < v->num_layers; ++l) {
    odlc_velocity_layer *layer = &v->layers[l];
    const ptrdiff_t values = (ptrdiff_t)v->active_probes * layer->channels;
    if (v->epochs >= 2) {
      for (c = 0; c < layer->channels; ++c) { /* phi holds 1 - phi: see distance() */
        const float d = distance(layer, v->active_probes, c);
        if (v->epochs >= 3) {
          layer->velocity[c] = (layer->phi[c] - d) - v->mu * layer->velocity[c];
        }
        layer->phi[c] = d;
      }
    }
    if (v->epochs >= 3) {
      select_fastest(layer);
    }
    for (i = 0; i < values; ++i) {
      layer->previous[i] = layer->signature[i];
    }
  }
}
