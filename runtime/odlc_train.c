/* odlc runtime: training kernels for elementwise ops, sum reduction, pooling, the loss and
 * utilities. See odlc_train.h for the exact semantics. */
#include <math.h>
#include <string.h>

#include "odlc_train.h"

/* y[0..n) = 0 in two interleaved passes, which compilers do not turn into a memset call: some C
 * libraries' memset stores byte by byte (picolibc on RV32: about 7 instructions per byte). */
static void zero(float *y, ptrdiff_t n)
{
  for (ptrdiff_t i = 0; i < n; i += 2) {
    y[i] = 0.0f;
  }
  for (ptrdiff_t i = 1; i < n; i += 2) {
    y[i] = 0.0f;
  }
}

/* ---- Elementwise ------------------------------------------------------------------------ */

int odlc_unary_backward_saves_output(int32_t op)
{
  switch ((odlc_unary_op)op) {
  case ODLC_UNARY_RELU:
  case ODLC_UNARY_CLIP:
  case ODLC_UNARY_LEAKY_RELU:
  case ODLC_UNARY_SIGMOID:
  case ODLC_UNARY_HARD_SIGMOID:
  case ODLC_UNARY_TANH:
    return 1;
  case ODLC_UNARY_HARD_SWISH:
  case ODLC_UNARY_NEG:
  case ODLC_UNARY_EXP:
  case ODLC_UNARY_SQRT:
  case ODLC_UNARY_ABS:
    return 0;
  }
  return 0;
}

/* One loop per op keeps the switch out of the element loop. The comparisons are written the way
 * PyTorch's backward kernels write them, so the kinks (and NaN) go the same way. dx may equal
 * dy. Ops that are not differentiable here leave dx untouched. */
void odlc_unary_backward_f32(const odlc_unary_params *p, const float *saved, const float *dy,
                             float *dx)
{
  const int32_t n = p->size;
  const float a = p->a;
  const float b = p->b;
  int32_t i;
  switch ((odlc_unary_op)p->op) {
  case ODLC_UNARY_RELU:
    for (i = 0; i < n; ++i) {
      dx[i] = saved[i] <= 0.0f ? 0.0f : dy[i];
    }
    return;
  case ODLC_UNARY_CLIP:
    for (i = 0; i < n; ++i) {
      dx[i] = saved[i] <= a || saved[i] >= b ? 0.0f : dy[i];
    }
    return;
  case ODLC_UNARY_LEAKY_RELU:
    for (i = 0; i < n; ++i) {
      dx[i] = saved[i] > 0.0f ? dy[i] : dy[i] * a;
    }
    return;
  case ODLC_UNARY_SIGMOID:
    for (i = 0; i < n; ++i) {
      dx[i] = dy[i] * (1.0f - saved[i]) * saved[i];
    }
    return;
  case ODLC_UNARY_HARD_SIGMOID:
    for (i = 0; i < n; ++i) {
      dx[i] = saved[i] > 0.0f && saved[i] < 1.0f ? dy[i] * a : 0.0f;
    }
    return;
  case ODLC_UNARY_HARD_SWISH:
    for (i = 0; i < n; ++i) {
      const float x = saved[i];
      dx[i] = x < -3.0f ? 0.0f : x <= 3.0f ? dy[i] * (x / 3.0f + 0.5f) : dy[i];
    }
    return;
  case ODLC_UNARY_TANH:
    for (i = 0; i < n; ++i) {
      dx[i] = dy[i] * (1.0f - saved[i] * saved[i]);
    }
    return;
  case ODLC_UNARY_NEG: /* not differentiable here: dx untouched */
  case ODLC_UNARY_EXP:
  case ODLC_UNARY_SQRT:
  case ODLC_UNARY_ABS:
    return;
  }
}

/* ---- Sum reduction ---------------------------------------------------------------------- */

/* Iteration space with size-1 dimensions dropped and neighbours merged where the stride of the
 * outer one equals the inner extent times the inner stride (as in odlc_reduce.c). */
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

/* Odometer step over every dimension but the innermost; *off follows the index. Returns 0 after
 * the last index. */
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

/* Sum of n floats st apart with four interleaved partial sums (less rounding error, independent
 * adds). */
static float strided_sum(const float *x, int32_t n, ptrdiff_t st)
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

static float space_sum(const space *s, const float *x)
{
  int32_t idx[ODLC_MAX_RANK] = {0};
  ptrdiff_t off = 0;
  float acc = 0.0f;
  do {
    acc += strided_sum(x + off, s->shape[s->rank - 1], s->stride[s->rank - 1]);
  } while (space_next(s, idx, &off));
  return acc;
}

