/* The cost terms of one runtime kernel call, in C99 so that the cost-model firmware
 * (bench/cost_model/cost_bench.c) and the compiler (targets/CostModel.cpp) compute them with the
 * same code: instructions = sum_i coefficient[i] * term[i], coefficients per kind and target in
 * targets/costs/TARGET.def (fitted by bench/cost_model/measure.sh).
 *
 * A call is described by its geometry (odlc_cost_geom). The terms follow the loop structure of
 * the runtime kernels (runtime/odlc_conv.c, odlc_train_conv.c, odlc_train_linalg.c,
 * odlc_train_sparse.c, ...); see odlc_cost_terms() for each kind's five terms. */
#ifndef ODLC_COST_TERMS_H
#define ODLC_COST_TERMS_H

#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ODLC_COST_TERMS 7

typedef enum {
#define ODLC_KERNEL_KIND(kind, name, unit) ODLC_COST_##kind,
#include "KernelKinds.def"
  ODLC_COST_NUM_KINDS
} odlc_cost_kind;

/* Geometry of a call. Convolutions and pools: odlc_conv2d_params' fields (group = c = m for the
 * pools and depthwise). Gemm [n x c] * [c x m]: h = w = oh = ow = kh = kw = 1. Element-wise
 * kinds: n rows of c channels of h elements. */
typedef struct {
  int n, c, h, w;
  int m, oh, ow;
  int kh, kw;
  int sh, sw;
  int pt, pl;
  int group;
  int block; /* 1: a sparse update writing its gradients through an odlc_weight_block */
} odlc_cost_geom;

static inline int odlc_cost_kind_from_name(const char *name, odlc_cost_kind *kind)
{
  static const char *const names[] = {
#define ODLC_KERNEL_KIND(kind, name, unit) name,
#include "KernelKinds.def"
  };
  for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); ++i) {
    if (strcmp(names[i], name) == 0) {
      *kind = (odlc_cost_kind)i;
      return 1;
    }
  }
  return 0;
}

/* Kernel taps of one axis inside the input for output o: 0 <= o * s - pad + k < size. */
static inline int odlc_cost_taps_at(int o, int s, int pad, int k, int size)
{
  int lo = pad - o * s, hi = size + pad - o * s;
  lo = lo < 0 ? 0 : lo;
  hi = hi > k ? k : hi;
  return hi > lo ? hi - lo : 0;
}

/* Kernel taps of one axis that read input i (the transposed direction): taps k with
 * (i + pad - k) % s == 0 and 0 <= (i + pad - k) / s < nout. */
static inline int odlc_cost_taps_in(int i, int s, int pad, int k, int nout)
{
  int count = 0;
  for (int kk = 0; kk < k; ++kk) {
    const int num = i + pad - kk;
    if (num >= 0 && num % s == 0 && num / s < nout)
      ++count;
  }
  return count;
}

/* Outputs whose whole window is inside the input, along one axis (the kernels' interior). */
static inline int odlc_cost_interior(int s, int pad, int k, int size, int nout)
{
  int count = 0;
  for (int o = 0; o < nout; ++o)
    count += odlc_cost_taps_at(o, s, pad, k, size) == k;
  return count;
}

static inline double odlc_cost_ceil4(double x) { return (double)(((long long)x + 3) / 4); }

/* A p x q grid of count-term dot products in 4 x 4 blocks, the rows left over one at a time
 * against 4 columns (odlc_train_linalg.c grid_run): 4x4 MACs, 1x4 MACs, blocks, outputs. */
static inline void odlc_cost_grid(double p, double q, double count, double t[ODLC_COST_TERMS])
{
  const double full = (double)((long long)p / 4), rest = p - 4 * full, qb = odlc_cost_ceil4(q);
  t[1] = full * qb * 16 * count;
  t[2] = rest * qb * 4 * count;
  t[3] = (full + rest) * qb;
  t[4] = p * q;
}

/* Forward standard conv (odlc_conv.c conv_general): per output row, the interior columns in
 * blocks of 4 (a last partial block moved back, recomputing columns), the others (borders, or
 * all of them when fewer than 4 are interior) one by one over their valid taps; every pixel
 * loops over the input channels of its group and its valid kernel rows. */
