/* Cost-model firmware: calls odlc's runtime kernels directly on representative shapes and
 * counts the retired instructions of each call (odlc_board.h: minstret on RV32, SysTick / 1.6
 * on Cortex-M, both under run.sh --icount).
 *
 *   cost_bench fit      the shapes measure.sh fits instructions = perCall + perMac * units to
 *   cost_bench check    fresh odd shapes, never fitted, that check.sh compares with the table
 *
 * Prints `counter KIND`, one `calib iterations instructions` line per calibration loop (an
 * asm loop of exactly two instructions per iteration: shows how exact the counter is), then one
 * `sample KIND PRECISION UNITS INSTRUCTIONS SHAPE` line per call (`check` or `probe` instead
 * of `sample` in check mode). UNITS are the op table's MACs
 * for the linear kinds and elements (pool: output elements x window) for the others. */
#include <stdio.h>
#include <string.h>

#include "odlc_board.h"
#include "odlc_train.h"

#define BUF_FLOATS (40 * 1024)

static float buf_x[BUF_FLOATS], buf_w[BUF_FLOATS], buf_y[BUF_FLOATS], buf_d[BUF_FLOATS];
static float buf_b[1024];

static void fill_random(float *v, int n, unsigned seed)
{
  for (int i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = (float)(seed >> 8) / 16777216.0f * 2.0f - 1.0f;
  }
}

/* "sample" in fit mode; in check mode "check" (compared within 15 %) or "probe" (reported). */
static const char *tag = "sample";

