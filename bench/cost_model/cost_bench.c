/* Cost-model firmware: calls odlc's runtime kernels directly on representative shapes and
 * counts the retired instructions of each call (odlc_board.h: minstret on RV32, SysTick / 1.6
 * on Cortex-M, both under run.sh --icount).
 *
 *   cost_bench fit      the shapes measure.sh fits the cost terms to (fit.awk)
 *   cost_bench check    fresh shapes, never fitted, that check.sh compares with the table
 *
 * Prints `counter KIND`, one `calib iterations instructions` line per calibration loop (an
 * asm loop of exactly two instructions per iteration: shows how exact the counter is), then one
 * line per call:
 *   sample KIND PRECISION INSTRUCTIONS GEOMETRY T0 T1 ... T6
 * (`check` instead of `sample` in check mode). GEOMETRY is n_c_h_w_m_oh_ow_kh_kw_sh_sw_pt_pl_g
 * of the call; T0..T4 are its cost terms, computed from that geometry by
 * targets/costs/CostTerms.h, the very function the compiler's CostModel.cpp uses on a graph
 * node. */
#include <stdio.h>
#include <string.h>

#include "odlc_board.h"
#include "odlc_train.h"

#include "CostTerms.h"

#define BUF_FLOATS (40 * 1024)

static float buf_x[BUF_FLOATS], buf_w[BUF_FLOATS], buf_y[BUF_FLOATS], buf_d[BUF_FLOATS];
static float buf_b[4096], buf_v[4096];
static int32_t idx_a[1024], idx_b[1024];

static void fill_random(float *v, int n, unsigned seed)
{
  for (int i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = (float)(seed >> 8) / 16777216.0f * 2.0f - 1.0f;
  }
}

/* "sample" in fit mode, "check" in check mode. */
static const char *tag = "sample";

static void report(const char *kind, unsigned long long instr, const odlc_cost_geom *g)
{
  double t[ODLC_COST_TERMS];
  odlc_cost_kind k;
  if (!odlc_cost_kind_from_name(kind, &k)) {
    printf("error unknown kind %s\n", kind);
    return;
  }
  odlc_cost_terms(k, g, t);
  printf("%s %s fp32 %llu %d_%d_%d_%d_%d_%d_%d_%d_%d_%d_%d_%d_%d_%d_%d", tag, kind, instr, g->n,
         g->c, g->h, g->w, g->m, g->oh, g->ow, g->kh, g->kw, g->sh, g->sw, g->pt, g->pl, g->group,
         g->block);
  for (int i = 0; i < ODLC_COST_TERMS; ++i) {
    printf(" %.0f", t[i]);
  }
  printf("\n");
}

/* ---- Calibration ------------------------------------------------------------------------ */

static void count_down(unsigned n)
{
#if defined(ODLC_BOARD_RISCV)
  __asm__ volatile("1: addi %0, %0, -1\n\tbnez %0, 1b" : "+r"(n));
#elif defined(ODLC_BOARD_CORTEX_M)
  __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
#else
  volatile unsigned k = n;
  while (k)
    k = k - 1;
#endif
}

static void calibrate(unsigned n)
{
  unsigned long long instr;
  board_counter_start();
  count_down(n);
  instr = board_instructions();
  printf("calib %u %llu\n", n, instr);
}

/* ---- Convolutions ----------------------------------------------------------------------- */

/* Batch n, c -> m channels on an s x s input, k x k kernel, stride st, padding k / 2,
 * group g. */
typedef struct {
  int n, c, m, s, k, group, st;
} conv_shape;

static odlc_conv2d_params conv_params(const conv_shape *cs)
{
  odlc_conv2d_params p;
  memset(&p, 0, sizeof p);
  p.n = cs->n;
  p.c = cs->c;
  p.h = p.w = cs->s;
  p.m = cs->m;
  p.oh = p.ow = (cs->s + 2 * (cs->k / 2) - cs->k) / cs->st + 1;
  p.kh = p.kw = cs->k;
  p.sh = p.sw = cs->st;
  p.dh = p.dw = 1;
  p.pad_top = p.pad_left = cs->k / 2;
  p.group = cs->group;
  return p;
}

