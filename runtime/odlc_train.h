/* odlc runtime: backward and update kernels for on-device training (fp32).
 *
 * Conventions (as in odlc_runtime.h, whose parameter structs these kernels reuse):
 *  - Tensors are dense row-major float32; the batch is the leading dimension.
 *  - Gradients named dy are dLoss/dOutput of the forward op; dx, da, db are written
 *    (overwritten, never accumulated) unless a kernel says otherwise.
 *  - The loss kernel already divides by the number of samples, so weight gradients are plain
 *    sums over the batch and the update kernels apply them directly.
 *  - Fused weight-gradient + SGD kernels compute each weight's gradient completely and update the
 *    weight at once, so no weight-gradient buffer ever exists. They must run after every kernel
 *    that still needs the old weight (the input-gradient kernel of the same layer).
 *  - SGD with momentum follows PyTorch (dampening 0, no Nesterov): v = momentum * v + g;
 *    w -= lr * v. With momentum == 0 the velocity pointer may be NULL and w -= lr * g.
 */
#ifndef ODLC_TRAIN_H
#define ODLC_TRAIN_H

#include "odlc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  float lr;
  float momentum;
} odlc_sgd_params;

/* ---- Convolution ------------------------------------------------------------------------ */

/* dx[n][c][h][w] = sum over every (m, oh, ow, kh, kw) whose window reads input position
 * (h, w) of channel c: dy[n][m][oh][ow] * w[m][c - g*cpg][kh][kw]. Same parameters as the
 * forward call. */
void odlc_conv2d_backward_input_f32(const odlc_conv2d_params *p, const float *dy, const float *w,
                                    float *dx);

/* gw[m][ci][kh][kw] = sum_{n,oh,ow} dy[n][m][oh][ow] * x[n][g*cpg+ci][ih][iw] (0 where padded),
 * gb[m] = sum_{n,oh,ow} dy[n][m][oh][ow]; then SGD on w (and b unless NULL) with velocities
 * vw, vb (NULL when momentum is 0). x is the forward input. */
void odlc_conv2d_backward_weight_sgd_f32(const odlc_conv2d_params *p, const odlc_sgd_params *s,
                                         const float *x, const float *dy, float *w, float *b,
                                         float *vw, float *vb);

/* ---- Sparse update (seed 003 sec. 4.4) ------------------------------------------------- */

/* Where the compact weight block of a sparse update lives in the full weight: compact output
 * channel o and input channel i (and tap k of a convolution) are element
 * out_channels[o] * out_stride + in_channels[i] * in_stride + k. in_channels NULL: the compact
 * input index itself (depthwise: always 0). */
typedef struct {
  const int32_t *out_channels;
  const int32_t *in_channels;
  int32_t out_stride;
  int32_t in_stride;
} odlc_weight_block;

/* As odlc_conv2d_backward_weight_sgd_f32 on the compact geometry p (p->m = |O|, p->c = |I|; x
 * holds the kept input channels, dy the output channels O), with the gradients applied to the
 * block of the full w (vw) that blk names; b[out_channels[o]] (vb) for the bias. */
void odlc_conv2d_backward_weight_block_sgd_f32(const odlc_conv2d_params *p,
                                               const odlc_sgd_params *s,
                                               const odlc_weight_block *blk, const float *x,
                                               const float *dy, float *w, float *b, float *vw,
                                               float *vb);

/* dx[:, I] (compact, [n][|I|][h][w]) from dy[:, O] (compact) and the full weight w, whose block
 * [O, I] blk names; p is the compact geometry (c = |I|, m = |O|; depthwise: group = c = m). The
 * dense kernel runs on four input channels at a time, whose W[O, chunk] is copied to wbuf:
 * |O| * min(4, |I|) * kh * kw floats (depthwise: min(4, |O|) * kh * kw). */
void odlc_conv2d_backward_input_block_f32(const odlc_conv2d_params *p,
                                          const odlc_weight_block *blk, const float *dy,
                                          const float *w, float *wbuf, float *dx);

/* da[r][i] = alpha * sum_o dy[r][o] * B(out_channels[o], in_channels[i]) for the compact
 * dy[M][|O|] and da[M][|I|] (p: m = M, n = |O|, k = |I|), B read through blk. */
void odlc_gemm_backward_a_block_f32(const odlc_gemm_params *p, const odlc_weight_block *blk,
                                    const float *dy, const float *b, float *da);

/* y[r][c][:] = x[rows[r]][channels[c]][:]: x is [x_rows][x_channels][plane], y is
 * [n_rows][n_channels][plane]; rows (channels) NULL means every row (channel) in order. */
typedef struct {
  int32_t x_rows, x_channels, plane;
  int32_t n_rows, n_channels;
  const int32_t *rows;
  const int32_t *channels;
} odlc_channel_block_params;

void odlc_channel_gather_f32(const odlc_channel_block_params *p, const float *x, float *y);

/* The inverse placement: y (shaped like the gather's x) = 0, then
 * y[rows[r]][channels[c]][:] = x[r][c][:]. */
void odlc_channel_scatter_f32(const odlc_channel_block_params *p, const float *x, float *y);

/* Bias-only update (TinyTL): g[c] = scale * sum over n and the plane of dy[n][c][:], then SGD on
 * b[c] (velocity vb, NULL when momentum is 0). */