static inline void odlc_cost_conv_forward(const odlc_cost_geom *g, double t[ODLC_COST_TERMS])
{
  const double cpg = (double)g->c / g->group;
  const int iw = odlc_cost_interior(g->sw, g->pl, g->kw, g->w, g->ow);
  const double blocks = iw >= 4 ? odlc_cost_ceil4(iw) : 0;
  double scalar_cols = 0, scalar_taps = 0, rows_taps = 0;
  for (int o = 0; o < g->ow; ++o) {
    const int nkw = odlc_cost_taps_at(o, g->sw, g->pl, g->kw, g->w);
    const int interior = nkw == g->kw && iw >= 4;
    if (!interior) {
      scalar_cols += 1;
      scalar_taps += nkw;
    }
  }
  for (int o = 0; o < g->oh; ++o)
    rows_taps += odlc_cost_taps_at(o, g->sh, g->pt, g->kh, g->h);
  const double per = (double)g->n * g->m * cpg * rows_taps; /* channel x kernel-row visits */
  t[1] = per * blocks * 4 * g->kw;  /* MACs in 4-pixel blocks */
  t[2] = per * scalar_taps;         /* MACs of single pixels */
  t[3] = per * blocks;              /* kernel-row loops of the blocks */
  t[4] = per * scalar_cols;         /* kernel-row loops of single pixels */
  t[5] = (double)g->n * g->m * g->oh * g->ow;
}

/* Input gradient of a standard conv (odlc_train_conv.c bwd_input_general): per dx row, the
 * columns of each stride residue with the full tap set in blocks of 4 (when 4 or more), others
 * one by one; channels 4 at a time (a last block moved back) when the group has 4 or more. Each
 * (channel block, column block) kernel call loops over its valid taps, then the group's output
 * channels. */
static inline void odlc_cost_conv_grad_input(const odlc_cost_geom *g, double t[ODLC_COST_TERMS])
{
  const double cpg = (double)g->c / g->group, mpg = (double)g->m / g->group;
  const double cblocks = cpg >= 4 ? odlc_cost_ceil4(cpg) : cpg;
  double row_taps = 0, blk_taps = 0, blk_calls = 0, one_taps = 0, one_calls = 0;
  for (int h = 0; h < g->h; ++h)
    row_taps += odlc_cost_taps_in(h, g->sh, g->pt, g->kh, g->oh);
  for (int r = 0; r < g->sw && r < g->w; ++r) {
    int full = -1, lo = -1, hi = -1, kfull = 0;
    const int ncols = (g->w - r + g->sw - 1) / g->sw;
    for (int kk = 0; kk < g->kw; ++kk)
      kfull += (r + g->pl - kk) % g->sw == 0 || (r + g->pl - kk < 0 && (kk - r - g->pl) % g->sw == 0);
    for (int j = 0; j < ncols; ++j) {
      const int nk = odlc_cost_taps_in(r + j * g->sw, g->sw, g->pl, g->kw, g->ow);
      if (nk == kfull && kfull > 0) {
        if (lo < 0)
          lo = j;
        hi = j + 1;
      }
    }
    full = lo >= 0 && hi - lo >= 4 ? hi - lo : 0;
    for (int j = 0; j < ncols; ++j) {
      const int nk = odlc_cost_taps_in(r + j * g->sw, g->sw, g->pl, g->kw, g->ow);
      if (full && j >= lo && j < hi)
        continue;
      one_taps += nk;
      one_calls += nk > 0;
    }
    if (full) {
      blk_calls += odlc_cost_ceil4(full);
      blk_taps += odlc_cost_ceil4(full) * kfull;
    }
  }
  const double rows = (double)g->n * g->group * cblocks; /* kernel calls per dx column (block) */
  double live_rows = 0; /* dx rows some kernel row reads */
  for (int h = 0; h < g->h; ++h)
    live_rows += odlc_cost_taps_in(h, g->sh, g->pt, g->kh, g->oh) > 0;
  /* MACs: lanes x columns x taps x output channels, by kernel (4x4, 4x1, one lane). */
  t[1] = cpg >= 4 ? rows * row_taps * blk_taps * 4 * 4 * mpg : 0;
  t[2] = cpg >= 4 ? rows * row_taps * one_taps * 4 * mpg : 0;
  t[3] = cpg >= 4 ? 0 : rows * row_taps * (blk_taps * 4 + one_taps) * mpg;
  t[4] = rows * row_taps * (blk_taps + one_taps); /* output-channel loops */
  t[5] = rows * live_rows * (blk_calls + one_calls); /* kernel calls */
  t[6] = live_rows * (blk_calls + one_calls);        /* (dx row, column block): taps worked out */
}