static odlc_cost_geom conv_geom(const odlc_conv2d_params *p)
{
  odlc_cost_geom g;
  g.n = p->n;
  g.c = p->c;
  g.h = p->h;
  g.w = p->w;
  g.m = p->m;
  g.oh = p->oh;
  g.ow = p->ow;
  g.kh = p->kh;
  g.kw = p->kw;
  g.sh = p->sh;
  g.sw = p->sw;
  g.pt = p->pad_top;
  g.pl = p->pad_left;
  g.group = p->group;
  g.block = 0;
  return g;
}

/* The update kind bwd_weight_sgd dispatches to. */
static const char *update_kind(const odlc_conv2d_params *p)
{
  const int cpg = p->c / p->group, mpg = p->m / p->group;
  if (cpg >= 4 && mpg >= 4)
    return p->kh == 1 && p->kw == 1 ? "conv_pointwise_update" : "conv_update";
  if (p->group > 1 && p->group == p->c && p->group == p->m && p->kh == 3 && p->kw == 3)
    return "conv_depthwise_update";
  return "conv_update_narrow";
}

/* Measures forward, input gradient and fused weight gradient + SGD of one conv shape under
 * the kind names PREFIX, PREFIX_grad_input and PREFIX_update (the narrow update path, fewer
 * than four channels per group on a side, as conv_update_narrow). Depthwise: 3x3 only. */
static void measure_conv(const char *prefix, const conv_shape *cs)
{
  const odlc_conv2d_params p = conv_params(cs);
  const odlc_cost_geom g = conv_geom(&p);
  const odlc_sgd_params sgd = {0.01f, 0.0f};
  const int cpg = cs->c / cs->group, mpg = cs->m / cs->group;
  char kind[48];
  unsigned long long instr;
  fill_random(buf_x, p.n * p.c * p.h * p.w, 1u);
  fill_random(buf_w, p.m * cpg * p.kh * p.kw, 2u);
  fill_random(buf_b, p.m, 3u);
  fill_random(buf_d, p.n * p.m * p.oh * p.ow, 4u);

  board_counter_start();
  odlc_conv2d_f32(&p, buf_x, buf_w, buf_b, buf_y);
  instr = board_instructions();
  report(prefix, instr, &g);

  if (cs->c > 1 || cs->group > 1) { /* a one-channel first layer never needs dx */
    board_counter_start();
    odlc_conv2d_backward_input_f32(&p, buf_d, buf_w, buf_y);
    instr = board_instructions();
    snprintf(kind, sizeof kind, "%s_grad_input%s", prefix,
             strcmp(prefix, "conv_depthwise") == 0 && cs->st > 1 ? "_strided" : "");
    report(kind, instr, &g);
  }

  board_counter_start();
  odlc_conv2d_backward_weight_sgd_f32(&p, &sgd, buf_x, buf_d, buf_w, buf_b, NULL, NULL);
  instr = board_instructions();
  (void)cpg;
  (void)mpg;
  report(update_kind(&p), instr, &g);
}

/* The sparse-update pieces of one conv shape: the input gradient of a block (the first `keep`
 * output channels of every kept input channel, as odlc_conv2d_backward_input_block_f32 does
 * from the full weight) and the block weight update on the compact geometry (reported under
 * the dense update kinds, geometry flag b = 1). */
