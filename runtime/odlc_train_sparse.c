/* odlc runtime: the pieces of a sparse update (seed 003 sec. 4.4) that the dense kernels do not
 * cover: channel gathers and scatters, bias-only SGD (TinyTL) and the Gemm weight block. See
 * odlc_train.h. The convolution block update shares the dense kernels (odlc_train_conv.c). */
#include "odlc_train.h"

/* PyTorch SGD on one weight: v = momentum * v + g; w -= lr * v (v NULL: w -= lr * g). */
static void sgd_one(const odlc_sgd_params *s, float *w, float *v, float g)
{
  if (v != NULL && s->momentum != 0.0f) {
    *v = s->momentum * *v + g;
    g = *v;
  }
  *w -= s->lr * g;
}

/* Offset of weight (compact output o, compact input i) in the full weight. */
static ptrdiff_t block_at(const odlc_weight_block *blk, int32_t o, int32_t i)
{
  const int32_t ci = blk->in_channels != NULL ? blk->in_channels[i] : i;
  return (ptrdiff_t)blk->out_channels[o] * blk->out_stride + (ptrdiff_t)ci * blk->in_stride;
}

static int32_t row_of(const odlc_channel_block_params *p, int32_t r)
{
  return p->rows != NULL ? p->rows[r] : r;
}

static int32_t channel_of(const odlc_channel_block_params *p, int32_t c)
{
  return p->channels != NULL ? p->channels[c] : c;
}

void odlc_channel_gather_f32(const odlc_channel_block_params *p, const float *x, float *y)
{
  for (int32_t r = 0; r < p->n_rows; ++r) {
    const float *xr = x + (ptrdiff_t)row_of(p, r) * p->x_channels * p->plane;
    for (int32_t c = 0; c < p->n_channels; ++c, y += p->plane) {
      const float *xc = xr + (ptrdiff_t)channel_of(p, c) * p->plane;
      for (int32_t i = 0; i < p->plane; ++i) {
        y[i] = xc[i];
      }
    }
  }
}

void odlc_channel_scatter_f32(const odlc_channel_block_params *p, const float *x, float *y)
{
  odlc_fill_f32(y, p->x_rows * p->x_channels * p->plane, 0.0f);
  for (int32_t r = 0; r < p->n_rows; ++r) {
    float *yr = y + (ptrdiff_t)row_of(p, r) * p->x_channels * p->plane;
    for (int32_t c = 0; c < p->n_channels; ++c, x += p->plane) {
      float *yc = yr + (ptrdiff_t)channel_of(p, c) * p->plane;
      for (int32_t i = 0; i < p->plane; ++i) {
        yc[i] = x[i];
      }
    }
  }
}

void odlc_bias_sgd_f32(const odlc_bias_grad_params *p, const odlc_sgd_params *s, const float *dy,
                       float *b, float *vb)
{
  for (int32_t c = 0; c < p->c; ++c) {
    float g = 0.0f;
    for (int32_t n = 0; n < p->n; ++n) {
      const float *d = dy + ((ptrdiff_t)n * p->c + c) * p->plane;
      for (int32_t i = 0; i < p->plane; ++i) {
        g += d[i];
      }
    }
    sgd_one(s, b + c, vb != NULL ? vb + c : NULL, p->scale * g);
  }
}

void odlc_gemm_backward_b_block_sgd_f32(const odlc_gemm_params *p, const odlc_sgd_params *s,
                                        const odlc_weight_block *blk, const float *a,
                                        const float *dy, float *b, float *c, float *vb,
                                        float *vc)
{
  for (int32_t o = 0; o < p->n; ++o) {
    for (int32_t i = 0; i < p->k; ++i) {
      const float *ar = a + i;
      const float *dr = dy + o;
      float g = 0.0f;
      for (int32_t r = 0; r < p->m; ++r, ar += p->k, dr += p->n) {
        g += *ar * *dr;
      }
      const ptrdiff_t at = block_at(blk, o, i);
      sgd_one(s, b + at, vb != NULL ? vb + at : NULL, p->alpha * g);
    }
    if (c != NULL) {
      float g = 0.0f;
      for (int32_t r = 0; r < p->m; ++r) {
        g += dy[(ptrdiff_t)r * p->n + o];
      }
      const int32_t at = blk->out_channels[o];
      sgd_one(s, c + at, vc != NULL ? vc + at : NULL, p->beta * g);
    }
  }
}

void odlc_conv2d_backward_input_block_f32(const odlc_conv2d_params *p,
                                          const odlc_weight_block *blk, const float *dy,
                                          const float *w, float *wbuf, float *dx)
{
  const int32_t taps = p->kh * p->kw;
  const int32_t depthwise = p->group > 1; /* compact: group == c == m */
  const ptrdiff_t x_plane = (ptrdiff_t)p->h * p->w;
  const ptrdiff_t dy_plane = (ptrdiff_t)p->oh * p->ow;
  odlc_conv2d_params q = *p;
  q.n = 1;
  for (int32_t c0 = 0; c0 < p->c; c0 += 4) {
    const int32_t cs = p->c - c0 < 4 ? p->c - c0 : 4;
    const int32_t rows = depthwise ? cs : p->m;
    const int32_t cols = depthwise ? 1 : cs;
    float *to = wbuf;
    for (int32_t o = 0; o < rows; ++o) { /* the chunk of W[O, I] as a dense [rows][cols] weight */
      for (int32_t j = 0; j < cols; ++j, to += taps) {
        const float *from = w + (depthwise ? block_at(blk, c0 + o, 0) : block_at(blk, o, c0 + j));
        for (int32_t k = 0; k < taps; ++k) {
          to[k] = from[k];
        }
      }
    }
    q.c = cs;
    q.m = rows;
    q.group = depthwise ? cs : 1;
    for (int32_t n = 0; n < p->n; ++n) {
      const float *dyn = dy + ((ptrdiff_t)n * p->m + (depthwise ? c0 : 0)) * dy_plane;
      odlc_conv2d_backward_input_f32(&q, dyn, wbuf, dx + ((ptrdiff_t)n * p->c + c0) * x_plane);
    }
  }
}

void odlc_gemm_backward_a_block_f32(const odlc_gemm_params *p, const odlc_weight_block *blk,
                                    const float *dy, const float *b, float *da)
{
  for (int32_t r = 0; r < p->m; ++r, dy += p->n, da += p->k) {
    for (int32_t i = 0; i < p->k; ++i) {
      float s = 0.0f;
      for (int32_t o = 0; o < p->n; ++o) {
        s += dy[o] * b[block_at(blk, o, i)];
      }
      da[i] = p->alpha * s;
    }
  }
}