/* Weight gradient + SGD of a conv with 4 or more channels per group on both sides
 * (bwd_weight_blocked): 4 x 4 channel blocks (moved back at a group's end), per tap the
 * rectangle of outputs whose input is inside, summed over the batch; then the bias. */
static inline void odlc_cost_conv_update(const odlc_cost_geom *g, double t[ODLC_COST_TERMS])
{
  const double cpg = (double)g->c / g->group, mpg = (double)g->m / g->group;
  const double blocks = g->group * odlc_cost_ceil4(mpg) * odlc_cost_ceil4(cpg);
  double area = 0, rows = 0;
  for (int i = 0; i < g->kh; ++i) {
    double r = 0, c = 0;
    for (int o = 0; o < g->oh; ++o) {
      const int in = o * g->sh - g->pt + i;
      r += in >= 0 && in < g->h;
    }
    for (int j = 0; j < g->kw; ++j) {
      c = 0;
      for (int o = 0; o < g->ow; ++o) {
        const int in = o * g->sw - g->pl + j;
        c += in >= 0 && in < g->w;
      }
      area += r * c;
      rows += r;
    }
  }
  t[1] = blocks * g->n * area * 16; /* MACs of the 4 x 4 blocks */
  t[2] = blocks * g->n * rows;      /* row loops */
  t[3] = blocks * g->n * g->kh * g->kw; /* (block, tap, batch item) dot calls */
  t[4] = blocks * g->kh * g->kw;    /* (block, tap): 16 gradients, SGD */
  t[5] = (double)g->n * g->m * g->oh * g->ow; /* bias: dy summed */
  t[6] = g->block ? blocks * 16 * g->kh * g->kw : 0; /* SGD weight by weight through a block */
}

/* Weight gradient + SGD weight by weight (bwd_weight_single: fewer than 4 channels per group on
 * a side, and depthwise kernels other than 3x3): per (output channel, input channel, tap) the
 * rectangle of outputs whose input is inside, summed over the batch; then the bias. */
static inline void odlc_cost_conv_update_single(const odlc_cost_geom *g, double t[ODLC_COST_TERMS])
{
  const double weights = (double)g->m * ((double)g->c / g->group);
  double area = 0, rows = 0;
  for (int i = 0; i < g->kh; ++i) {
    double r = 0;
    for (int o = 0; o < g->oh; ++o) {
      const int in = o * g->sh - g->pt + i;
      r += in >= 0 && in < g->h;
    }
    for (int j = 0; j < g->kw; ++j) {
      double c = 0;
      for (int o = 0; o < g->ow; ++o) {
        const int in = o * g->sw - g->pl + j;
        c += in >= 0 && in < g->w;
      }
      area += r * c;
      rows += r;
    }
  }
  t[1] = weights * g->n * area;                /* MACs */
  t[2] = weights * g->n * rows;                /* row loops */
  t[3] = weights * g->n * g->kh * g->kw;       /* rectangle dots */
  t[4] = weights * g->kh * g->kw;              /* SGD per weight */
  t[5] = (double)g->n * g->m * g->oh * g->ow;  /* bias: dy summed */
  t[6] = g->block ? weights * g->kh * g->kw : 0; /* weight addresses through a block */
}

/* Forward 3x3 dilation-1 depthwise (dw3x3_channel): rows with all kernel rows inside run the
 * unrolled 9-tap interior between border columns computed one by one; rows losing kernel rows
 * to the padding go tap by tap over the output columns (dw3x3_partial_row). */