static void measure_conv_block(const conv_shape *cs, int keep)
{
  odlc_conv2d_params p = conv_params(cs);
  const int depthwise = cs->group > 1;
  const int taps = p.kh * p.kw;
  odlc_weight_block blk;
  odlc_cost_geom g;
  unsigned long long instr;
  for (int i = 0; i < keep; ++i) {
    idx_a[i] = (i * 5) % keep; /* kept output channels, out of order */
    idx_b[i] = i;
  }
  blk.out_channels = idx_a;
  blk.in_channels = depthwise ? NULL : idx_b;
  blk.out_stride = depthwise ? taps : cs->c * taps;
  blk.in_stride = taps;
  fill_random(buf_x, p.n * p.c * p.h * p.w, 1u);
  fill_random(buf_w, p.m * (cs->c / cs->group) * taps, 2u);
  fill_random(buf_d, p.n * p.m * p.oh * p.ow, 4u);
  /* compact geometry: m = |O| = keep; depthwise c = group = keep, else c = |I| = keep too */
  p.m = keep;
  p.c = keep;
  p.group = depthwise ? keep : 1;
  g = conv_geom(&p);

  board_counter_start();
  odlc_conv2d_backward_input_block_f32(&p, &blk, buf_d, buf_w, buf_b, buf_y);
  instr = board_instructions();
  report(depthwise ? (p.sh > 1 ? "conv_depthwise_grad_input_block_strided"
                               : "conv_depthwise_grad_input_block")
         : p.kh == 1 && p.kw == 1 && p.sh == 1 ? "conv_pointwise_grad_input_block"
                                              : "conv_grad_input_block",
         instr, &g);

  /* The block weight update on the compact geometry (x: the kept input channels, dy: the kept
   * outputs), its gradients written through the block into the full weight. */
  {
    const odlc_sgd_params sgd = {0.01f, 0.0f};
    g.block = 1;
    board_counter_start();
    odlc_conv2d_backward_weight_block_sgd_f32(&p, &sgd, &blk, buf_x, buf_d, buf_w, buf_v, NULL,
                                              NULL);
    instr = board_instructions();
    report(update_kind(&p), instr, &g);
  }
}

/* ---- Gemm (PyTorch Linear layout: B stored [N][K], bias C broadcast over rows) ----------- */

typedef struct {
  int m, k, n;
} gemm_shape;

static odlc_cost_geom gemm_geom(const gemm_shape *gs)
{
  odlc_cost_geom g;
  memset(&g, 0, sizeof g);
  g.n = gs->m; /* rows of A: the batch */
  g.c = gs->k;
  g.m = gs->n;
  g.h = g.w = g.oh = g.ow = g.kh = g.kw = g.sh = g.sw = g.group = 1;
  return g;
}

static void measure_gemm(const gemm_shape *gs)
{
  odlc_gemm_params p;
  const odlc_sgd_params sgd = {0.01f, 0.0f};
  const odlc_cost_geom g = gemm_geom(gs);
  odlc_weight_block blk;
  unsigned long long instr;
  memset(&p, 0, sizeof p);
  p.m = gs->m;
  p.n = gs->n;
  p.k = gs->k;
  p.trans_b = 1;
  p.alpha = p.beta = 1.0f;
  p.c_stride_n = 1;
  fill_random(buf_x, gs->m * gs->k, 5u);
  fill_random(buf_w, gs->n * gs->k, 6u);
  fill_random(buf_b, gs->n, 7u);
  fill_random(buf_d, gs->m * gs->n, 8u);

  board_counter_start();
  odlc_gemm_f32(&p, buf_x, buf_w, buf_b, buf_y);
  instr = board_instructions();
  report("gemm", instr, &g);

  board_counter_start();
  odlc_gemm_backward_a_f32(&p, buf_d, buf_w, buf_y);
  instr = board_instructions();
  report("gemm_grad_a", instr, &g);

  board_counter_start();
  odlc_gemm_backward_b_sgd_f32(&p, &sgd, buf_x, buf_d, buf_w, buf_b, NULL, NULL);
  instr = board_instructions();
  report("gemm_update", instr, &g);

  /* The sparse pieces on the same compact shape (all rows and columns kept, out of order). */
  for (int i = 0; i < gs->n; ++i)
    idx_a[i] = (i * 7) % gs->n;
  for (int i = 0; i < gs->k; ++i)
    idx_b[i] = i;
  blk.out_channels = idx_a;
  blk.in_channels = idx_b;
  blk.out_stride = gs->k;
  blk.in_stride = 1;
  board_counter_start();
  odlc_gemm_backward_a_block_f32(&p, &blk, buf_d, buf_w, buf_y);
  instr = board_instructions();
  report("gemm_grad_a_block", instr, &g);

  board_counter_start();
  odlc_gemm_backward_b_block_sgd_f32(&p, &sgd, &blk, buf_x, buf_d, buf_w, buf_b, NULL, NULL);
  instr = board_instructions();
  report("gemm_update_block", instr, &g);
}

/* ---- Per-element kinds on a c x s x s tensor -------------------------------------------- */

