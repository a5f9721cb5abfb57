/* odlc runtime: 2-D convolution. See odlc_runtime.h for the exact semantics. */
#include "odlc_runtime.h"

/* ---- Geometry helpers (called once per output row/column, never per MAC) ---------------- */

/* Kernel taps i in [*lo, *hi) with 0 <= start + i * d < limit; *lo == *hi when none is. */
static void tap_range(int32_t start, int32_t d, int32_t k, int32_t limit, int32_t *lo,
                      int32_t *hi)
{
  int32_t a = 0;
  int32_t b = k;
  if (start < 0) {
    a = (-start + d - 1) / d;
  }
  if (start + (k - 1) * d >= limit) {
    b = limit - start <= 0 ? 0 : (limit - start + d - 1) / d;
  }
  *lo = a;
  *hi = b > a ? b : a;
}

/* Outputs o in [*lo, *hi) whose whole window o * s - pad + [0, span) lies inside [0, size). */
static void interior_range(int32_t pad, int32_t s, int32_t span, int32_t size, int32_t n_out,
                           int32_t *lo, int32_t *hi)
{
  int32_t a = pad > 0 ? (pad + s - 1) / s : 0;
  int32_t room = size - span + pad; /* need o * s <= room */
  int32_t b = room < 0 ? 0 : room / s + 1;
  *lo = a < n_out ? a : n_out;
  *hi = b < n_out ? b : n_out;
  if (*hi < *lo) {
    *hi = *lo;
  }
}

static void fill(float *y, int32_t n, float v)
{
  for (int32_t i = 0; i < n; ++i) {
    y[i] = v;
  }
}

/* ---- General case ----------------------------------------------------------------------- */

/* Constant strides of one conv2d call. */
typedef struct {
  int32_t cpg;      /* input channels per group */
  ptrdiff_t x_chan; /* h * w */
  ptrdiff_t x_row;  /* dh * w: input step between kernel rows */
  int32_t w_chan;   /* kh * kw */
  ptrdiff_t w_m;    /* cpg * kh * kw: weights of consecutive output channels */
  ptrdiff_t y_m;    /* oh * ow: output planes of consecutive output channels */
  int32_t kw, dw;
  int32_t step; /* sw: input step between neighbouring output columns */
} conv_geom;

/* One output row of one output channel, or of two consecutive channels of the same group that
 * share every input load. */
typedef struct {
  int32_t nch;    /* 1 or 2 */
  const float *w; /* first channel's weights at the first valid kernel row */
  float b0, b1;
  float *y; /* first channel's output row; the second channel's is g->y_m further */
} conv_out;

/* bias + dot product of one output pixel over all channels of its group and the nkh x nkw
 * valid taps. x and w point at the first valid tap of channel 0. */
static float conv_window(const conv_geom *g, const float *x, const float *w, int32_t nkh,
                         int32_t nkw, float acc)
{
  for (int32_t ci = 0; ci < g->cpg; ++ci) {
    const float *xr = x;
    const float *wr = w;
    for (int32_t i = 0; i < nkh; ++i) {
      const float *xp = xr;
      for (int32_t j = 0; j < nkw; ++j) {
        acc += wr[j] * *xp;
        xp += g->dw;
      }
      xr += g->x_row;
      wr += g->kw;
    }
    x += g->x_chan;
    w += g->w_chan;
  }
  return acc;
}

/* Four adjacent output pixels with the full kernel width: each weight load feeds four MACs,
 * the sums stay in registers. x points at the first pixel's first valid tap. */
static void conv_block4(const conv_geom *g, const float *x, const float *w, int32_t nkh,
                        float bias, float *y)
{
  const ptrdiff_t s = g->step;
  float a0 = bias, a1 = bias, a2 = bias, a3 = bias;
  for (int32_t ci = 0; ci < g->cpg; ++ci, x += g->x_chan, w += g->w_chan) {
    const float *xr = x;
    const float *wr = w;
    for (int32_t i = 0; i < nkh; ++i, xr += g->x_row, wr += g->kw) {
      const float *xp = xr;
      for (int32_t j = 0; j < g->kw; ++j, xp += g->dw) {
        const float u = wr[j];
        a0 += u * xp[0];
        a1 += u * xp[s];
        a2 += u * xp[2 * s];
        a3 += u * xp[3 * s];
      }
    }
  }
  y[0] = a0;
  y[1] = a1;
  y[2] = a2;
  y[3] = a3;
}