static inline void odlc_cost_dw_forward(const odlc_cost_geom *g, double t[ODLC_COST_TERMS])
{
  const double planes = (double)g->n * g->c;
  const int iw = odlc_cost_interior(g->sw, g->pl, 3, g->w, g->ow);
  double edge_taps = 0, all_taps = 0, full_rows = 0, partial_taps = 0;
  for (int o = 0; o < g->ow; ++o) {
    const int nkw = odlc_cost_taps_at(o, g->sw, g->pl, 3, g->w);
    all_taps += nkw;
    edge_taps += nkw == 3 ? 0 : nkw;
  }
  for (int o = 0; o < g->oh; ++o) {
    const int nkh = odlc_cost_taps_at(o, g->sh, g->pt, 3, g->h);
    const int ih = o * g->sh - g->pt;
    if (ih < 0 || ih + 3 > g->h)
      partial_taps += nkh * all_taps;
    else
      full_rows += 1;
  }
  t[1] = planes * full_rows * iw * 9;             /* interior MACs */
  t[2] = planes * full_rows * edge_taps * 3;      /* border-column MACs */
  t[3] = planes * partial_taps;                   /* partial-row MACs */
  t[4] = planes * full_rows * (g->ow - iw);       /* border-column outputs */
  t[5] = planes * g->oh;                          /* rows */
}

/* Outputs o in [*lo, *hi) with 0 <= o * s + off < size and o < n (odlc_train_conv.c out_range). */
static inline void odlc_cost_out_range(int off, int s, int size, int n, int *lo, int *hi)
{
  const int a = off < 0 ? (-off + s - 1) / s : 0;
  int b = size - off <= 0 ? 0 : (size - off + s - 1) / s;
  b = b < n ? b : n;
  *lo = a;
  *hi = b > a ? b : a;
}

/* Input gradient of a 3x3 dilation-1 stride-1 depthwise conv (bwd_input_dw3x3), per plane: the
 * interior columns of every row 4 at a time per kernel row (dw3_taps4: 12 MACs, the last block
 * moved back), the other columns of the rows all three kernel rows read one column at a time
 * down the plane (dw3_col: 9 MACs per row after a setup), the rest of the top and bottom rows
 * one element at a time over its taps (dw3_point). */
static inline void odlc_cost_dw_grad_input(const odlc_cost_geom *g, double t[ODLC_COST_TERMS])
{
  const double planes = (double)g->n * g->c;
  const int lo = g->w < (2 - g->pl > 0 ? 2 - g->pl : 0) ? g->w : (2 - g->pl > 0 ? 2 - g->pl : 0);
  int hi = g->ow - g->pl < g->w ? g->ow - g->pl : g->w;
  hi = hi > lo ? hi : lo;
  const int inner = hi - lo >= 4 ? hi - lo : 0;
  const int f0raw = 2 - g->pt > 0 ? 2 - g->pt : 0;
  const int full0 = f0raw < g->h ? f0raw : g->h;
  int full1 = g->oh - g->pt < g->h ? g->oh - g->pt : g->h;
  full1 = full1 > full0 ? full1 : full0;
  double taps4 = 0, point_taps = 0, points = 0;
  for (int ih = 0; ih < g->h; ++ih) {
    const int top = ih + g->pt;
    const int a0 = top - g->oh + 1 > 0 ? top - g->oh + 1 : 0;
    const int a1 = top + 1 < 3 ? top + 1 : 3;
    const int full = ih >= full0 && ih < full1;
    const int row = inner > 0 && a1 > a0;
    if (row)
      taps4 += odlc_cost_ceil4(inner) * (a1 - a0);
    if (full)
      continue;
    for (int iw = 0; iw < g->w; ++iw) {
      if (row && iw >= lo && iw < lo + inner)
        continue;
      const int c = iw + g->pl;
      const int kw0 = c - g->ow + 1 > 0 ? c - g->ow + 1 : 0;
      const int kw1 = c < 2 ? c : 2;
      points += 1;
      point_taps += (a1 > a0 ? a1 - a0 : 0) * (kw1 >= kw0 ? kw1 - kw0 + 1 : 0);
    }
  }
  const double cols = full1 > full0 ? g->w - inner : 0;
  t[1] = planes * taps4 * 12;                    /* MACs of 4-column blocks */
  t[2] = planes * point_taps;                    /* MACs of single elements */
  t[3] = planes * points;                        /* single elements */
  t[4] = planes * cols;                          /* column walks (setup) */
  t[5] = planes * cols * (full1 - full0) * 9;    /* MACs of the column walks */
  t[6] = planes * g->h;                          /* rows */
}

/* Input gradient of a 3x3 dilation-1 strided depthwise conv (bwd_input_dw3x3_strided): dx
 * zeroed, then per plane and kernel row every dy row of its output range adds three taps per
 * interior column, the edge columns one strided axpy per (kernel column, column). */
