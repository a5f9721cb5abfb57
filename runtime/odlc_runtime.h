/* odlc runtime: portable C99 kernels used by odlc-generated code.
 *
 * Conventions
 *  - All tensors are float32, dense, row-major (NCHW for images).
 *  - Kernels never allocate, never print and never read global state.
 *  - Every kernel takes a pointer to a const parameter struct that the compiler emits as a
 *    `static const` object, followed by data pointers. Outputs come last.
 *  - Unless a kernel says otherwise, output buffers must not overlap inputs. Kernels marked
 *    "in-place safe" allow y == x (exact aliasing, not partial overlap).
 */
#ifndef ODLC_RUNTIME_H
#define ODLC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Highest tensor rank the generic (strided) kernels handle. */
#define ODLC_MAX_RANK 6

/* ---- Convolution ------------------------------------------------------------------------ */

/* y[n][m][oh][ow] = b[m] + sum_{ci,kh,kw} x[n][g*cpg+ci][oh*sh-pt+kh*dh][ow*sw-pl+kw*dw]
 *                                   * w[m][ci][kh][kw]
 * where g = m / (m_out / group), cpg = c / group. Out-of-range input positions read as 0.
 * b may be NULL. Bottom/right padding is implied by oh/ow. */
typedef struct {
  int32_t n, c, h, w;     /* input batch, channels, height, width */
  int32_t m, oh, ow;      /* output channels, height, width */
  int32_t kh, kw;         /* kernel size */
  int32_t sh, sw;         /* strides */
  int32_t dh, dw;         /* dilations */
  int32_t pad_top, pad_left;
  int32_t group;
} odlc_conv2d_params;

void odlc_conv2d_f32(const odlc_conv2d_params *p, const float *x, const float *w, const float *b,
                     float *y);

/* ---- Pooling ---------------------------------------------------------------------------- */

/* Window (oh, ow) covers input rows oh*sh - pad_top + i*dh, i < kh (same for columns).
 * max: padded positions are ignored (-inf); a window with no valid element gives -inf... never
 *      happens for ONNX-valid pads.
 * avg: sum of valid elements divided by
 *        count_include_pad ? number of window positions inside [-pad_top, h + pad_bottom) x
 *                            [-pad_left, w + pad_right)
 *                          : number of window positions inside the input.
 *      (dh, dw are 1 for average pooling.) */
typedef struct {
  int32_t n, c, h, w;
  int32_t oh, ow;
  int32_t kh, kw;
  int32_t sh, sw;
  int32_t dh, dw;
  int32_t pad_top, pad_left, pad_bottom, pad_right;
  int32_t count_include_pad;
} odlc_pool2d_params;

void odlc_maxpool2d_f32(const odlc_pool2d_params *p, const float *x, float *y);
void odlc_avgpool2d_f32(const odlc_pool2d_params *p, const float *x, float *y);

/* y[i] = mean_j x[i*hw + j], for i < nc. */
typedef struct {
  int32_t nc, hw;
} odlc_global_avgpool_params;

void odlc_global_avgpool_f32(const odlc_global_avgpool_params *p, const float *x, float *y);

/* ---- Elementwise ------------------------------------------------------------------------ */

typedef enum {
  ODLC_UNARY_RELU = 0,         /* max(x, 0) */
  ODLC_UNARY_CLIP = 1,         /* min(max(x, a), b); relu6 is clip(0, 6) */
  ODLC_UNARY_LEAKY_RELU = 2,   /* x >= 0 ? x : a * x */
  ODLC_UNARY_SIGMOID = 3,      /* 1 / (1 + exp(-x)) */
  ODLC_UNARY_HARD_SIGMOID = 4, /* max(0, min(1, a * x + b)) */
  ODLC_UNARY_HARD_SWISH = 5,   /* x * max(0, min(1, x / 6 + 0.5)) */
  ODLC_UNARY_TANH = 6,
  ODLC_UNARY_NEG = 7,
  ODLC_UNARY_EXP = 8,
  ODLC_UNARY_SQRT = 9,
  ODLC_UNARY_ABS = 10
} odlc_unary_op;

/* In-place safe. */
typedef struct {
  int32_t op; /* odlc_unary_op */
  int32_t size;
  float a, b;
} odlc_unary_params;

void odlc_unary_f32(const odlc_unary_params *p, const float *x, float *y);

typedef enum {
  ODLC_BINARY_ADD = 0,
  ODLC_BINARY_SUB = 1,
  ODLC_BINARY_MUL = 2,
  ODLC_BINARY_DIV = 3
} odlc_binary_op;

/* Broadcasting binary op. The output is dense with shape `shape[0..rank)`; element at index
 * (i_0..i_{rank-1}) reads a[sum i_d * a_stride[d]] and b[sum i_d * b_stride[d]] (a broadcast
 * dimension has stride 0). In-place safe for y == a or y == b when that operand is not
 * broadcast (its strides equal the dense output strides). */
typedef struct {
  int32_t op; /* odlc_binary_op */
  int32_t rank;
  int32_t shape[ODLC_MAX_RANK];
  int32_t a_stride[ODLC_MAX_RANK];
  int32_t b_stride[ODLC_MAX_RANK];
} odlc_binary_params;