typedef struct {
  int32_t n, c, plane;
  float scale;
} odlc_bias_grad_params;

void odlc_bias_sgd_f32(const odlc_bias_grad_params *p, const odlc_sgd_params *s, const float *dy,
                       float *b, float *vb);

/* gB for the compact a[M][|I|] (the kept columns of A) and dy[M][|O|] (p: m = M, k = |I|,
 * n = |O|, alpha, beta): g(o, i) = alpha * sum_r a[r][i] dy[r][o], applied by SGD to the block
 * of the full B (vb) that blk names; with c (vc) not NULL, c[out_channels[o]] gets
 * beta * sum_r dy[r][o] (a bias with one value per output column). */
void odlc_gemm_backward_b_block_sgd_f32(const odlc_gemm_params *p, const odlc_sgd_params *s,
                                        const odlc_weight_block *blk, const float *a,
                                        const float *dy, float *b, float *c, float *vb,
                                        float *vc);

/* ---- Fully connected -------------------------------------------------------------------- */

/* For y = alpha * A op(B) + beta * C with trans_a == 0:
 * da[M][K] = alpha * dy[M][N] op(B)^T. */
void odlc_gemm_backward_a_f32(const odlc_gemm_params *p, const float *dy, const float *b,
                              float *da);

/* gB = alpha * (A^T dy) laid out like B (transposed when trans_b), gC = beta * dy summed over the
 * dimensions along which C is broadcast (C's strides in p; C may be NULL: no bias update);
 * then SGD on B and C with velocities vb, vc (NULL when momentum is 0). trans_a must be 0. */
void odlc_gemm_backward_b_sgd_f32(const odlc_gemm_params *p, const odlc_sgd_params *s,
                                  const float *a, const float *dy, float *b, float *c, float *vb,
                                  float *vc);

/* ---- Elementwise ------------------------------------------------------------------------ */

/* dx = dy * f'(...), with the derivative computed from `saved`, which is the forward input x or
 * output y as odlc_unary_backward_saves_output() says for the op. Matches PyTorch at the kinks:
 *   RELU        y: dy where y > 0
 *   CLIP(a,b)   y: dy where a < y < b   (relu6 = clip(0, 6); PyTorch hardtanh)
 *   LEAKY_RELU  y: dy where y > 0, else a * dy   (requires a > 0)
 *   SIGMOID     y: dy * y * (1 - y)
 *   HARD_SIGMOID y: dy * a where 0 < y < 1
 *   HARD_SWISH  x: 0 where x < -3, dy * (x / 3 + 0.5) where x <= 3, dy above
 *   TANH        y: dy * (1 - y * y)
 * Other ops are not differentiable here. In-place safe (dx == dy). */
void odlc_unary_backward_f32(const odlc_unary_params *p, const float *saved, const float *dy,
                             float *dx);

/* 1 when odlc_unary_backward_f32 wants the forward output for op, 0 when the input. */
int odlc_unary_backward_saves_output(int32_t op);

/* Sum reduction (the gradient of a broadcast): like odlc_reduce_mean_f32, but sums and then
 * multiplies by `scale` (e.g. -1 for the second operand of Sub). */
typedef struct {
  odlc_reduce_params reduce;
  float scale;
} odlc_reduce_sum_params;

void odlc_reduce_sum_f32(const odlc_reduce_sum_params *p, const float *x, float *y);

/* ---- Pooling ---------------------------------------------------------------------------- */

/* dx = 0, then each dy goes to the position of its window's maximum in x (the first one in
 * row-major window order on ties, as PyTorch). */
void odlc_maxpool2d_backward_f32(const odlc_pool2d_params *p, const float *x, const float *dy,
                                 float *dx);

/* dx = sum over windows containing the position of dy / divisor (the forward's divisor). */
void odlc_avgpool2d_backward_f32(const odlc_pool2d_params *p, const float *dy, float *dx);

/* dx[i][j] = dy[i] / hw. */
void odlc_global_avgpool_backward_f32(const odlc_global_avgpool_params *p, const float *dy,
                                      float *dx);

/* ---- Loss ------------------------------------------------------------------------------- */

typedef struct {
  int32_t batch;   /* rows of logits (compiled batch) */
  int32_t classes; /* columns */
} odlc_xent_params;

/* Softmax cross-entropy over the first n rows (1 <= n <= batch) with integer labels and optional
 * class weights (NULL = all 1), reduced like PyTorch's CrossEntropyLoss(weight, 'mean'):
 *   loss = sum_i w[y_i] * (logsumexp(z_i) - z_i[y_i]) / sum_i w[y_i].
 * Writes dz = w[y_i] * (softmax(z_i) - onehot(y_i)) / sum_i w[y_i] for rows < n and 0 for rows
 * n..batch-1 (their logits are ignored). Returns the loss. Labels must be in [0, classes). */
float odlc_softmax_xent_f32(const odlc_xent_params *p, int32_t n, const float *z,
                            const int32_t *labels, const float *class_weight, float *dz);

/* ---- Utilities -------------------------------------------------------------------------- */

/* y[i] = value for i < count. */
void odlc_fill_f32(float *y, int32_t count, float value);

/* 1 when every x[i] (i < count) is finite, else 0. */
int odlc_all_finite_f32(const float *x, int32_t count);

#ifdef __cplusplus
}
#endif

#endif /* ODLC_TRAIN_H */