static odlc_cost_geom elem_geom(int n, int c, int plane)
{
  odlc_cost_geom g;
  memset(&g, 0, sizeof g);
  g.n = n;
  g.c = g.m = c;
  g.h = g.oh = plane;
  g.w = g.ow = g.kh = g.kw = g.sh = g.sw = g.group = 1;
  return g;
}

static void measure_elementwise(int c, int s)
{
  const int n = c * s * s;
  const odlc_unary_params relu = {ODLC_UNARY_RELU, n, 0.0f, 0.0f};
  const odlc_unary_params relu6 = {ODLC_UNARY_CLIP, n, 0.0f, 6.0f};
  const odlc_cost_geom g = elem_geom(1, c, s * s);
  odlc_binary_params add;
  odlc_copy_params transpose;
  odlc_xent_params xent;
  int32_t labels[32];
  unsigned long long instr;
  fill_random(buf_x, n, 9u);
  fill_random(buf_w, n, 10u);
  fill_random(buf_d, n, 11u);

  board_counter_start();
  odlc_unary_f32(&relu, buf_x, buf_y);
  instr = board_instructions();
  report("unary", instr, &g);

  board_counter_start();
  odlc_unary_f32(&relu6, buf_x, buf_y);
  instr = board_instructions();
  report("unary_clip", instr, &g);

  board_counter_start();
  odlc_unary_backward_f32(&relu, buf_y, buf_d, buf_x + n);
  instr = board_instructions();
  report("unary_grad", instr, &g);

  board_counter_start();
  odlc_unary_backward_f32(&relu6, buf_y, buf_d, buf_x + n);
  instr = board_instructions();
  report("unary_clip_grad", instr, &g);

  memset(&add, 0, sizeof add);
  add.op = ODLC_BINARY_ADD;
  add.rank = 1;
  add.shape[0] = n;
  add.a_stride[0] = add.b_stride[0] = 1;
  board_counter_start();
  odlc_binary_f32(&add, buf_x, buf_w, buf_y);
  instr = board_instructions();
  report("binary", instr, &g);

  /* [c][s*s] -> [s*s][c]: the data movement ops (Transpose, Concat, Slice, Pad...). */
  memset(&transpose, 0, sizeof transpose);
  transpose.rank = 2;
  transpose.shape[0] = c;
  transpose.shape[1] = s * s;
  transpose.src_stride[0] = s * s;
  transpose.src_stride[1] = 1;
  transpose.dst_stride[0] = 1;
  transpose.dst_stride[1] = c;
  board_counter_start();
  odlc_copy_f32(&transpose, buf_x, buf_y);
  instr = board_instructions();
  report("copy", instr, &g);

  /* Softmax cross-entropy: c rows (at most 32) of 10 logits. */
  xent.classes = 10;
  xent.batch = c < 32 ? c : 32;
  for (int i = 0; i < xent.batch; ++i)
    labels[i] = i % 10;
  board_counter_start();
  odlc_softmax_xent_f32(&xent, xent.batch, buf_x, labels, NULL, buf_y);
  instr = board_instructions();
  {
    const odlc_cost_geom gx = elem_geom(1, xent.batch, 10);
    report("softmax_xent", instr, &gx);
  }
}

/* The sparse update's channel pieces on a batch of `rows` x c x s x s: gather `keep` channels,
 * scatter them back, and the bias-only SGD over all c channels. */
static void measure_channels(int rows, int c, int s, int keep)
{
  odlc_channel_block_params p;
  const odlc_sgd_params sgd = {0.01f, 0.0f};
  const odlc_bias_grad_params bp = {rows, c, s * s, 1.0f};
  const odlc_cost_geom gb = elem_geom(rows, c, s * s);
  odlc_cost_geom g = elem_geom(rows, keep, s * s);
  unsigned long long instr;
  for (int i = 0; i < keep; ++i)
    idx_a[i] = (i * 3) % c;
  p.x_rows = rows;
  p.x_channels = c;
  p.plane = s * s;
  p.n_rows = rows;
  p.n_channels = keep;
  p.rows = NULL;
  p.channels = idx_a;
  g.c = c; /* the full channel count: the scatter zeroes the whole tensor */
  fill_random(buf_x, rows * c * s * s, 14u);

  board_counter_start();
  odlc_channel_gather_f32(&p, buf_x, buf_y);
  instr = board_instructions();
  report("channel_gather", instr, &g);

  board_counter_start();
  odlc_channel_scatter_f32(&p, buf_y, buf_d);
  instr = board_instructions();
  report("channel_scatter", instr, &g);

  board_counter_start();
  odlc_bias_sgd_f32(&bp, &sgd, buf_x, buf_b, buf_v);
  instr = board_instructions();
  report("bias_update", instr, &gb);
}