void odlc_reduce_sum_f32(const odlc_reduce_sum_params *p, const float *x, float *y)
{
  const odlc_reduce_params *r = &p->reduce;
  space out;
  space red;
  int32_t idx[ODLC_MAX_RANK] = {0};
  ptrdiff_t off = 0;
  for (int32_t d = 0; d < r->rank; ++d) {
    if (r->out_shape[d] <= 0) {
      return; /* empty output */
    }
  }
  for (int32_t d = 0; d < r->red_rank; ++d) {
    if (r->red_shape[d] <= 0) { /* empty reduction: the sum is 0 */
      int32_t count = 1;
      for (int32_t e = 0; e < r->rank; ++e) {
        count *= r->out_shape[e];
      }
      zero(y, count);
      return;
    }
  }
  space_init(&out, r->rank, r->out_shape, r->out_stride);
  space_init(&red, r->red_rank, r->red_shape, r->red_stride);
  const int32_t n = out.shape[out.rank - 1];
  const ptrdiff_t st = out.stride[out.rank - 1];
  do {
    const float *xp = x + off;
    for (int32_t i = 0; i < n; ++i, xp += st) {
      *y++ = space_sum(&red, xp) * p->scale;
    }
  } while (space_next(&out, idx, &off));
}

/* ---- Pooling ---------------------------------------------------------------------------- */

/* Window taps i in [*lo, *hi) with lo_lim <= start + i * d < hi_lim (as in odlc_pool.c).
 * Called once per output row/column, never per element. */
static void tap_range(int32_t start, int32_t d, int32_t k, int32_t lo_lim, int32_t hi_lim,
                      int32_t *lo, int32_t *hi)
{
  int32_t a = 0;
  int32_t b = k;
  if (start < lo_lim) {
    a = (lo_lim - start + d - 1) / d;
  }
  if (start + (k - 1) * d >= hi_lim) {
    b = hi_lim - start <= 0 ? 0 : (hi_lim - start + d - 1) / d;
  }
  *lo = a;
  *hi = b > a ? b : a;
}

/* Offset (from x) of the first maximum of the nkh x nkw taps, rows `row` apart, columns dw
 * apart, in row-major tap order. NaN never wins, like the forward kernel's comparison. */
static ptrdiff_t argmax_window(const float *x, ptrdiff_t row, int32_t dw, int32_t nkh,
                               int32_t nkw)
{
  float best = -INFINITY;
  ptrdiff_t at = 0;
  for (int32_t i = 0; i < nkh; ++i) {
    for (int32_t j = 0; j < nkw; ++j) {
      const ptrdiff_t o = i * row + (ptrdiff_t)j * dw;
      if (x[o] > best) {
        best = x[o];
        at = o;
      }
    }
  }
  return at;
}

void odlc_maxpool2d_backward_f32(const odlc_pool2d_params *p, const float *x, const float *dy,
                                 float *dx)
{
  const ptrdiff_t plane = (ptrdiff_t)p->h * p->w;
  const ptrdiff_t row = (ptrdiff_t)p->dh * p->w;
  zero(dx, p->n * p->c * plane);
  for (int32_t nc = 0; nc < p->n * p->c; ++nc, x += plane, dx += plane) {
    for (int32_t oh = 0; oh < p->oh; ++oh, dy += p->ow) {
      const int32_t ih = oh * p->sh - p->pad_top;
      int32_t kh0;
      int32_t kh1;
      tap_range(ih, p->dh, p->kh, 0, p->h, &kh0, &kh1);
      const ptrdiff_t row0 = (ptrdiff_t)(ih + kh0 * p->dh) * p->w; /* first valid row */
      for (int32_t ow = 0; ow < p->ow; ++ow) {
        const int32_t iw = ow * p->sw - p->pad_left;
        int32_t kw0;
        int32_t kw1;
        tap_range(iw, p->dw, p->kw, 0, p->w, &kw0, &kw1);
        if (kh1 == kh0 || kw1 == kw0) {
          continue; /* empty window: not reachable with valid pads */
        }
        const ptrdiff_t first = row0 + iw + kw0 * p->dw;
        dx[first + argmax_window(x + first, row, p->dw, kh1 - kh0, kw1 - kw0)] += dy[ow];
      }
    }
  }
}

/* Window taps of one axis that count toward the divisor (as in odlc_pool.c). */
static int32_t divisor_taps(int32_t include_pad, int32_t start, int32_t k, int32_t d,
                            int32_t size, int32_t pad_begin, int32_t pad_end, int32_t valid)
{
  int32_t lo;
  int32_t hi;
  if (!include_pad) {
    return valid;
  }
  tap_range(start, d, k, -pad_begin, size + pad_end, &lo, &hi);
  return hi - lo;
}

/* Adds v to the nkh x nkw taps (rows `row` apart, columns dw apart) starting at dx. */
static void add_window(float *dx, ptrdiff_t row, int32_t dw, int32_t nkh, int32_t nkw, float v)
{
  for (int32_t i = 0; i < nkh; ++i, dx += row) {
    float *xp = dx;
    for (int32_t j = 0; j < nkw; ++j, xp += dw) {
      *xp += v;
    }
  }
}

