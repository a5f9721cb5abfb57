/* odlc runtime: Gemm and batched MatMul. See odlc_runtime.h. */
#include "odlc_runtime.h"

/* ---- Shared row kernels ------------------------------------------------------------------ */

/* y[0..n) = sum_k a[k * sa] * b[k][0..n) with b rows `ldb` apart. Streams contiguous B rows
 * (never strided B access), four at a time so that each y load/store covers four MACs; each
 * y element still sums k in increasing order. */
static void row_times_matrix(const float *a, ptrdiff_t sa, const float *b, ptrdiff_t ldb,
                             int32_t k, int32_t n, float *y)
{
  int32_t kk = 0;
  for (int32_t j = 0; j < n; ++j) {
    y[j] = 0.0f;
  }
  for (; kk + 4 <= k; kk += 4, a += 4 * sa, b += 4 * ldb) {
    const float a0 = a[0], a1 = a[sa], a2 = a[2 * sa], a3 = a[3 * sa];
    const float *b0 = b;
    const float *b1 = b0 + ldb;
    const float *b2 = b1 + ldb;
    const float *b3 = b2 + ldb;
    for (int32_t j = 0; j < n; ++j) {
      float acc = y[j];
      acc += a0 * b0[j];
      acc += a1 * b1[j];
      acc += a2 * b2[j];
      acc += a3 * b3[j];
      y[j] = acc;
    }
  }
  for (; kk < k; ++kk, a += sa, b += ldb) {
    const float av = *a;
    for (int32_t j = 0; j < n; ++j) {
      y[j] += av * b[j];
    }
  }
}

/* y[j] = dot(a, b row j) for j < n, a contiguous row of length k, B rows contiguous and k
 * apart (B stored transposed). Four B rows at a time share each load of a. */
static void row_dot_rows(const float *a, const float *b, int32_t k, int32_t n, float *y)
{
  int32_t j = 0;
  for (; j + 4 <= n; j += 4, b += 4 * (ptrdiff_t)k) {
    const float *b0 = b;
    const float *b1 = b0 + k;
    const float *b2 = b1 + k;
    const float *b3 = b2 + k;
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    for (int32_t kk = 0; kk < k; ++kk) {
      const float av = a[kk];
      s0 += av * b0[kk];
      s1 += av * b1[kk];
      s2 += av * b2[kk];
      s3 += av * b3[kk];
    }
    y[j] = s0;
    y[j + 1] = s1;
    y[j + 2] = s2;
    y[j + 3] = s3;
  }
  for (; j < n; ++j, b += k) {
    float s = 0.0f;
    for (int32_t kk = 0; kk < k; ++kk) {
      s += a[kk] * b[kk];
    }
    y[j] = s;
  }
}

/* ---- Gemm -------------------------------------------------------------------------------- */

void odlc_gemm_f32(const odlc_gemm_params *p, const float *a, const float *b, const float *c,
                   float *y)
{
  /* Step between consecutive k of one row of op(A), and between rows of op(A). */
  const ptrdiff_t a_k = p->trans_a ? p->m : 1;
  const ptrdiff_t a_row = p->trans_a ? 1 : p->k;
  const int32_t use_c = c != NULL && p->beta != 0.0f; /* beta == 0 ignores C, even NaN */
  for (int32_t i = 0; i < p->m; ++i, a += a_row, y += p->n) {
    if (p->trans_b && !p->trans_a) {
      row_dot_rows(a, b, p->k, p->n, y);
    } else if (p->trans_b) {
      /* A transposed and B transposed: plain strided dot products (rare). */
      for (int32_t j = 0; j < p->n; ++j) {
        row_times_matrix(a, a_k, b + (ptrdiff_t)j * p->k, 1, p->k, 1, y + j);
      }
    } else {
      row_times_matrix(a, a_k, b, p->n, p->k, p->n, y);
    }
    if (p->alpha != 1.0f) {
      for (int32_t j = 0; j < p->n; ++j) {
        y[j] *= p->alpha;
      }
    }
    if (use_c) {
      const float *ci = c + (ptrdiff_t)i * p->c_stride_m;
      for (int32_t j = 0; j < p->n; ++j, ci += p->c_stride_n) {
        y[j] += p->beta * *ci;
      }
    }
  }
}

/* ---- MatMul ------------------------------------------------------------------------------ */

void odlc_matmul_f32(const odlc_matmul_params *p, const float *a, const float *b, float *y)
{
  int32_t idx[ODLC_MAX_RANK] = {0};
  ptrdiff_t oa = 0;
  ptrdiff_t ob = 0;
  const ptrdiff_t out_size = (ptrdiff_t)p->m * p->n;
  for (int32_t d = 0; d < p->batch_rank; ++d) {
    if (p->batch_shape[d] <= 0) {
      return; /* empty batch */
    }
  }
  /* Odometer over the batch dimensions, one dense product per batch. */
  for (;;) {
    const float *ai = a + oa;
    float *yi = y;
    for (int32_t i = 0; i < p->m; ++i, ai += p->k, yi += p->n) {
      row_times_matrix(ai, 1, b + ob, p->n, p->k, p->n, yi);
    }
    y += out_size;
    int32_t d = p->batch_rank - 1;
    for (; d >= 0; --d) {
      oa += p->a_stride[d];
      ob += p->b_stride[d];
      if (++idx[d] < p->batch_shape[d]) {
        break;
      }
      oa -= (ptrdiff_t)p->a_stride[d] * p->batch_shape[d];
      ob -= (ptrdiff_t)p->b_stride[d] * p->batch_shape[d];
      idx[d] = 0;
    }
    if (d < 0) {
      return;
    }
  }
}