/* Pools with a k x k window and stride k on c x s x s, and global average pooling. */
static void measure_pool(int c, int s, int k)
{
  odlc_pool2d_params p;
  const odlc_global_avgpool_params gp = {c, s * s};
  const int so = s / k;
  odlc_cost_geom g;
  unsigned long long instr;
  memset(&p, 0, sizeof p);
  p.n = 1;
  p.c = c;
  p.h = p.w = s;
  p.oh = p.ow = so;
  p.kh = p.kw = p.sh = p.sw = k;
  p.dh = p.dw = 1;
  memset(&g, 0, sizeof g);
  g.n = 1;
  g.c = g.m = g.group = c;
  g.h = g.w = s;
  g.oh = g.ow = so;
  g.kh = g.kw = g.sh = g.sw = k;
  fill_random(buf_x, c * s * s, 12u);
  fill_random(buf_d, c * so * so, 13u);

  board_counter_start();
  odlc_maxpool2d_f32(&p, buf_x, buf_y);
  instr = board_instructions();
  report("maxpool", instr, &g);

  board_counter_start();
  odlc_maxpool2d_backward_f32(&p, buf_x, buf_d, buf_y);
  instr = board_instructions();
  report("maxpool_grad", instr, &g);

  board_counter_start();
  odlc_avgpool2d_f32(&p, buf_x, buf_y);
  instr = board_instructions();
  report("avgpool", instr, &g);

  board_counter_start();
  odlc_avgpool2d_backward_f32(&p, buf_d, buf_y);
  instr = board_instructions();
  report("avgpool_grad", instr, &g);

  {
    const odlc_cost_geom ge = elem_geom(1, c, s * s);
    board_counter_start();
    odlc_global_avgpool_f32(&gp, buf_x, buf_y);
    instr = board_instructions();
    report("global_avgpool", instr, &ge);

    board_counter_start();
    odlc_global_avgpool_backward_f32(&gp, buf_d, buf_y);
    instr = board_instructions();
    report("global_avgpool_grad", instr, &ge);
  }
}

/* ---- Shape sets ------------------------------------------------------------------------- */

/* {n, c, m, s, k, group, stride}. MCU-sized layers (MCUNet, MobileNet, the Fashion-MNIST
 * example) with channel counts that are multiples of 4 and odd ones (the blocked kernels work
 * on 4 channels and recompute the lanes of a last, overlapping block), stride 1 and 2, 3x3 and
 * 5x5, batches 1 to 4. */
