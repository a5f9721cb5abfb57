/* odlc runtime: max, average and global average pooling. See odlc_runtime.h. */
#include <math.h>

#include "odlc_runtime.h"

/* Window taps i in [*lo, *hi) with lo_lim <= start + i * d < hi_lim; *lo == *hi when none is.
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

/* ---- Max pooling ------------------------------------------------------------------------- */

/* Max over the nkh x nkw taps (rows `row` apart, columns dw apart) starting at x. */
static float max_window(const float *x, ptrdiff_t row, int32_t dw, int32_t nkh, int32_t nkw)
{
  float acc = -INFINITY;
  for (int32_t i = 0; i < nkh; ++i, x += row) {
    const float *xp = x;
    for (int32_t j = 0; j < nkw; ++j, xp += dw) {
      acc = *xp > acc ? *xp : acc;
    }
  }
  return acc;
}

void odlc_maxpool2d_f32(const odlc_pool2d_params *p, const float *x, float *y)
{
  ptrdiff_t plane = (ptrdiff_t)p->h * p->w;
  ptrdiff_t row = (ptrdiff_t)p->dh * p->w;
  for (int32_t nc = 0; nc < p->n * p->c; ++nc, x += plane) {
    for (int32_t oh = 0; oh < p->oh; ++oh, y += p->ow) {
      int32_t ih = oh * p->sh - p->pad_top;
      int32_t kh0;
      int32_t kh1;
      tap_range(ih, p->dh, p->kh, 0, p->h, &kh0, &kh1);
      const ptrdiff_t row0 = (ptrdiff_t)(ih + kh0 * p->dh) * p->w; /* first valid row */
      for (int32_t ow = 0; ow < p->ow; ++ow) {
        int32_t iw = ow * p->sw - p->pad_left;
        int32_t kw0;
        int32_t kw1;
        tap_range(iw, p->dw, p->kw, 0, p->w, &kw0, &kw1);
        y[ow] = kh1 == kh0 || kw1 == kw0
                    ? -INFINITY /* empty window: not reachable with valid pads */
                    : max_window(x + row0 + iw + kw0 * p->dw, row, p->dw, kh1 - kh0, kw1 - kw0);
      }
    }
  }
}

/* ---- Average pooling --------------------------------------------------------------------- */

/* Sum over the nkh x nkw taps (rows `row` apart, columns dw apart) starting at x. */
static float sum_window(const float *x, ptrdiff_t row, int32_t dw, int32_t nkh, int32_t nkw)
{
  float acc = 0.0f;
  for (int32_t i = 0; i < nkh; ++i, x += row) {
    const float *xp = x;
    for (int32_t j = 0; j < nkw; ++j, xp += dw) {
      acc += *xp;
    }
  }
  return acc;
}

/* Window taps of one axis that count toward the divisor: with count_include_pad those inside
 * [-pad_begin, size + pad_end) (a ceil_mode window running past the padded end is clipped),
 * otherwise the `valid` taps inside the input. */
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

void odlc_avgpool2d_f32(const odlc_pool2d_params *p, const float *x, float *y)
{
  ptrdiff_t plane = (ptrdiff_t)p->h * p->w;
  ptrdiff_t row = (ptrdiff_t)p->dh * p->w;
  for (int32_t nc = 0; nc < p->n * p->c; ++nc, x += plane) {
    for (int32_t oh = 0; oh < p->oh; ++oh, y += p->ow) {
      int32_t ih = oh * p->sh - p->pad_top;
      int32_t kh0;
      int32_t kh1;
      tap_range(ih, p->dh, p->kh, 0, p->h, &kh0, &kh1);
      int32_t rows = divisor_taps(p->count_include_pad, ih, p->kh, p->dh, p->h, p->pad_top,
                                  p->pad_bottom, kh1 - kh0);
      const ptrdiff_t row0 = (ptrdiff_t)(ih + kh0 * p->dh) * p->w; /* first valid row */
      for (int32_t ow = 0; ow < p->ow; ++ow) {
        int32_t iw = ow * p->sw - p->pad_left;
        int32_t kw0;
        int32_t kw1;
        tap_range(iw, p->dw, p->kw, 0, p->w, &kw0, &kw1);
        int32_t cols = divisor_taps(p->count_include_pad, iw, p->kw, p->dw, p->w, p->pad_left,
                                    p->pad_right, kw1 - kw0);
        /* Empty windows are not reachable with valid pads; give 0 rather than NaN. */
        if (kh1 == kh0 || kw1 == kw0 || rows * cols == 0) {
          y[ow] = 0.0f;
          continue;
        }
        float sum = sum_window(x + row0 + iw + kw0 * p->dw, row, p->dw, kh1 - kh0, kw1 - kw0);
        y[ow] = sum / (float)(rows * cols);
      }
    }
  }
}

/* ---- Global average pooling -------------------------------------------------------------- */

/* Four interleaved partial sums: about 4x less worst-case rounding error than one running sum
 * (PyTorch's vectorised sum is also split) and independent adds for pipelined FPUs. */
static float plane_sum(const float *x, int32_t n)
{
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += x[i];
    s1 += x[i + 1];
    s2 += x[i + 2];
    s3 += x[i + 3];
  }
  for (; i < n; ++i) {
    s0 += x[i];
  }
  return (s0 + s1) + (s2 + s3);
}

void odlc_global_avgpool_f32(const odlc_global_avgpool_params *p, const float *x, float *y)
{
  const float count = (float)p->hw;
  for (int32_t i = 0; i < p->nc; ++i, x += p->hw) {
    y[i] = plane_sum(x, p->hw) / count;
  }
}