static inline void odlc_cost_dw_grad_input_strided(const odlc_cost_geom *g,
                                                   double t[ODLC_COST_TERMS])
{
  const double planes = (double)g->n * g->c;
  int lo[3], hi[3];
  for (int kw = 0; kw < 3; ++kw)
    odlc_cost_out_range(kw - g->pl, g->sw, g->w, g->ow, &lo[kw], &hi[kw]);
  const int in_lo = lo[0];
  const int in_hi = hi[2] > in_lo ? hi[2] : in_lo;
  double interior = 0, edge_macs = 0, edge_calls = 0, rows = 0, active = 0;
  for (int kh = 0; kh < 3; ++kh) {
    int oh0, oh1;
    odlc_cost_out_range(kh - g->pt, g->sh, g->h, g->oh, &oh0, &oh1);
    if (oh1 == oh0)
      continue;
    active += 1;
    if (in_hi > in_lo) {
      interior += (double)(oh1 - oh0) * (in_hi - in_lo) * 3;
      rows += oh1 - oh0;
    }
    for (int kw = 0; kw < 3; ++kw) {
      const int e1 = (in_lo < hi[kw] ? in_lo : hi[kw]) - lo[kw];
      const int e2 = hi[kw] - (in_hi > lo[kw] ? in_hi : lo[kw]);
      const int e = (e1 > 0 ? e1 : 0) + (e2 > 0 ? e2 : 0);
      edge_calls += e;
      edge_macs += (double)e * (oh1 - oh0);
    }
  }
  t[1] = planes * interior;                 /* interior MACs */
  t[2] = planes * edge_macs;                /* MACs of the edge axpys */
  t[3] = planes * edge_calls;               /* edge axpys */
  t[4] = planes * rows;                     /* interior row loops */
  t[5] = planes * g->h * g->w;              /* dx zeroed */
  t[6] = planes * active;                   /* (plane, kernel row) */
}

/* Weight gradient + SGD of a 3x3 dilation-1 depthwise conv (bwd_weight_dw3x3): per channel and
 * kernel row, the output columns whose three taps are inside go three taps at a time
 * (dw3_row_taps: 4 outputs per step with stride 1, the rest one by one), the border columns one
 * strided dot per tap. */
static inline void odlc_cost_dw_update(const odlc_cost_geom *g, double t[ODLC_COST_TERMS])
{
  const double planes = (double)g->n * g->c;
  int in_lo = g->ow, in_hi = 0;
  double edge_cols = 0;
  for (int o = 0; o < g->ow; ++o) {
    const int nkw = odlc_cost_taps_at(o, g->sw, g->pl, 3, g->w);
    if (nkw == 3) {
      in_lo = o < in_lo ? o : in_lo;
      in_hi = o + 1;
    } else {
      edge_cols += nkw;
    }
  }
  const double inner = in_hi > in_lo ? in_hi - in_lo : 0;
  double rows = 0;
  for (int i = 0; i < 3; ++i)
    for (int o = 0; o < g->oh; ++o) {
      const int in = o * g->sh - g->pt + i;
      rows += in >= 0 && in < g->h;
    }
  const double quads = g->sw == 1 ? (double)((long long)inner / 4) : 0;
  t[1] = planes * rows * quads * 12;               /* MACs of 4-output blocks (stride 1) */
  t[2] = planes * rows * (inner - 4 * quads) * 3;  /* MACs of single outputs */
  t[3] = planes * rows * edge_cols;                /* border MACs (strided dots) */
  t[4] = planes * 3 * edge_cols;                   /* strided dot calls */
  t[5] = planes * rows;                            /* row loops */
  t[6] = g->c; /* channels: 9 weight SGDs, the bias SGD, set-up (bias dy sums: with the MACs) */
}

/* Forward pointwise (conv_pointwise): output channels in pairs, pixels of each plane 4 at a
 * time, the rest one by one, each looping over the group's input channels. */
static inline void odlc_cost_pw_forward(const odlc_cost_geom *g, double t[ODLC_COST_TERMS])
{
  const double cpg = (double)g->c / g->group, mpg = (double)g->m / g->group;
  const double count = (double)g->oh * g->ow, quads = (double)((long long)count / 4);
  const double rest = count - 4 * quads;
  const double pairs = (double)g->n * g->group * (double)(((long long)mpg + 1) / 2);
  t[1] = (double)g->n * g->m * cpg * 4 * quads;
  t[2] = (double)g->n * g->m * cpg * rest;
  t[3] = pairs * (quads + rest);
  t[4] = (double)g->n * g->m * count;
}