/* conv_block4 for two output channels at once: every input load feeds two MACs. */
static void conv_block4x2(const conv_geom *g, const float *x, const float *w, int32_t nkh,
                          float b0, float b1, float *y0, float *y1)
{
  const ptrdiff_t s = g->step;
  float a0 = b0, a1 = b0, a2 = b0, a3 = b0;
  float c0 = b1, c1 = b1, c2 = b1, c3 = b1;
  for (int32_t ci = 0; ci < g->cpg; ++ci, x += g->x_chan, w += g->w_chan) {
    const float *xr = x;
    const float *wu = w;
    const float *wv = w + g->w_m;
    for (int32_t i = 0; i < nkh; ++i, xr += g->x_row, wu += g->kw, wv += g->kw) {
      const float *xp = xr;
      for (int32_t j = 0; j < g->kw; ++j, xp += g->dw) {
        const float x0 = xp[0], x1 = xp[s], x2 = xp[2 * s], x3 = xp[3 * s];
        const float u = wu[j];
        const float v = wv[j];
        a0 += u * x0;
        a1 += u * x1;
        a2 += u * x2;
        a3 += u * x3;
        c0 += v * x0;
        c1 += v * x1;
        c2 += v * x2;
        c3 += v * x3;
      }
    }
  }
  y0[0] = a0;
  y0[1] = a1;
  y0[2] = a2;
  y0[3] = a3;
  y1[0] = c0;
  y1[1] = c1;
  y1[2] = c2;
  y1[3] = c3;
}

/* All output columns of one row. Columns inside [ow_lo, ow_hi) have the full kernel width and
 * go four at a time (a last partial block is shifted left to overlap its predecessor,
 * recomputing a few outputs, rather than falling back to single pixels). The few border
 * columns compute their valid tap range. xrow points at the input row of the first valid
 * kernel row. */
static void conv_cols(const odlc_conv2d_params *p, const conv_geom *g, const float *xrow,
                      const conv_out *o, int32_t nkh, int32_t ow_lo, int32_t ow_hi)
{
  int32_t ow = 0;
  while (ow < p->ow) {
    if (ow >= ow_lo && ow < ow_hi) {
      const int32_t start = ow + 4 <= ow_hi ? ow : ow_hi - 4;
      if (start >= ow_lo) {
        const float *xp = xrow + start * p->sw - p->pad_left;
        if (o->nch == 2) {
          conv_block4x2(g, xp, o->w, nkh, o->b0, o->b1, o->y + start, o->y + g->y_m + start);
        } else {
          conv_block4(g, xp, o->w, nkh, o->b0, o->y + start);
        }
        ow = start + 4;
        continue;
      }
    }
    const int32_t iw = ow * p->sw - p->pad_left;
    int32_t kw0 = 0;
    int32_t kw1 = p->kw;
    if (ow < ow_lo || ow >= ow_hi) {
      tap_range(iw, p->dw, p->kw, p->w, &kw0, &kw1);
    }
    if (kw1 == kw0) { /* every kernel column falls in the padding */
      o->y[ow] = o->b0;
      if (o->nch == 2) {
        o->y[g->y_m + ow] = o->b1;
      }
      ++ow;
      continue;
    }
    const float *xp = xrow + iw + kw0 * p->dw;
    o->y[ow] = conv_window(g, xp, o->w + kw0, nkh, kw1 - kw0, o->b0);
    if (o->nch == 2) {
      o->y[g->y_m + ow] = conv_window(g, xp, o->w + g->w_m + kw0, nkh, kw1 - kw0, o->b1);
    }
    ++ow;
  }
}

static void conv_geom_init(const odlc_conv2d_params *p, conv_geom *g)
{
  g->cpg = p->c / p->group;
  g->x_chan = (ptrdiff_t)p->h * p->w;
  g->x_row = (ptrdiff_t)p->dh * p->w;
  g->w_chan = p->kh * p->kw;
  g->w_m = (ptrdiff_t)g->cpg * g->w_chan;
  g->y_m = (ptrdiff_t)p->oh * p->ow;
  g->kw = p->kw;
  g->dw = p->dw;
  g->step = p->sw;
}

