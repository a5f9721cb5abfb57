/* odlc runtime: unary, broadcasting binary and per-channel affine kernels. See odlc_runtime.h. */
#include <math.h>

#include "odlc_runtime.h"

/* ---- Unary ------------------------------------------------------------------------------- */

/* Never evaluates exp of a large positive argument, so it cannot overflow. */
static float sigmoid(float v)
{
  if (v >= 0.0f) {
    return 1.0f / (1.0f + expf(-v));
  }
  float e = expf(v);
  return e / (1.0f + e);
}

static float clampf(float v, float lo, float hi)
{
  v = v > lo ? v : lo;
  return v < hi ? v : hi;
}

/* One loop per op keeps the switch out of the element loop. y may equal x. */
void odlc_unary_f32(const odlc_unary_params *p, const float *x, float *y)
{
  const int32_t n = p->size;
  const float a = p->a;
  const float b = p->b;
  int32_t i;
  switch ((odlc_unary_op)p->op) {
  case ODLC_UNARY_RELU:
    for (i = 0; i < n; ++i) {
      y[i] = x[i] > 0.0f ? x[i] : 0.0f;
    }
    return;
  case ODLC_UNARY_CLIP:
    for (i = 0; i < n; ++i) {
      y[i] = clampf(x[i], a, b);
    }
    return;
  case ODLC_UNARY_LEAKY_RELU:
    for (i = 0; i < n; ++i) {
      y[i] = x[i] >= 0.0f ? x[i] : a * x[i];
    }
    return;
  case ODLC_UNARY_SIGMOID:
    for (i = 0; i < n; ++i) {
      y[i] = sigmoid(x[i]);
    }
    return;
  case ODLC_UNARY_HARD_SIGMOID:
    for (i = 0; i < n; ++i) {
      y[i] = clampf(a * x[i] + b, 0.0f, 1.0f);
    }
    return;
  case ODLC_UNARY_HARD_SWISH:
    for (i = 0; i < n; ++i) {
      /* x / 6 + 0.5 written as (x + 3) / 6: no cancellation near x = -3. */
      y[i] = x[i] * (clampf(x[i] + 3.0f, 0.0f, 6.0f) * (1.0f / 6.0f));
    }
    return;
  case ODLC_UNARY_TANH:
    for (i = 0; i < n; ++i) {
      y[i] = tanhf(x[i]);
    }
    return;
  case ODLC_UNARY_NEG:
    for (i = 0; i < n; ++i) {
      y[i] = -x[i];
    }
    return;
  case ODLC_UNARY_EXP:
    for (i = 0; i < n; ++i) {
      y[i] = expf(x[i]);
    }
    return;
  case ODLC_UNARY_SQRT:
    for (i = 0; i < n; ++i) {
      y[i] = sqrtf(x[i]);
    }
    return;
  case ODLC_UNARY_ABS:
    for (i = 0; i < n; ++i) {
      y[i] = fabsf(x[i]);
    }
    return;
  }
}

/* ---- Binary ------------------------------------------------------------------------------ */

/* Row kernel: y[i] = a[i * sa] op b[i * sb], i < n. Strides 1/1, 1/0 and 0/1 get their own
 * loops so the compiler sees unit or zero steps. */
#define ODLC_BINARY_ROW(NAME, EXPR)                                                              \
  static void NAME(const float *a, int32_t sa, const float *b, int32_t sb, float *y,            \
                   int32_t n)                                                                   \
  {                                                                                             \
    int32_t i;                                                                                  \
    if (sa == 1 && sb == 1) {                                                                   \
      for (i = 0; i < n; ++i) {                                                                 \
        float u = a[i], v = b[i];                                                               \
        y[i] = EXPR;                                                                            \
      }                                                                                         \
    } else if (sa == 1 && sb == 0) {                                                            \
      const float v = b[0];                                                                     \
      for (i = 0; i < n; ++i) {                                                                 \
        float u = a[i];                                                                         \
        y[i] = EXPR;                                                                            \
      }                                                                                         \
    } else if (sa == 0 && sb == 1) {                                                            \
      const float u = a[0];                                                                     \
      for (i = 0; i < n; ++i) {                                                                 \
        float v = b[i];                                                                         \
        y[i] = EXPR;                                                                            \
      }                                                                                         \
    } else {                                                                                    \
      for (i = 0; i < n; ++i, a += sa, b += sb) {                                               \
        float u = *a, v = *b;                                                                   \
        y[i] = EXPR;                                                                            \
      }                                                                                         \
    }                                                                                           \
  }