/* Input gradient of a pointwise conv (bwd_input_pointwise): blocks of 4 input channels x 4
 * pixels counted across the batch (moved back at the end), each a 4 x 4 dot over the group's
 * output channels, written straight from registers when its 4 pixels are adjacent in one plane
 * and the group has 4 channels or more, else lane by lane. */
static inline void odlc_cost_pw_grad_input(const odlc_cost_geom *g, double t[ODLC_COST_TERMS])
{
  const double cpg = (double)g->c / g->group, mpg = (double)g->m / g->group;
  const int count = g->oh * g->ow, total = g->n * count;
  const double cblocks = g->group * odlc_cost_ceil4(cpg);
  double fblocks = 0, scattered = 0;
  for (int f = 0; f < total; f += 4) {
    const int fb = total < 4 || f + 4 <= total ? f : total - 4;
    const int adjacent = total >= 4 && fb / count == (fb + 3) / count;
    fblocks += 1;
    scattered += !(cpg >= 4 && adjacent);
  }
  t[1] = cblocks * fblocks * 16 * mpg;  /* MACs of the 4 x 4 blocks */
  t[2] = cblocks * fblocks;             /* blocks */
  t[3] = cblocks * scattered;           /* blocks written lane by lane (dot4x4 + scatter) */
  t[4] = (double)g->n * g->c * g->h * g->w;
}

/* Input gradient of a sparse block (odlc_conv2d_backward_input_block_f32): 4 input channels at a
 * time, one dense input-gradient call per chunk and batch item on the compact geometry g, after
 * copying the chunk's weights. Terms: T0 the dense calls (not 1), T1..T5 the sum of the dense
 * kernel's own T1..T5 over the calls (flavour 0 general, 1 depthwise 3x3 stride 1, 2 depthwise
 * strided, 3 pointwise), T6 the copied weights. */
static inline void odlc_cost_grad_input_block(const odlc_cost_geom *g, int flavour,
                                              double t[ODLC_COST_TERMS])
{
  double u[ODLC_COST_TERMS];
  const int depthwise = flavour == 1 || flavour == 2;
  for (int i = 0; i < ODLC_COST_TERMS; ++i)
    t[i] = 0;
  for (int c0 = 0; c0 < g->c; c0 += 4) {
    odlc_cost_geom q = *g;
    const int cs = g->c - c0 < 4 ? g->c - c0 : 4;
    q.n = 1;
    q.c = cs;
    q.m = depthwise ? cs : g->m;
    q.group = depthwise ? cs : 1;
    for (int i = 0; i < ODLC_COST_TERMS; ++i)
      u[i] = 0;
    switch (flavour) {
    case 1: odlc_cost_dw_grad_input(&q, u); break;
    case 2: odlc_cost_dw_grad_input_strided(&q, u); break;
    case 3: odlc_cost_pw_grad_input(&q, u); break;
    default: odlc_cost_conv_grad_input(&q, u); break;
    }
    for (int i = 1; i <= 5; ++i)
      t[i] += g->n * u[i];
    t[0] += g->n;                                              /* dense calls */
    t[6] += (double)q.m * (depthwise ? 1 : cs) * g->kh * g->kw; /* weights copied */
  }
}