/* Output channels go in pairs within each group; rows compute their valid kernel rows once. */
static void conv_general(const odlc_conv2d_params *p, const float *x, const float *w,
                         const float *b, float *y)
{
  conv_geom g;
  conv_out o;
  const int32_t mpg = p->m / p->group;
  int32_t ow_lo;
  int32_t ow_hi;
  conv_geom_init(p, &g);
  interior_range(p->pad_left, p->sw, (p->kw - 1) * p->dw + 1, p->w, p->ow, &ow_lo, &ow_hi);
  for (int32_t n = 0; n < p->n; ++n) {
    for (int32_t m = 0; m < p->m; m += o.nch, y += o.nch * g.y_m) {
      const float *xg = x + ((ptrdiff_t)n * p->c + (ptrdiff_t)(m / mpg) * g.cpg) * g.x_chan;
      o.nch = m % mpg + 1 < mpg ? 2 : 1;
      o.b0 = b ? b[m] : 0.0f;
      o.b1 = b && o.nch == 2 ? b[m + 1] : 0.0f;
      for (int32_t oh = 0; oh < p->oh; ++oh) {
        const int32_t ih = oh * p->sh - p->pad_top;
        int32_t kh0;
        int32_t kh1;
        tap_range(ih, p->dh, p->kh, p->h, &kh0, &kh1);
        o.y = y + (ptrdiff_t)oh * p->ow;
        o.w = w + (ptrdiff_t)m * g.w_m + kh0 * p->kw;
        if (kh1 == kh0) { /* every kernel row falls in the padding */
          fill(o.y, p->ow, o.b0);
          if (o.nch == 2) {
            fill(o.y + g.y_m, p->ow, o.b1);
          }
          continue;
        }
        conv_cols(p, &g, xg + (ptrdiff_t)(ih + kh0 * p->dh) * p->w, &o, kh1 - kh0, ow_lo,
                  ow_hi);
      }
    }
  }
}

/* ---- Depthwise -------------------------------------------------------------------------- */

/* One output of a 3x3 dilation-1 depthwise conv whose window (top-left input ih, iw) hangs over
 * an edge of the h x w channel xc. The valid taps are clamped once per output (no division
 * with dilation 1); only border outputs come here. */
static float dw3x3_edge(const float *xc, int32_t h, int32_t w, int32_t ih, int32_t iw,
                        const float *k, float acc)
{
  const int32_t i0 = ih < 0 ? -ih : 0;
  const int32_t i1 = h - ih < 3 ? h - ih : 3;
  const int32_t j0 = iw < 0 ? -iw : 0;
  const int32_t j1 = w - iw < 3 ? w - iw : 3;
  for (int32_t i = i0; i < i1; ++i) {
    const ptrdiff_t r = (ptrdiff_t)(ih + i) * w + iw; /* index of tap (i, 0), maybe < 0 */
    for (int32_t j = j0; j < j1; ++j) {
      acc += k[3 * i + j] * xc[r + j];
    }
  }
  return acc;
}

/* A 3x3 dilation-1 depthwise output row that loses kernel rows to the top/bottom padding.
 * Accumulates one tap at a time over the output columns where that tap is inside the input:
 * no per-output overhead, and each output still sums its taps by kernel row, then column. */
static void dw3x3_partial_row(const odlc_conv2d_params *p, const float *xc, const float *k,
                              float bias, int32_t ih, float *y)
{
  const int32_t i0 = ih < 0 ? -ih : 0;
  const int32_t i1 = p->h - ih < 3 ? p->h - ih : 3;
  fill(y, p->ow, bias);
  for (int32_t i = i0; i < i1; ++i) {
    const float *r = xc + (ptrdiff_t)(ih + i) * p->w;
    for (int32_t j = 0; j < 3; ++j) {
      /* Output columns o with 0 <= o * sw - pad_left + j < w. */
      const int32_t off = j - p->pad_left;
      const int32_t lo = off < 0 ? (-off + p->sw - 1) / p->sw : 0;
      const int32_t lim = p->w - off <= 0 ? 0 : (p->w - off + p->sw - 1) / p->sw;
      const int32_t hi = lim < p->ow ? lim : p->ow;
      const float kv = k[3 * i + j];
      if (lo >= hi) {
        continue;
      }
      const float *xp = r + lo * p->sw + off;
      for (int32_t o = lo; o < hi; ++o, xp += p->sw) {
        y[o] += kv * *xp;
      }
    }
  }
}

/* One channel of a 3x3 dilation-1 depthwise conv. The nine weights stay in registers for the
 * whole channel; rows with all three kernel rows inside run the unrolled interior between the
 * border columns [0, ow_lo) and [ow_hi, ow). */