static void report(const char *kind, long long units, unsigned long long instr,
                   const char *shape)
{
  printf("%s %s fp32 %lld %llu %s\n", tag, kind, units, instr, shape);
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

/* c -> m channels on an s x s input, k x k kernel, stride 1, "same" padding, group g. */
typedef struct {
  int c, m, s, k, group;
} conv_shape;

static odlc_conv2d_params conv_params(const conv_shape *cs)
{
  odlc_conv2d_params p;
  memset(&p, 0, sizeof p);
  p.n = 1;
  p.c = cs->c;
  p.h = p.w = cs->s;
  p.m = cs->m;
  p.oh = p.ow = cs->s;
  p.kh = p.kw = cs->k;
  p.sh = p.sw = p.dh = p.dw = 1;
  p.pad_top = p.pad_left = cs->k / 2;
  p.group = cs->group;
  return p;
}

/* Measures forward, input gradient and fused weight gradient + SGD of one conv shape under
 * the kind names PREFIX, PREFIX_grad_input and PREFIX_update. */
static void measure_conv(const char *prefix, const conv_shape *cs)
{
  const odlc_conv2d_params p = conv_params(cs);
  const odlc_sgd_params sgd = {0.01f, 0.0f};
  const long long macs = (long long)cs->m * cs->s * cs->s * (cs->c / cs->group) * cs->k * cs->k;
  char shape[64], kind[48];
  unsigned long long instr;
  snprintf(shape, sizeof shape, "c%d_m%d_s%d_k%d_g%d", cs->c, cs->m, cs->s, cs->k, cs->group);
  fill_random(buf_x, cs->c * cs->s * cs->s, 1u);
  fill_random(buf_w, cs->m * (cs->c / cs->group) * cs->k * cs->k, 2u);
  fill_random(buf_b, cs->m, 3u);
  fill_random(buf_d, cs->m * cs->s * cs->s, 4u);

  board_counter_start();
  odlc_conv2d_f32(&p, buf_x, buf_w, buf_b, buf_y);
  instr = board_instructions();
  report(prefix, macs, instr, shape);

  board_counter_start();
  odlc_conv2d_backward_input_f32(&p, buf_d, buf_w, buf_y);
  instr = board_instructions();
  snprintf(kind, sizeof kind, "%s_grad_input", prefix);
  report(kind, macs, instr, shape);

  board_counter_start();
  odlc_conv2d_backward_weight_sgd_f32(&p, &sgd, buf_x, buf_d, buf_w, buf_b, NULL, NULL);
  instr = board_instructions();
  snprintf(kind, sizeof kind, "%s_update", prefix);
  report(kind, macs, instr, shape);
}

/* ---- Gemm (PyTorch Linear layout: B stored [N][K], bias C broadcast over rows) ----------- */

typedef struct {
  int m, k, n;
} gemm_shape;

static void measure_gemm(const gemm_shape *gs)
{
  odlc_gemm_params p;
  const odlc_sgd_params sgd = {0.01f, 0.0f};
  const long long macs = (long long)gs->m * gs->k * gs->n;
  char shape[64];
  unsigned long long instr;
  memset(&p, 0, sizeof p);
  p.m = gs->m;
  p.n = gs->n;
  p.k = gs->k;
  p.trans_b = 1;
  p.alpha = p.beta = 1.0f;
  p.c_stride_n = 1;
  snprintf(shape, sizeof shape, "m%d_k%d_n%d", gs->m, gs->k, gs->n);
  fill_random(buf_x, gs->m * gs->k, 5u);
  fill_random(buf_w, gs->n * gs->k, 6u);
  fill_random(buf_b, gs->n, 7u);
  fill_random(buf_d, gs->m * gs->n, 8u);

  board_counter_start();
  odlc_gemm_f32(&p, buf_x, buf_w, buf_b, buf_y);
  instr = board_instructions();
  report("gemm", macs, instr, shape);

  board_counter_start();
  odlc_gemm_backward_a_f32(&p, buf_d, buf_w, buf_y);
  instr = board_instructions();
  report("gemm_grad_a", macs, instr, shape);

  board_counter_start();
  odlc_gemm_backward_b_sgd_f32(&p, &sgd, buf_x, buf_d, buf_w, buf_b, NULL, NULL);
  instr = board_instructions();
  report("gemm_update", macs, instr, shape);
}

/* ---- Per-element kinds on a c x s x s tensor -------------------------------------------- */

static void measure_elementwise(int c, int s)
{
  const int n = c * s * s;
  const odlc_unary_params relu = {ODLC_UNARY_RELU, n, 0.0f, 0.0f};
  odlc_binary_params add;
  odlc_copy_params transpose;
  odlc_xent_params xent;
  int32_t labels[32];
  char shape[64];
  unsigned long long instr;
  snprintf(shape, sizeof shape, "c%d_s%d", c, s);
  fill_random(buf_x, n, 9u);
  fill_random(buf_w, n, 10u);
  fill_random(buf_d, n, 11u);

  board_counter_start();
  odlc_unary_f32(&relu, buf_x, buf_y);
  instr = board_instructions();
  report("unary", n, instr, shape);

  board_counter_start();
  odlc_unary_backward_f32(&relu, buf_y, buf_d, buf_x + n);
  instr = board_instructions();
  report("unary_grad", n, instr, shape);

  memset(&add, 0, sizeof add);
  add.op = ODLC_BINARY_ADD;
  add.rank = 1;
  add.shape[0] = n;
  add.a_stride[0] = add.b_stride[0] = 1;
  board_counter_start();
  odlc_binary_f32(&add, buf_x, buf_w, buf_y);
  instr = board_instructions();
  report("binary", n, instr, shape);

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
  report("copy", n, instr, shape);

  /* Softmax cross-entropy: c rows (at most 32) of 10 logits. */
  xent.classes = 10;
  xent.batch = c < 32 ? c : 32;
  for (int i = 0; i < xent.batch; ++i)
    labels[i] = i % 10;
  board_counter_start();
  odlc_softmax_xent_f32(&xent, xent.batch, buf_x, labels, NULL, buf_y);
  instr = board_instructions();
  report("softmax_xent", xent.batch * 10, instr, shape);
}

/* Pools with a k x k window and stride k on c x s x s, and global average pooling. */
static void measure_pool(int c, int s, int k)
{
  odlc_pool2d_params p;
  const odlc_global_avgpool_params gp = {c, s * s};
  const int so = s / k;
  const long long units = (long long)c * so * so * k * k;
  char shape[64];
  unsigned long long instr;
  memset(&p, 0, sizeof p);
  p.n = 1;
  p.c = c;
  p.h = p.w = s;
  p.oh = p.ow = so;
  p.kh = p.kw = p.sh = p.sw = k;
  p.dh = p.dw = 1;
  snprintf(shape, sizeof shape, "c%d_s%d_k%d", c, s, k);
  fill_random(buf_x, c * s * s, 12u);
  fill_random(buf_d, c * so * so, 13u);

  board_counter_start();
  odlc_maxpool2d_f32(&p, buf_x, buf_y);
  instr = board_instructions();
  report("maxpool", units, instr, shape);

  board_counter_start();
  odlc_maxpool2d_backward_f32(&p, buf_x, buf_d, buf_y);
  instr = board_instructions();
  report("maxpool_grad", units, instr, shape);

  board_counter_start();
  odlc_avgpool2d_f32(&p, buf_x, buf_y);
  instr = board_instructions();
  report("avgpool", units, instr, shape);

  board_counter_start();
  odlc_avgpool2d_backward_f32(&p, buf_d, buf_y);
  instr = board_instructions();
  report("avgpool_grad", units, instr, shape);

  board_counter_start();
  odlc_global_avgpool_f32(&gp, buf_x, buf_y);
  instr = board_instructions();
  report("global_avgpool", (long long)c * s * s, instr, shape);

  board_counter_start();
  odlc_global_avgpool_backward_f32(&gp, buf_d, buf_y);
  instr = board_instructions();
  report("global_avgpool_grad", (long long)c * s * s, instr, shape);
}

/* ---- Shape sets ------------------------------------------------------------------------- */

/* MCU-sized layers (MCUNet, MobileNet, the Fashion-MNIST example): channel counts are
 * multiples of 4, as in those models, and the MAC counts span about 5 k to 1.8 M per call. */
static const conv_shape conv_fit[] = {{8, 8, 8, 3, 1},    {4, 8, 16, 3, 1},  {8, 16, 12, 3, 1},
                                      {32, 32, 4, 3, 1},  {16, 32, 14, 3, 1}, {32, 48, 7, 3, 1},
                                      {48, 64, 7, 3, 1},  {16, 16, 28, 3, 1}};
static const conv_shape depthwise_fit[] = {{8, 8, 8, 3, 8},     {128, 128, 4, 3, 128},
                                           {64, 64, 7, 3, 64},  {24, 24, 12, 3, 24},
                                           {32, 32, 14, 3, 32}, {16, 16, 28, 3, 16}};
static const conv_shape pointwise_fit[] = {{16, 8, 8, 1, 1},   {8, 16, 28, 1, 1},
                                           {16, 32, 14, 1, 1}, {32, 64, 7, 1, 1},
                                           {64, 128, 4, 1, 1}, {96, 24, 7, 1, 1}};
static const gemm_shape gemm_fit[] = {{1, 64, 10}, {1, 256, 10}, {8, 64, 10},  {4, 128, 32},
                                      {8, 64, 64}, {8, 256, 16}, {16, 512, 10}};
static const int elementwise_fit[][2] = {{4, 8}, {8, 16}, {16, 24}, {32, 16}};
static const int pool_fit[][3] = {{4, 8, 2}, {8, 16, 2}, {16, 24, 2}, {32, 12, 3}};

/* Fresh shapes that appear in no fit set, with odd spatial sizes. Checked: channel counts
 * that are multiples of 4, as in the fit (the blocked kernels' granule). Probed (reported, not
 * checked): odd channel counts, where blocked kernels recompute lanes, and the kinds whose cost
 * is not linear in MACs (depthwise: per-row and border work; pools: per-window work). */
static const conv_shape conv_check[] = {{12, 20, 11, 3, 1}};
static const conv_shape pointwise_check[] = {{20, 36, 10, 1, 1}};
static const gemm_shape gemm_check[] = {{8, 96, 12}};
static const int elementwise_check[][2] = {{5, 13}};
static const conv_shape conv_probe[] = {{5, 7, 13, 3, 1}};
static const conv_shape depthwise_probe[] = {{40, 40, 9, 3, 40}};
static const gemm_shape gemm_probe[] = {{3, 77, 19}};
static const int pool_probe[][3] = {{7, 14, 2}};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void run_fit(void)
{
  for (int i = 0; i < COUNT(conv_fit); ++i)
    measure_conv("conv", &conv_fit[i]);
  for (int i = 0; i < COUNT(depthwise_fit); ++i)
    measure_conv("conv_depthwise", &depthwise_fit[i]);
  for (int i = 0; i < COUNT(pointwise_fit); ++i)
    measure_conv("conv_pointwise", &pointwise_fit[i]);
  for (int i = 0; i < COUNT(gemm_fit); ++i)
    measure_gemm(&gemm_fit[i]);
  for (int i = 0; i < COUNT(elementwise_fit); ++i)
    measure_elementwise(elementwise_fit[i][0], elementwise_fit[i][1]);
  for (int i = 0; i < COUNT(pool_fit); ++i)
    measure_pool(pool_fit[i][0], pool_fit[i][1], pool_fit[i][2]);
}

static void run_check(void)
{
  tag = "check";
  for (int i = 0; i < COUNT(conv_check); ++i)
    measure_conv("conv", &conv_check[i]);
  for (int i = 0; i < COUNT(pointwise_check); ++i)
    measure_conv("conv_pointwise", &pointwise_check[i]);
  for (int i = 0; i < COUNT(gemm_check); ++i)
    measure_gemm(&gemm_check[i]);
  for (int i = 0; i < COUNT(elementwise_check); ++i)
    measure_elementwise(elementwise_check[i][0], elementwise_check[i][1]);
  tag = "probe";
  for (int i = 0; i < COUNT(conv_probe); ++i)
    measure_conv("conv", &conv_probe[i]);
  for (int i = 0; i < COUNT(depthwise_probe); ++i)
    measure_conv("conv_depthwise", &depthwise_probe[i]);
  for (int i = 0; i < COUNT(gemm_probe); ++i)
    measure_gemm(&gemm_probe[i]);
  for (int i = 0; i < COUNT(pool_probe); ++i)
    measure_pool(pool_probe[i][0], pool_probe[i][1], pool_probe[i][2]);
}

int main(int argc, char **argv)
{
  static const char *const kinds[] = {"none", "exact", "estimate"};
  const int check = argc > 1 && strcmp(argv[1], "check") == 0;
  printf("counter %s\n", kinds[board_counter_kind()]);
  calibrate(1000u);
  calibrate(100000u);
  if (check)
    run_check();
  else
    run_fit();
  return 0;
}