void odlc_avgpool2d_backward_f32(const odlc_pool2d_params *p, const float *dy, float *dx)
{
  const ptrdiff_t plane = (ptrdiff_t)p->h * p->w;
  const ptrdiff_t row = (ptrdiff_t)p->dh * p->w;
  zero(dx, p->n * p->c * plane);
  for (int32_t nc = 0; nc < p->n * p->c; ++nc, dx += plane) {
    for (int32_t oh = 0; oh < p->oh; ++oh, dy += p->ow) {
      const int32_t ih = oh * p->sh - p->pad_top;
      int32_t kh0;
      int32_t kh1;
      tap_range(ih, p->dh, p->kh, 0, p->h, &kh0, &kh1);
      const int32_t rows = divisor_taps(p->count_include_pad, ih, p->kh, p->dh, p->h,
                                        p->pad_top, p->pad_bottom, kh1 - kh0);
      const ptrdiff_t row0 = (ptrdiff_t)(ih + kh0 * p->dh) * p->w;
      for (int32_t ow = 0; ow < p->ow; ++ow) {
        const int32_t iw = ow * p->sw - p->pad_left;
        int32_t kw0;
        int32_t kw1;
        tap_range(iw, p->dw, p->kw, 0, p->w, &kw0, &kw1);
        const int32_t cols = divisor_taps(p->count_include_pad, iw, p->kw, p->dw, p->w,
                                          p->pad_left, p->pad_right, kw1 - kw0);
        /* The forward writes 0 for (unreachable) empty windows: no gradient. */
        if (kh1 == kh0 || kw1 == kw0 || rows * cols == 0) {
          continue;
        }
        add_window(dx + (row0 + iw + kw0 * p->dw), row, p->dw, kh1 - kh0, kw1 - kw0,
                   dy[ow] / (float)(rows * cols));
      }
    }
  }
}

void odlc_global_avgpool_backward_f32(const odlc_global_avgpool_params *p, const float *dy,
                                      float *dx)
{
  const float count = (float)p->hw;
  for (int32_t i = 0; i < p->nc; ++i, dx += p->hw) {
    odlc_fill_f32(dx, p->hw, dy[i] / count);
  }
}

/* ---- Loss ------------------------------------------------------------------------------- */

float odlc_softmax_xent_f32(const odlc_xent_params *p, int32_t n, const float *z,
                            const int32_t *labels, const float *class_weight, float *dz)
{
  const int32_t k = p->classes;
  float wsum = 0.0f;
  float loss = 0.0f;
  for (int32_t i = 0; i < n; ++i) {
    wsum += class_weight ? class_weight[labels[i]] : 1.0f;
  }
  for (int32_t i = 0; i < n; ++i, z += k, dz += k) {
    const int32_t y = labels[i];
    const float wi = class_weight ? class_weight[y] : 1.0f;
    const float scale = wi / wsum;
    const float zy = z[y]; /* read before dz is written (dz may even be z) */
    int32_t top = 0;       /* first maximum */
    float other = 0.0f;
    for (int32_t j = 1; j < k; ++j) {
      top = z[j] > z[top] ? j : top;
    }
    const float mx = z[top];
    /* exp(z - max) <= 1 cannot overflow. The sum is 1 + other: keeping `other` apart keeps a
     * confident row (other << 1) accurate, through log1p and 1 - p[top] = other / sum. */
    for (int32_t j = 0; j < k; ++j) {
      dz[j] = expf(z[j] - mx);
      other += j == top ? 0.0f : dz[j];
    }
    /* logsumexp(z) - z[y] = log(sum) + (max - z[y]), both terms >= 0. */
    loss += wi * (log1pf(other) + (mx - zy));
    const float inv = 1.0f / (1.0f + other);
    for (int32_t j = 0; j < k; ++j) {
      dz[j] = scale * (dz[j] * inv);
    }
    dz[y] = y == top ? -scale * (other * inv) : dz[y] - scale;
  }
  /* Rows n..batch-1 hold garbage logits: never read, zero gradient. */
  zero(dz, (ptrdiff_t)(p->batch - n) * k);
  return loss / wsum;
}

/* ---- Utilities -------------------------------------------------------------------------- */

void odlc_fill_f32(float *y, int32_t count, float value)
{
  for (int32_t i = 0; i < count; ++i) {
    y[i] = value;
  }
}

/* Tests the exponent bits, so it also works under -ffinite-math-only. */
int odlc_all_finite_f32(const float *x, int32_t count)
{
  for (int32_t i = 0; i < count; ++i) {
    uint32_t u;
    memcpy(&u, &x[i], sizeof u);
    if ((u & 0x7f800000u) == 0x7f800000u) {
      return 0;
    }
  }
  return 1;
}