static void dw3x3_channel(const odlc_conv2d_params *p, const float *xc, const float *k,
                          float bias, int32_t ow_lo, int32_t ow_hi, float *y)
{
  const float k0 = k[0], k1 = k[1], k2 = k[2];
  const float k3 = k[3], k4 = k[4], k5 = k[5];
  const float k6 = k[6], k7 = k[7], k8 = k[8];
  const ptrdiff_t w = p->w;
  for (int32_t oh = 0; oh < p->oh; ++oh, y += p->ow) {
    const int32_t ih = oh * p->sh - p->pad_top;
    if (ih < 0 || ih + 3 > p->h) {
      dw3x3_partial_row(p, xc, k, bias, ih, y);
      continue;
    }
    int32_t ow = 0;
    for (; ow < ow_lo; ++ow) {
      y[ow] = dw3x3_edge(xc, p->h, p->w, ih, ow * p->sw - p->pad_left, k, bias);
    }
    if (ow_lo < ow_hi) {
      const float *r0 = xc + ih * w + ow_lo * p->sw - p->pad_left;
      const float *r1 = r0 + w;
      const float *r2 = r1 + w;
      for (; ow < ow_hi; ++ow, r0 += p->sw, r1 += p->sw, r2 += p->sw) {
        float acc = bias;
        acc += k0 * r0[0];
        acc += k1 * r0[1];
        acc += k2 * r0[2];
        acc += k3 * r1[0];
        acc += k4 * r1[1];
        acc += k5 * r1[2];
        acc += k6 * r2[0];
        acc += k7 * r2[1];
        acc += k8 * r2[2];
        y[ow] = acc;
      }
    }
    for (; ow < p->ow; ++ow) {
      y[ow] = dw3x3_edge(xc, p->h, p->w, ih, ow * p->sw - p->pad_left, k, bias);
    }
  }
}

/* group == c == m: every output channel convolves exactly one input channel. 3x3 dilation-1
 * kernels (MobileNet-style) have their own path; other kernels walk rows with the generic
 * column walker. */
static void conv_depthwise(const odlc_conv2d_params *p, const float *x, const float *w,
                           const float *b, float *y)
{
  conv_geom g;
  conv_out o;
  int32_t ow_lo;
  int32_t ow_hi;
  const int32_t fast3x3 = p->kh == 3 && p->kw == 3 && p->dh == 1 && p->dw == 1;
  conv_geom_init(p, &g);
  interior_range(p->pad_left, p->sw, (p->kw - 1) * p->dw + 1, p->w, p->ow, &ow_lo, &ow_hi);
  o.nch = 1;
  o.b1 = 0.0f;
  for (int32_t nc = 0; nc < p->n * p->c; ++nc) {
    const float *xc = x + (ptrdiff_t)nc * g.x_chan;
    const float *wc = w + (ptrdiff_t)(nc % p->c) * g.w_chan;
    o.b0 = b ? b[nc % p->c] : 0.0f;
    if (fast3x3) {
      dw3x3_channel(p, xc, wc, o.b0, ow_lo, ow_hi, y);
      y += g.y_m;
      continue;
    }
    for (int32_t oh = 0; oh < p->oh; ++oh, y += p->ow) {
      const int32_t ih = oh * p->sh - p->pad_top;
      int32_t kh0;
      int32_t kh1;
      tap_range(ih, p->dh, p->kh, p->h, &kh0, &kh1);
      if (kh1 == kh0) {
        fill(y, p->ow, o.b0);
        continue;
      }
      o.w = wc + kh0 * p->kw;
      o.y = y;
      conv_cols(p, &g, xc + (ptrdiff_t)(ih + kh0 * p->dh) * p->w, &o, kh1 - kh0, ow_lo, ow_hi);
    }
  }
}

/* ---- Pointwise (1x1, stride 1, no padding) ---------------------------------------------- */

/* Output channels m and m + 1 over count contiguous pixels (input channels chan apart):
 * y[i] = bias + sum_ci w[ci] * x[ci * chan + i]. Blocks of 2 channels x 4 pixels keep 8 sums in
 * registers, so each weight load feeds four MACs and each input load two. */