static const conv_shape conv_fit[] = {
    {1, 8, 8, 8, 3, 1, 1},    {1, 4, 8, 16, 3, 1, 1},   {1, 8, 16, 12, 3, 1, 1},
    {1, 32, 32, 4, 3, 1, 1},  {1, 16, 32, 14, 3, 1, 1}, {1, 32, 48, 7, 3, 1, 1},
    {1, 48, 64, 7, 3, 1, 1},  {1, 16, 16, 28, 3, 1, 1}, {1, 5, 12, 10, 3, 1, 1},
    {1, 6, 10, 9, 3, 1, 1},   {1, 13, 7, 8, 3, 1, 1},   {2, 8, 16, 10, 3, 1, 2},
    {4, 8, 8, 6, 3, 1, 1},    {1, 16, 24, 15, 3, 1, 2}, {1, 8, 8, 12, 5, 1, 1},
    {2, 12, 20, 9, 5, 1, 1},  {4, 16, 16, 7, 3, 1, 1},  {1, 3, 16, 16, 3, 1, 2},
    {1, 9, 17, 6, 3, 1, 1},   {4, 12, 24, 5, 3, 1, 1},  {4, 16, 24, 8, 3, 1, 2},
    {2, 24, 32, 12, 3, 1, 2}, {4, 6, 12, 10, 3, 1, 2},  {1, 32, 16, 9, 3, 1, 2},
};
/* Fewer than four input or output channels per group: the update runs weight by weight. */
static const conv_shape narrow_fit[] = {
    {1, 1, 8, 28, 3, 1, 1},  {4, 1, 4, 16, 3, 1, 1}, {1, 3, 8, 12, 3, 1, 2},
    {2, 2, 6, 10, 5, 1, 1},  {1, 8, 3, 9, 3, 1, 1},  {4, 1, 16, 14, 5, 1, 1},
    {1, 3, 16, 20, 3, 1, 1}, {2, 1, 8, 11, 3, 1, 1},
};
static const conv_shape depthwise_fit[] = {
    {2, 32, 32, 9, 3, 32, 2},   {1, 64, 64, 12, 3, 64, 2},   {4, 48, 48, 5, 3, 48, 2},
    {1, 8, 8, 7, 3, 8, 2},      {2, 40, 40, 13, 3, 40, 2},   {4, 20, 20, 11, 3, 20, 2},
    {1, 128, 128, 6, 3, 128, 2}, {2, 56, 56, 15, 3, 56, 2},  {4, 64, 64, 3, 3, 64, 2},
    {1, 8, 8, 8, 3, 8, 1},      {1, 128, 128, 4, 3, 128, 1}, {1, 64, 64, 7, 3, 64, 1},
    {1, 24, 24, 12, 3, 24, 1},  {1, 32, 32, 14, 3, 32, 1},   {1, 16, 16, 28, 3, 16, 1},
    {1, 13, 13, 9, 3, 13, 1},   {2, 24, 24, 14, 3, 24, 2},   {4, 16, 16, 8, 3, 16, 1},
    {1, 48, 48, 11, 3, 48, 2},  {1, 96, 96, 5, 3, 96, 1},    {4, 32, 32, 6, 3, 32, 2},
    {1, 7, 7, 15, 3, 7, 1},     {2, 20, 20, 10, 3, 20, 1},   {1, 16, 16, 13, 3, 16, 2},
    {1, 144, 144, 3, 3, 144, 1}, {4, 192, 192, 4, 3, 192, 1}, {4, 288, 288, 4, 3, 288, 2},
    {4, 144, 144, 6, 3, 144, 1}, {4, 96, 96, 8, 3, 96, 2},   {2, 384, 384, 3, 3, 384, 1},
};
static const conv_shape pointwise_fit[] = {
    {1, 16, 8, 8, 1, 1, 1},   {1, 8, 16, 28, 1, 1, 1},  {1, 16, 32, 14, 1, 1, 1},
    {1, 32, 64, 7, 1, 1, 1},  {1, 64, 128, 4, 1, 1, 1}, {1, 96, 24, 7, 1, 1, 1},
    {1, 13, 7, 9, 1, 1, 1},   {4, 16, 24, 5, 1, 1, 1},  {2, 24, 144, 6, 1, 1, 1},
    {1, 5, 11, 12, 1, 1, 1},  {4, 32, 16, 3, 1, 1, 1},  {1, 160, 32, 2, 1, 1, 1},
    {2, 10, 6, 11, 1, 1, 1},  {4, 48, 288, 4, 1, 1, 1}, {4, 288, 48, 4, 1, 1, 1},
    {4, 192, 64, 4, 1, 1, 1}, {4, 320, 80, 2, 1, 1, 1}, {4, 64, 384, 2, 1, 1, 1},
};
/* {m, k, n}: classifier heads and small MLPs, odd sizes included. */
static const gemm_shape gemm_fit[] = {
    {1, 64, 10}, {1, 256, 10}, {8, 64, 10},  {4, 128, 32}, {8, 64, 64}, {8, 256, 16},
    {16, 512, 10}, {4, 100, 10}, {5, 33, 7}, {4, 1280, 10}, {2, 50, 3},  {7, 20, 13},
    {4, 784, 16}, {1, 9, 5},
};
static const int elementwise_fit[][2] = {{4, 8}, {8, 16}, {16, 24}, {32, 16}, {3, 5}};
/* {rows, c, s, keep} */
static const int channels_fit[][4] = {{4, 16, 7, 8},  {4, 32, 4, 16}, {1, 8, 14, 2},
                                      {2, 24, 6, 18}, {4, 64, 2, 32}, {4, 13, 9, 5}};