ODLC_BINARY_ROW(row_add, u + v)
ODLC_BINARY_ROW(row_sub, u - v)
ODLC_BINARY_ROW(row_mul, u * v)
ODLC_BINARY_ROW(row_div, u / v)

typedef void (*binary_row_fn)(const float *, int32_t, const float *, int32_t, float *, int32_t);

/* The broadcast iteration space after dropping size-1 dimensions and merging neighbours that
 * are contiguous in both operands, e.g. [1,C,H,W] + [1,C,1,1] becomes [C, H*W] with b strides
 * [1, 0]: the innermost dimension then is as long as possible. */
typedef struct {
  int32_t rank;
  int32_t shape[ODLC_MAX_RANK];
  int32_t sa[ODLC_MAX_RANK];
  int32_t sb[ODLC_MAX_RANK];
} binary_space;

static void binary_space_init(const odlc_binary_params *p, binary_space *s)
{
  s->rank = 0;
  for (int32_t d = 0; d < p->rank; ++d) {
    int32_t n = p->shape[d];
    int32_t r = s->rank;
    if (n == 1) {
      continue;
    }
    if (r > 0 && s->sa[r - 1] == p->a_stride[d] * n && s->sb[r - 1] == p->b_stride[d] * n) {
      s->shape[r - 1] *= n;
      s->sa[r - 1] = p->a_stride[d];
      s->sb[r - 1] = p->b_stride[d];
      continue;
    }
    s->shape[r] = n;
    s->sa[r] = p->a_stride[d];
    s->sb[r] = p->b_stride[d];
    s->rank = r + 1;
  }
  if (s->rank == 0) { /* scalar (or all dimensions of size 1) */
    s->rank = 1;
    s->shape[0] = 1;
    s->sa[0] = 0;
    s->sb[0] = 0;
  }
}

void odlc_binary_f32(const odlc_binary_params *p, const float *a, const float *b, float *y)
{
  static const binary_row_fn rows[] = {row_add, row_sub, row_mul, row_div};
  binary_space s;
  int32_t idx[ODLC_MAX_RANK] = {0};
  ptrdiff_t oa = 0;
  ptrdiff_t ob = 0;
  for (int32_t d = 0; d < p->rank; ++d) {
    if (p->shape[d] <= 0) {
      return; /* empty tensor */
    }
  }
  if (p->op < 0 || p->op > ODLC_BINARY_DIV) {
    return;
  }
  binary_space_init(p, &s);
  const binary_row_fn row = rows[p->op];
  const int32_t last = s.rank - 1;
  const int32_t n = s.shape[last];
  /* Odometer over the outer dimensions; one row kernel call per innermost row. */
  for (;;) {
    row(a + oa, s.sa[last], b + ob, s.sb[last], y, n);
    y += n;
    int32_t d = last - 1;
    for (; d >= 0; --d) {
      oa += s.sa[d];
      ob += s.sb[d];
      if (++idx[d] < s.shape[d]) {
        break;
      }
      oa -= (ptrdiff_t)s.sa[d] * s.shape[d];
      ob -= (ptrdiff_t)s.sb[d] * s.shape[d];
      idx[d] = 0;
    }
    if (d < 0) {
      return;
    }
  }
}

/* ---- Per-channel affine ------------------------------------------------------------------ */

void odlc_channel_affine_f32(const odlc_channel_affine_params *p, const float *x,
                             const float *scale, const float *shift, float *y)
{
  for (int32_t n = 0; n < p->n; ++n) {
    for (int32_t c = 0; c < p->c; ++c) {
      const float s = scale[c];
      const float t = shift[c];
      for (int32_t i = 0; i < p->inner; ++i) {
        y[i] = x[i] * s + t;
      }
      x += p->inner;
      y += p->inner;
    }
  }
}