/* The terms of one call of kind `kind` with geometry g; t[0] is the call itself (1). */
static inline void odlc_cost_terms(odlc_cost_kind kind, const odlc_cost_geom *g,
                                   double t[ODLC_COST_TERMS])
{
  const double n = g->n, c = g->c, m = g->m;
  for (int i = 0; i < ODLC_COST_TERMS; ++i)
    t[i] = 0;
  t[0] = 1;
  switch (kind) {
  case ODLC_COST_Conv: odlc_cost_conv_forward(g, t); break;
  case ODLC_COST_ConvGradInput: odlc_cost_conv_grad_input(g, t); break;
  case ODLC_COST_ConvUpdate:
  case ODLC_COST_ConvPointwiseUpdate: odlc_cost_conv_update(g, t); break;
  case ODLC_COST_ConvUpdateNarrow: odlc_cost_conv_update_single(g, t); break;
  case ODLC_COST_ConvDepthwise: odlc_cost_dw_forward(g, t); break;
  case ODLC_COST_ConvDepthwiseGradInput: odlc_cost_dw_grad_input(g, t); break;
  case ODLC_COST_ConvDepthwiseGradInputStrided: odlc_cost_dw_grad_input_strided(g, t); break;
  case ODLC_COST_ConvDepthwiseUpdate: odlc_cost_dw_update(g, t); break;
  case ODLC_COST_ConvPointwise: odlc_cost_pw_forward(g, t); break;
  case ODLC_COST_ConvPointwiseGradInput: odlc_cost_pw_grad_input(g, t); break;
  case ODLC_COST_ConvGradInputBlock: odlc_cost_grad_input_block(g, 0, t); break;
  case ODLC_COST_ConvDepthwiseGradInputBlock: odlc_cost_grad_input_block(g, 1, t); break;
  case ODLC_COST_ConvDepthwiseGradInputBlockStrided: odlc_cost_grad_input_block(g, 2, t); break;
  case ODLC_COST_ConvPointwiseGradInputBlock: odlc_cost_grad_input_block(g, 3, t); break;
  case ODLC_COST_Gemm: { /* rows of A (n) against 4 rows of B at a time, the rest one by one */
    const double quads = (double)((long long)m / 4), rest = m - 4 * quads;
    t[1] = n * 4 * quads * c;
    t[2] = n * rest * c;
    t[3] = n * (quads + rest);
    t[4] = n * m;
    t[5] = n;
    break;
  }
  case ODLC_COST_GemmGradA: odlc_cost_grid(n, c, m, t); break; /* da: M x K grid over N */
  case ODLC_COST_GemmUpdate:
    if (n > 1) {
      odlc_cost_grid(m, c, n, t); /* gB: N x K grid over the M rows */
    } else {
      t[4] = m * c; /* a single row: rank-1 update */
    }
    t[5] = n * m; /* bias: dy summed over the rows */
    break;
  case ODLC_COST_GemmGradABlock: /* da[r][i] = sum_o dy[r][o] B(o, i) through the block */
    t[1] = n * c * m;
    t[2] = n * c;
    t[3] = n;
    break;
  case ODLC_COST_GemmUpdateBlock: /* per kept (o, i): a dot over the rows, SGD */
    t[1] = m * c * n;
    t[2] = m * c;
    t[3] = m * n;
    t[4] = m;
    break;
  case ODLC_COST_Unary:
  case ODLC_COST_UnaryClip:
  case ODLC_COST_UnaryGrad:
  case ODLC_COST_UnaryClipGrad:
  case ODLC_COST_Binary: t[1] = n * c * g->h; break;
  case ODLC_COST_Copy:
  case ODLC_COST_GlobalAvgpool:
  case ODLC_COST_GlobalAvgpoolGrad:
  case ODLC_COST_SoftmaxXent:
    t[1] = n * c * g->h; /* elements */
    t[2] = n * c;        /* rows, planes, samples */
    break;
  case ODLC_COST_Maxpool:
  case ODLC_COST_MaxpoolGrad:
  case ODLC_COST_Avgpool:
  case ODLC_COST_AvgpoolGrad: {
    const double outputs = n * c * g->oh * g->ow;
    t[1] = outputs * g->kh * g->kw; /* window taps */
    t[2] = outputs * g->kh;         /* window rows */
    t[3] = outputs;
    t[4] = n * c * g->oh;           /* output rows */
    t[5] = n * c * g->h * g->w;     /* input elements (gradients: zeroed first) */
    break;
  }
  case ODLC_COST_ChannelGather:
  case ODLC_COST_ChannelScatter: /* n rows of m kept channels of h elements, c channels in all */
    t[1] = n * m * g->h;
    t[2] = n * m;
    t[3] = n;
    t[4] = kind == ODLC_COST_ChannelScatter ? n * c * g->h : 0; /* zeroed first */
    break;
  case ODLC_COST_BiasUpdate:
    t[1] = n * c * g->h;
    t[2] = n * c;
    t[3] = c;
    break;
  case ODLC_COST_NUM_KINDS: break;
  }
}

#ifdef __cplusplus
}
#endif

#endif