static const int pool_fit[][3] = {{4, 8, 2},  {8, 16, 2}, {16, 24, 2}, {32, 12, 3},
                                  {5, 14, 2}, {12, 9, 3}, {3, 28, 2},  {64, 4, 2}};
/* conv shapes and kept channels of the sparse input-gradient block. */
static const conv_shape conv_block_fit[] = {
    {4, 16, 16, 7, 3, 1, 1},   {4, 32, 32, 4, 3, 1, 1},   {1, 24, 24, 10, 3, 1, 1},
    {4, 64, 64, 4, 3, 64, 1},  {2, 48, 48, 7, 3, 48, 1},  {1, 8, 8, 12, 3, 1, 1},
    {4, 16, 16, 6, 3, 1, 2},   {1, 40, 40, 5, 3, 40, 1},  {2, 12, 12, 9, 5, 1, 1},
    {4, 24, 24, 8, 3, 1, 1},   {4, 96, 96, 3, 3, 96, 1},  {1, 32, 32, 14, 3, 32, 2},
    {4, 40, 40, 5, 3, 1, 1},   {2, 64, 64, 6, 3, 64, 1},  {4, 16, 16, 10, 3, 16, 2},
    {1, 20, 20, 12, 3, 1, 1},  {4, 48, 48, 4, 1, 1, 1},   {4, 144, 144, 4, 1, 1, 1},
    {1, 32, 32, 7, 1, 1, 1},   {4, 96, 24, 2, 1, 1, 1},   {2, 20, 40, 6, 1, 1, 1},
    {4, 64, 16, 3, 1, 1, 1},   {4, 192, 192, 4, 3, 192, 2}, {4, 24, 24, 9, 3, 24, 2},
    {4, 288, 288, 4, 3, 288, 1}, {4, 192, 192, 4, 3, 192, 1}, {4, 288, 288, 4, 1, 1, 1},
    {4, 320, 320, 2, 1, 1, 1},   {4, 12, 12, 6, 3, 1, 1},     {2, 32, 32, 8, 3, 1, 1},
    {4, 8, 8, 10, 3, 1, 2},      {1, 48, 48, 5, 3, 1, 1},     {4, 20, 20, 7, 3, 1, 2},
    {4, 32, 32, 6, 3, 32, 1},    {1, 144, 144, 3, 3, 144, 1}, {2, 96, 96, 5, 3, 96, 1},
    {2, 64, 64, 8, 3, 64, 2},    {4, 48, 48, 6, 3, 48, 2},    {1, 96, 96, 10, 3, 96, 2},
    {4, 144, 144, 4, 3, 144, 2}, {4, 96, 96, 4, 1, 1, 1},     {2, 40, 40, 7, 1, 1, 1},
};
static const int conv_block_keep[] = {8,  16,  12, 32, 24, 5,   10,  20,  6,   13, 48, 11, 20, 16,
                                      8,  7,   36, 108, 24, 18, 15, 48, 144, 18, 216, 144, 216,
                                      240, 9, 24, 6, 36, 15, 24, 108, 72, 48, 36, 72, 108, 72, 30};

/* Fresh shapes that appear in no fit set: odd channel counts, odd spatial sizes, depthwise,
 * stride 2, batches. Every kind is checked within 15 %. */
static const conv_shape conv_check[] = {{1, 12, 20, 11, 3, 1, 1}, {1, 5, 7, 13, 3, 1, 1},
                                        {4, 10, 14, 8, 3, 1, 2},  {2, 7, 9, 9, 5, 1, 1}};
static const conv_shape narrow_check[] = {{4, 1, 6, 13, 3, 1, 1}, {1, 2, 12, 15, 5, 1, 2}};
static const conv_shape depthwise_check[] = {{1, 40, 40, 9, 3, 40, 1},
                                             {4, 240, 240, 4, 3, 240, 1},
                                             {4, 24, 24, 7, 3, 24, 2},
                                             {1, 11, 11, 17, 3, 11, 1},
                                             {2, 36, 36, 6, 3, 36, 2}};
