/* odlc runtime: softmax and mean reduction. See odlc_runtime.h. */
#include <math.h>

#include "odlc_runtime.h"

/* ---- Softmax ----------------------------------------------------------------------------- */

/* Softmax of the n elements x[0], x[s], ..., x[(n-1)s] into the same positions of y. The max
 * is subtracted before exp so no term overflows; y may equal x. */
static void softmax_strided(const float *x, float *y, int32_t n, ptrdiff_t s)
{
  float mx = x[0];
  float sum = 0.0f;
  ptrdiff_t i;
  const ptrdiff_t end = n * s;
  for (i = s; i < end; i += s) {
    mx = x[i] > mx ? x[i] : mx;
  }
  for (i = 0; i < end; i += s) {
    const float e = expf(x[i] - mx);
    y[i] = e;
    sum += e;
  }
  const float inv = 1.0f / sum;
  for (i = 0; i < end; i += s) {
    y[i] *= inv;
  }
}

void odlc_softmax_f32(const odlc_softmax_params *p, const float *x, float *y)
{
  const ptrdiff_t block = (ptrdiff_t)p->axis * p->inner;
  if (p->axis <= 0) {
    return;
  }
  for (int32_t o = 0; o < p->outer; ++o, x += block, y += block) {
    for (int32_t i = 0; i < p->inner; ++i) {
      softmax_strided(x + i, y + i, p->axis, p->inner);
    }
  }
}

/* ---- Mean reduction ---------------------------------------------------------------------- */

/* Iteration space with size-1 dimensions dropped and neighbours merged where the stride of the
 * outer one equals the inner extent times the inner stride. */
typedef struct {
  int32_t rank;
  int32_t shape[ODLC_MAX_RANK];
  int32_t stride[ODLC_MAX_RANK];
} space;

static void space_init(space *s, int32_t rank, const int32_t *shape, const int32_t *stride)
{
  s->rank = 0;
  for (int32_t d = 0; d < rank; ++d) {
    const int32_t r = s->rank;
    if (shape[d] == 1) {
      continue;
    }
    if (r > 0 && s->stride[r - 1] == stride[d] * shape[d]) {
      s->shape[r - 1] *= shape[d];
      s->stride[r - 1] = stride[d];
      continue;
    }
    s->shape[r] = shape[d];
    s->stride[r] = stride[d];
    s->rank = r + 1;
  }
  if (s->rank == 0) {
    s->rank = 1;
    s->shape[0] = 1;
    s->stride[0] = 0;
  }
}

/* Advances the odometer idx over s by one step, keeping *off = sum idx[d] * stride[d]. Returns 0
 * after the last index (idx and *off are back at zero then). Never touches the innermost
 * dimension, which the caller loops over itself. */
static int space_next(const space *s, int32_t *idx, ptrdiff_t *off)
{
  for (int32_t d = s->rank - 2; d >= 0; --d) {
    *off += s->stride[d];
    if (++idx[d] < s->shape[d]) {
      return 1;
    }
    *off -= (ptrdiff_t)s->stride[d] * s->shape[d];
    idx[d] = 0;
  }
  return 0;
}

/* Sum of n floats st apart. Four interleaved partial sums keep the worst-case rounding error
 * about 4x below one running sum (PyTorch's vectorised sum is also split) and give pipelined
 * FPUs independent adds. */
static float row_sum(const float *x, int32_t n, ptrdiff_t st)
{
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
  int32_t i = 0;
  for (; i + 4 <= n; i += 4, x += 4 * st) {
    s0 += x[0];
    s1 += x[st];
    s2 += x[2 * st];
    s3 += x[3 * st];
  }
  for (; i < n; ++i, x += st) {
    s0 += *x;
  }
  return (s0 + s1) + (s2 + s3);
}

/* Sum of x over the reduction space s (the innermost dimension is the hot loop). */
static float reduce_sum(const space *s, const float *x)
{
  int32_t idx[ODLC_MAX_RANK] = {0};
  ptrdiff_t off = 0;
  const int32_t n = s->shape[s->rank - 1];
  const ptrdiff_t st = s->stride[s->rank - 1];
  float acc = 0.0f;
  do {
    acc += row_sum(x + off, n, st);
  } while (space_next(s, idx, &off));
  return acc;
}

void odlc_reduce_mean_f32(const odlc_reduce_params *p, const float *x, float *y)
{
  space out;
  space red;
  int32_t idx[ODLC_MAX_RANK] = {0};
  ptrdiff_t off = 0;
  int32_t count = 1;
  for (int32_t d = 0; d < p->rank; ++d) {
    if (p->out_shape[d] <= 0) {
      return; /* empty output */
    }
  }
  for (int32_t d = 0; d < p->red_rank; ++d) {
    count *= p->red_shape[d];
  }
  space_init(&out, p->rank, p->out_shape, p->out_stride);
  space_init(&red, p->red_rank, p->red_shape, p->red_stride);
  const float scale_count = (float)count;
  const int32_t n = out.shape[out.rank - 1];
  const int32_t st = out.stride[out.rank - 1];
  do {
    const float *xp = x + off;
    for (int32_t i = 0; i < n; ++i, xp += st) {
      /* count == 0 (empty reduction) gives 0/0 = NaN, like ONNX. */
      *y++ = count > 0 ? reduce_sum(&red, xp) / scale_count : NAN;
    }
  } while (space_next(&out, idx, &off));
}
