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

/* ---- General case ------------------------------------------------------------------------ */

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

/* Output columns [from, to) of one row. Columns inside [ow_lo, ow_hi) have the full kernel
 * width and go four at a time (a last partial block is shifted left to overlap its
 * predecessor, recomputing a few outputs, instead of falling back to single pixels). The few
 * border columns compute their valid tap range. xrow points at the input row of the first
 * valid kernel row. */
static void conv_cols(const odlc_conv2d_params *p, const conv_geom *g, const float *xrow,
                      const conv_out *o, int32_t nkh, int32_t from, int32_t to, int32_t ow_lo,
                      int32_t ow_hi)
{
  const int32_t blk_end = ow_hi < to ? ow_hi : to;
  int32_t ow = from;
  while (ow < to) {
    if (ow >= ow_lo && ow < blk_end) {
      int32_t start = ow + 4 <= blk_end ? ow : blk_end - 4;
      if (start >= ow_lo && start >= from) {
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
    int32_t iw = ow * p->sw - p->pad_left;
    int32_t kw0 = 0;
    int32_t kw1 = p->kw;
    if (ow < ow_lo || ow >= ow_hi) {
      tap_range(iw, p->dw, p->kw, p->w, &kw0, &kw1);
    }
    const float *xp = xrow + iw + kw0 * p->dw;
    o->y[ow] = kw1 == kw0 ? o->b0 : conv_window(g, xp, o->w + kw0, nkh, kw1 - kw0, o->b0);
    if (o->nch == 2) {
      o->y[g->y_m + ow] =
          kw1 == kw0 ? o->b1 : conv_window(g, xp, o->w + g->w_m + kw0, nkh, kw1 - kw0, o->b1);
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
        if (kh1 == kh0) { /* the whole window row range is padding */
          for (int32_t ow = 0; ow < p->ow; ++ow) {
            o.y[ow] = o.b0;
            o.y[g.y_m + ow] = o.nch == 2 ? o.b1 : o.y[g.y_m + ow];
          }
          continue;
        }
        conv_cols(p, &g, xg + (ptrdiff_t)(ih + kh0 * p->dh) * p->w, &o, kh1 - kh0, 0, p->ow,
                  ow_lo, ow_hi);
      }
    }
  }
}

/* ---- Depthwise 3x3, dilation 1 ----------------------------------------------------------- */

/* Depthwise 3x3 over the interior columns [lo, hi) of one output row with the nine weights
 * held in registers. r points at the input row of kernel row 0 (rows are w apart). */
static void dw3x3_interior(const float *r, ptrdiff_t w, int32_t sw, const float *k, float bias,
                           int32_t lo, int32_t hi, int32_t pad_left, float *y)
{
  const float k0 = k[0], k1 = k[1], k2 = k[2];
  const float k3 = k[3], k4 = k[4], k5 = k[5];
  const float k6 = k[6], k7 = k[7], k8 = k[8];
  const float *r0 = r + lo * sw - pad_left;
  const float *r1 = r0 + w;
  const float *r2 = r1 + w;
  for (int32_t ow = lo; ow < hi; ++ow) {
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
    r0 += sw;
    r1 += sw;
    r2 += sw;
  }
}

/* group == c == m: every output channel convolves exactly one input channel. Border pixels
 * go through the generic window; with a 3x3 dilation-1 kernel the interior is unrolled. */
static void conv_depthwise(const odlc_conv2d_params *p, const float *x, const float *w,
                           const float *b, float *y)
{
  conv_geom g;
  int32_t ow_lo;
  int32_t ow_hi;
  int32_t fast3x3 = p->kh == 3 && p->kw == 3 && p->dh == 1 && p->dw == 1;
  g.cpg = 1;
  g.x_chan = (ptrdiff_t)p->h * p->w;
  g.x_row = (ptrdiff_t)p->dh * p->w;
  g.w_chan = p->kh * p->kw;
  g.kw = p->kw;
  g.dw = p->dw;
  interior_range(p->pad_left, p->sw, (p->kw - 1) * p->dw + 1, p->w, p->ow, &ow_lo, &ow_hi);

  for (int32_t nc = 0; nc < p->n * p->c; ++nc) {
    const float *xc = x + (ptrdiff_t)nc * g.x_chan;
    const float *wc = w + (ptrdiff_t)(nc % p->c) * g.w_chan;
    float bias = b ? b[nc % p->c] : 0.0f;
    for (int32_t oh = 0; oh < p->oh; ++oh, y += p->ow) {
      int32_t ih = oh * p->sh - p->pad_top;
      int32_t kh0;
      int32_t kh1;
      tap_range(ih, p->dh, p->kh, p->h, &kh0, &kh1);
      if (kh1 == kh0) {
        for (int32_t ow = 0; ow < p->ow; ++ow) {
          y[ow] = bias;
        }
        continue;
      }
      const float *xrow = xc + (ptrdiff_t)(ih + kh0 * p->dh) * p->w;
      const float *wk = wc + kh0 * p->kw;
      if (!fast3x3 || kh1 - kh0 != 3) {
        conv_cols(p, &g, xrow, wk, kh1 - kh0, 0, p->ow, ow_lo, ow_hi, bias, y);
        continue;
      }
      /* Full-height row: generic borders, unrolled interior. */
      conv_cols(p, &g, xrow, wk, 3, 0, ow_lo, ow_lo, ow_hi, bias, y);
      dw3x3_interior(xrow, p->w, p->sw, wk, bias, ow_lo, ow_hi, p->pad_left, y);
      conv_cols(p, &g, xrow, wk, 3, ow_hi, p->ow, ow_lo, ow_hi, bias, y);
    }
  }
}

/* ---- Pointwise (1x1, no padding, every tap inside the input) ----------------------------- */

/* Output channels m and m + 1 over count pixels whose inputs are step apart (chan between input
 * channels): y[i] = bias + sum_ci w[ci] * x[ci * chan + i * step]. Blocks of 2 channels x 4
 * pixels keep 8 sums in registers, so each weight load feeds four MACs and each input load
 * two. */
static void pointwise_pair(const float *x, ptrdiff_t chan, int32_t step, const float *w0,
                           int32_t cpg, float b0, float b1, int32_t count, float *y0)
{
  const float *w1 = w0 + cpg;
  float *y1 = y0 + count;
  int32_t i = 0;
  for (; i + 4 <= count; i += 4, x += 4 * step) {
    float a0 = b0, a1 = b0, a2 = b0, a3 = b0;
    float c0 = b1, c1 = b1, c2 = b1, c3 = b1;
    const float *xp = x;
    for (int32_t ci = 0; ci < cpg; ++ci, xp += chan) {
      float x0 = xp[0], x1 = xp[step], x2 = xp[2 * step], x3 = xp[3 * step];
      float u = w0[ci];
      float v = w1[ci];
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
  for (; i < count; ++i, x += step) {
    float a = b0;
    float c = b1;
    const float *xp = x;
    for (int32_t ci = 0; ci < cpg; ++ci, xp += chan) {
      a += w0[ci] * *xp;
      c += w1[ci] * *xp;
    }
    y0[i] = a;
    y1[i] = c;
  }
}

/* Single output channel version of pointwise_pair (odd channel count per group). */
static void pointwise_one(const float *x, ptrdiff_t chan, int32_t step, const float *w,
                          int32_t cpg, float bias, int32_t count, float *y)
{
  int32_t i = 0;
  for (; i + 4 <= count; i += 4, x += 4 * step) {
    float a0 = bias, a1 = bias, a2 = bias, a3 = bias;
    const float *xp = x;
    for (int32_t ci = 0; ci < cpg; ++ci, xp += chan) {
      float u = w[ci];
      a0 += u * xp[0];
      a1 += u * xp[step];
      a2 += u * xp[2 * step];
      a3 += u * xp[3 * step];
    }
    y[i] = a0;
    y[i + 1] = a1;
    y[i + 2] = a2;
    y[i + 3] = a3;
  }
  for (; i < count; ++i, x += step) {
    float a = bias;
    const float *xp = x;
    for (int32_t ci = 0; ci < cpg; ++ci, xp += chan) {
      a += w[ci] * *xp;
    }
    y[i] = a;
  }
}

/* Stride 1 with ow == w: the whole output plane is one contiguous run over the input plane,
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
        pointwise_pair(xg, chan, 1, w + (ptrdiff_t)m * cpg, cpg, b ? b[m] : 0.0f,
                       b ? b[m + 1] : 0.0f, count, y);
      }
      if (m < m_end) {
        pointwise_one(xg, chan, 1, w + (ptrdiff_t)m * cpg, cpg, b ? b[m] : 0.0f, count, y);
        y += count;
      }
    }
  }
}

/* ---- Entry point ------------------------------------------------------------------------- */

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