static const conv_shape pointwise_check[] = {{1, 20, 36, 10, 1, 1, 1}, {4, 11, 27, 6, 1, 1, 1},
                                             {4, 240, 40, 4, 1, 1, 1},
                                             {2, 72, 9, 3, 1, 1, 1}};
static const gemm_shape gemm_check[] = {{8, 96, 12}, {3, 77, 19}, {4, 400, 10}};
static const int elementwise_check[][2] = {{5, 13}, {24, 9}};
static const int channels_check[][4] = {{4, 20, 5, 10}, {3, 11, 8, 7}};
static const int pool_check[][3] = {{7, 14, 2}, {20, 10, 2}, {6, 15, 3}};
static const conv_shape conv_block_check[] = {
    {4, 20, 20, 5, 3, 1, 1}, {3, 36, 36, 6, 3, 36, 1}, {2, 16, 16, 9, 5, 1, 1},
    {4, 80, 80, 3, 1, 1, 1}, {2, 28, 56, 5, 1, 1, 1},  {4, 72, 72, 6, 3, 72, 2},
    {4, 240, 240, 4, 3, 240, 1}, {4, 240, 240, 4, 1, 1, 1}};
static const int conv_block_check_keep[] = {10, 27, 7, 60, 21, 54, 180, 180};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void run_sets(const conv_shape *conv, int n_conv, const conv_shape *narrow, int n_narrow,
                     const conv_shape *dw, int n_dw, const conv_shape *pw, int n_pw,
                     const gemm_shape *gemm, int n_gemm, const int (*elem)[2], int n_elem,
                     const int (*chan)[4], int n_chan, const int (*pool)[3], int n_pool,
                     const conv_shape *block, const int *keep, int n_block)
{
  for (int i = 0; i < n_conv; ++i)
    measure_conv("conv", &conv[i]);
  for (int i = 0; i < n_narrow; ++i)
    measure_conv("conv", &narrow[i]);
  for (int i = 0; i < n_dw; ++i)
    measure_conv("conv_depthwise", &dw[i]);
  for (int i = 0; i < n_pw; ++i)
    measure_conv("conv_pointwise", &pw[i]);
  for (int i = 0; i < n_gemm; ++i)
    measure_gemm(&gemm[i]);
  for (int i = 0; i < n_elem; ++i)
    measure_elementwise(elem[i][0], elem[i][1]);
  for (int i = 0; i < n_chan; ++i)
    measure_channels(chan[i][0], chan[i][1], chan[i][2], chan[i][3]);
  for (int i = 0; i < n_pool; ++i)
    measure_pool(pool[i][0], pool[i][1], pool[i][2]);
  for (int i = 0; i < n_block; ++i)
    measure_conv_block(&block[i], keep[i]);
}

int main(int argc, char **argv)
{
  static const char *const kinds[] = {"none", "exact", "estimate"};
  const int check = argc > 1 && strcmp(argv[1], "check") == 0;
  printf("counter %s\n", kinds[board_counter_kind()]);
  calibrate(1000u);
  calibrate(100000u);
  if (check) {
    tag = "check";
    run_sets(conv_check, COUNT(conv_check), narrow_check, COUNT(narrow_check), depthwise_check,
             COUNT(depthwise_check), pointwise_check, COUNT(pointwise_check), gemm_check,
             COUNT(gemm_check), elementwise_check, COUNT(elementwise_check), channels_check,
             COUNT(channels_check), pool_check, COUNT(pool_check), conv_block_check,
             conv_block_check_keep, COUNT(conv_block_check));
  } else {
    run_sets(conv_fit, COUNT(conv_fit), narrow_fit, COUNT(narrow_fit), depthwise_fit,
             COUNT(depthwise_fit), pointwise_fit, COUNT(pointwise_fit), gemm_fit, COUNT(gemm_fit),
             elementwise_fit, COUNT(elementwise_fit), channels_fit, COUNT(channels_fit), pool_fit,
             COUNT(pool_fit), conv_block_fit, conv_block_keep, COUNT(conv_block_fit));
  }
  return 0;
}