static void pointwise_pair(const float *x, ptrdiff_t chan, const float *w0, int32_t cpg,
                           float b0, float b1, int32_t count, float *y0)
{
  const float *w1 = w0 + cpg;
  float *y1 = y0 + count;
  int32_t i = 0;
  for (; i + 4 <= count; i += 4) {
    float a0 = b0, a1 = b0, a2 = b0, a3 = b0;
    float c0 = b1, c1 = b1, c2 = b1, c3 = b1;
    const float *xp = x + i;
    for (int32_t ci = 0; ci < cpg; ++ci, xp += chan) {
      const float x0 = xp[0], x1 = xp[1], x2 = xp[2], x3 = xp[3];
      const float u = w0[ci];
      const float v = w1[ci];
      a0 += u * x0;
      a1 += u * x1;
      a2 += u * x2;
      a3 += u * x3;
      c0 += v * x0;
      c1 += v * x1;
      c2 += v * x2;
      c3 += v * x3;
    }
    y0[i] = a0;
    y0[i + 1] = a1;
    y0[i + 2] = a2;
    y0[i + 3] = a3;
    y1[i] = c0;
    y1[i + 1] = c1;
    y1[i + 2] = c2;
    y1[i + 3] = c3;
  }
  for (; i < count; ++i) {
    float a = b0;
    float c = b1;
    const float *xp = x + i;
    for (int32_t ci = 0; ci < cpg; ++ci, xp += chan) {
      a += w0[ci] * *xp;
      c += w1[ci] * *xp;
    }
    y0[i] = a;
    y1[i] = c;
  }
}

/* Single output channel version of pointwise_pair (odd channel count per group). */
static void pointwise_one(const float *x, ptrdiff_t chan, const float *w, int32_t cpg,
                          float bias, int32_t count, float *y)
{
  int32_t i = 0;
  for (; i + 4 <= count; i += 4) {
    float a0 = bias, a1 = bias, a2 = bias, a3 = bias;
    const float *xp = x + i;
    for (int32_t ci = 0; ci < cpg; ++ci, xp += chan) {
      const float u = w[ci];
      a0 += u * xp[0];
      a1 += u * xp[1];
      a2 += u * xp[2];
      a3 += u * xp[3];
    }
    y[i] = a0;
    y[i + 1] = a1;
    y[i + 2] = a2;
    y[i + 3] = a3;
  }
  for (; i < count; ++i) {
    float a = bias;
    const float *xp = x + i;
    for (int32_t ci = 0; ci < cpg; ++ci, xp += chan) {
      a += w[ci] * *xp;
    }
    y[i] = a;
  }
}

/* With stride 1 and ow == w the output plane is one contiguous run over the input plane:
 * a small GEMM y[m][hw] = w[m][c] x[c][hw] per group. */
static void conv_pointwise(const odlc_conv2d_params *p, const float *x, const float *w,
                           const float *b, float *y)
{
  int32_t cpg = p->c / p->group;
  int32_t mpg = p->m / p->group;
  int32_t count = p->oh * p->ow;
  ptrdiff_t chan = (ptrdiff_t)p->h * p->w;
  for (int32_t n = 0; n < p->n; ++n) {
    for (int32_t gi = 0; gi < p->group; ++gi) {
      const float *xg = x + ((ptrdiff_t)n * p->c + (ptrdiff_t)gi * cpg) * chan;
      int32_t m = gi * mpg;
      int32_t m_end = m + mpg;
      for (; m + 2 <= m_end; m += 2, y += 2 * count) {
        pointwise_pair(xg, chan, w + (ptrdiff_t)m * cpg, cpg, b ? b[m] : 0.0f,
                       b ? b[m + 1] : 0.0f, count, y);
      }
      if (m < m_end) {
        pointwise_one(xg, chan, w + (ptrdiff_t)m * cpg, cpg, b ? b[m] : 0.0f, count, y);
        y += count;
      }
    }
  }
}

/* ---- Entry point ------------------------------------------------------------------------ */

void odlc_conv2d_f32(const odlc_conv2d_params *p, const float *x, const float *w, const float *b,
                     float *y)
{
  /* 1x1, stride 1, no padding on any side. */
  int32_t pointwise = p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 &&
                      p->pad_top == 0 && p->pad_left == 0 && p->oh <= p->h && p->ow == p->w;
  if (p->n <= 0 || p->m <= 0 || p->oh <= 0 || p->ow <= 0) {
    return;
  }
  if (pointwise) {
    conv_pointwise(p, x, w, b, y);
    return;
  }
  if (p->group == p->c && p->group == p->m) {
    conv_depthwise(p, x, w, b, y);
    return;
  }
  conv_general(p, x, w, b, y);
}