void odlc_binary_f32(const odlc_binary_params *p, const float *a, const float *b, float *y);

/* y[n][c][i] = x[n][c][i] * scale[c] + shift[c]  (inference BatchNormalization that could not be
 * folded). In-place safe. */
typedef struct {
  int32_t n, c, inner;
} odlc_channel_affine_params;

void odlc_channel_affine_f32(const odlc_channel_affine_params *p, const float *x,
                             const float *scale, const float *shift, float *y);

/* ---- Linear algebra --------------------------------------------------------------------- */

/* y[M][N] = alpha * op(A) op(B) + beta * C, op(A) is M x K, op(B) is K x N.
 * A is stored [M][K] (trans_a = 0) or [K][M] (trans_a = 1); B is [K][N] or [N][K] (trans_b).
 * C may be NULL; otherwise C element (i, j) is c[i * c_stride_m + j * c_stride_n]
 * (strides are 0 along broadcast dimensions). */
typedef struct {
  int32_t m, n, k;
  int32_t trans_a, trans_b;
  float alpha, beta;
  int32_t c_stride_m, c_stride_n;
} odlc_gemm_params;

void odlc_gemm_f32(const odlc_gemm_params *p, const float *a, const float *b, const float *c,
                   float *y);

/* Batched matrix product with numpy broadcasting over the batch dimensions:
 * for each batch index (i_0..i_{batch_rank-1}) over batch_shape, the M x K matrix at
 * a + sum i_d * a_stride[d] times the K x N matrix at b + sum i_d * b_stride[d] is written to
 * the dense output, batches in row-major order. Matrices themselves are dense row-major.
 * batch_rank may be 0 (one product). */
typedef struct {
  int32_t m, n, k;
  int32_t batch_rank;
  int32_t batch_shape[ODLC_MAX_RANK];
  int32_t a_stride[ODLC_MAX_RANK];
  int32_t b_stride[ODLC_MAX_RANK];
} odlc_matmul_params;

void odlc_matmul_f32(const odlc_matmul_params *p, const float *a, const float *b, float *y);

/* ---- Normalization and reduction -------------------------------------------------------- */

/* Softmax over the middle axis of x viewed as [outer][axis][inner]. In-place safe. */
typedef struct {
  int32_t outer, axis, inner;
} odlc_softmax_params;

void odlc_softmax_f32(const odlc_softmax_params *p, const float *x, float *y);

/* Mean reduction. For every output element o (dense over out_shape[0..rank)), averages
 * x[sum o_d * out_stride[d] + sum r_d * red_stride[d]] over every r in red_shape[0..red_rank).
 * count = product of red_shape. */
typedef struct {
  int32_t rank;
  int32_t out_shape[ODLC_MAX_RANK];
  int32_t out_stride[ODLC_MAX_RANK];
  int32_t red_rank;
  int32_t red_shape[ODLC_MAX_RANK];
  int32_t red_stride[ODLC_MAX_RANK];
} odlc_reduce_params;

void odlc_reduce_mean_f32(const odlc_reduce_params *p, const float *x, float *y);

/* ---- Data movement ---------------------------------------------------------------------- */

/* Generic strided copy: for every index (i_0..i_{rank-1}) over shape,
 *   y[dst_offset + sum i_d * dst_stride[d]] = x[src_offset + sum i_d * src_stride[d]].
 * Strides may be negative (reversed slices) or zero (broadcast reads). Covers Transpose,
 * Slice, Split, Concat (one call per input) and Expand. */
typedef struct {
  int32_t rank;
  int32_t shape[ODLC_MAX_RANK];
  int32_t src_offset;
  int32_t src_stride[ODLC_MAX_RANK];
  int32_t dst_offset;
  int32_t dst_stride[ODLC_MAX_RANK];
} odlc_copy_params;

void odlc_copy_f32(const odlc_copy_params *p, const float *x, float *y);

/* Gather along one axis with constant indices: x viewed as [outer][axis][inner],
 * y[o][j][i] = x[o][index[j]][i] for j < count. Indices are already non-negative. */
typedef struct {
  int32_t outer, axis, inner;
  int32_t count;
  const int32_t *index;
} odlc_gather_params;

void odlc_gather_f32(const odlc_gather_params *p, const float *x, float *y);

typedef enum {
  ODLC_PAD_CONSTANT = 0,
  ODLC_PAD_REFLECT = 1,
  ODLC_PAD_EDGE = 2
} odlc_pad_mode;

/* y has shape out_shape; y[o] = x[o - begin] where inside x, otherwise:
 * constant: value; edge: nearest edge element; reflect: mirrored without repeating the edge.
 * Negative begin/end pads (cropping) are allowed. */
typedef struct {
  int32_t mode; /* odlc_pad_mode */
  int32_t rank;
  int32_t in_shape[ODLC_MAX_RANK];
  int32_t out_shape[ODLC_MAX_RANK];
  int32_t begin[ODLC_MAX_RANK];
  float value;
} odlc_pad_params;

void odlc_pad_f32(const odlc_pad_params *p, const float *x, float *y);

#ifdef __cplusplus
}
#endif

#endif /* ODLC_RUNTIME_H */
