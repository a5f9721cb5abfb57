/* odlc runtime: Gemm backward (input gradient; fused weight gradient + SGD). See odlc_train.h.
 *
 * Every product here is a set of dot products s[i][j] = sum_t u_i[t] v_j[t] where each u_i and
 * v_j walks memory with a constant step, so one register-blocked kernel computes 4 x 4 of them
 * at a time (16 sums in registers; each load feeds four MACs) for all four cases. */
#include "odlc_train.h"

/* SGD on the n weights w[i * st] with their finished gradients g[i] (velocities v[i * st] unless
 * v is NULL). PyTorch: v = momentum * v + g; w -= lr * v. */
static void sgd_run(const odlc_sgd_params *s, float *w, float *v, ptrdiff_t st, const float *g,
                    int32_t n)
{
  const float lr = s->lr;
  const float mom = s->momentum;
  if (v != NULL && mom != 0.0f) {
    for (int32_t i = 0; i < n; ++i, w += st, v += st) {
      const float u = mom * *v + g[i];
      *v = u;
      *w -= lr * u;
    }
  } else {
    for (int32_t i = 0; i < n; ++i, w += st) {
      *w -= lr * g[i];
    }
  }
}

/* Four lanes of each operand: lane i of u starts at u[i] and advances u_step per term. Lanes may
 * repeat (a block clipped at the matrix edge repeats its last row or column). */
typedef struct {
  const float *u[4];
  const float *v[4];
  ptrdiff_t u_step, v_step;
  int32_t count;
} dots;

/* s[i * ld + j] = alpha * sum_{t < count} u_i[t * u_step] * v_j[t * v_step], i, j < 4. */
static void dots4x4(const dots *d, float alpha, float *s, ptrdiff_t ld)
{
  const float *u0 = d->u[0], *u1 = d->u[1], *u2 = d->u[2], *u3 = d->u[3];
  const float *v0 = d->v[0], *v1 = d->v[1], *v2 = d->v[2], *v3 = d->v[3];
  const ptrdiff_t us = d->u_step;
  const ptrdiff_t vs = d->v_step;
  float s00 = 0.0f, s01 = 0.0f, s02 = 0.0f, s03 = 0.0f;
  float s10 = 0.0f, s11 = 0.0f, s12 = 0.0f, s13 = 0.0f;
  float s20 = 0.0f, s21 = 0.0f, s22 = 0.0f, s23 = 0.0f;
  float s30 = 0.0f, s31 = 0.0f, s32 = 0.0f, s33 = 0.0f;
  for (int32_t t = 0; t < d->count; ++t) {
    const float a0 = *u0, a1 = *u1, a2 = *u2, a3 = *u3;
    const float b0 = *v0, b1 = *v1, b2 = *v2, b3 = *v3;
    s00 += a0 * b0;
    s01 += a0 * b1;
    s02 += a0 * b2;
    s03 += a0 * b3;
    s10 += a1 * b0;
    s11 += a1 * b1;
    s12 += a1 * b2;
    s13 += a1 * b3;
    s20 += a2 * b0;
    s21 += a2 * b1;
    s22 += a2 * b2;
    s23 += a2 * b3;
    s30 += a3 * b0;
    s31 += a3 * b1;
    s32 += a3 * b2;
    s33 += a3 * b3;
    u0 += us; u1 += us; u2 += us; u3 += us;
    v0 += vs; v1 += vs; v2 += vs; v3 += vs;
  }
  s[0] = alpha * s00; s[1] = alpha * s01; s[2] = alpha * s02; s[3] = alpha * s03;
  s += ld;
  s[0] = alpha * s10; s[1] = alpha * s11; s[2] = alpha * s12; s[3] = alpha * s13;
  s += ld;
  s[0] = alpha * s20; s[1] = alpha * s21; s[2] = alpha * s22; s[3] = alpha * s23;
  s += ld;
  s[0] = alpha * s30; s[1] = alpha * s31; s[2] = alpha * s32; s[3] = alpha * s33;
}

/* One u lane against four v lanes (for fewer than four rows): s[j] = alpha * sum_t u_0 v_j. */
static void dots1x4(const dots *d, float alpha, float *s)
{
  const float *u0 = d->u[0];
  const float *v0 = d->v[0], *v1 = d->v[1], *v2 = d->v[2], *v3 = d->v[3];
  const ptrdiff_t us = d->u_step;
  const ptrdiff_t vs = d->v_step;
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
  for (int32_t t = 0; t < d->count; ++t) {
    const float a = *u0;
    s0 += a * *v0;
    s1 += a * *v1;
    s2 += a * *v2;
    s3 += a * *v3;
    u0 += us;
    v0 += vs; v1 += vs; v2 += vs; v3 += vs;
  }
  s[0] = alpha * s0; s[1] = alpha * s1; s[2] = alpha * s2; s[3] = alpha * s3;
}

/* A p x q grid of dot products, lane i of u at u + i * u_lane and lane j of v at v + j * v_lane
 * (steps and count as in `dots`), written to y (row-major, p x q) as alpha * sum, or, when sgd
 * is set, applied to the weights y (velocities vel) as their gradients. */
typedef struct {
  const float *u, *v;
  ptrdiff_t u_lane, v_lane, u_step, v_step;
  int32_t p, q, count;
  float *y, *vel;
  const odlc_sgd_params *sgd;
  float alpha;
} grid;

/* Start of the 4-wide column block that covers index i of a dimension of size n: a block that
 * would run past the end is moved back to end at n (its first lanes then repeat earlier work,
 * which is not written again). */
static int32_t block_start(int32_t i, int32_t n)
{
  return i + 4 <= n || n < 4 ? i : n - 4;
}

/* Lane k of the block at `first`; with n < 4 the missing lanes repeat the last index. */
static int32_t lane(int32_t first, int32_t k, int32_t n)
{
  return first + k < n ? first + k : n - 1;
}

/* The block of `rows` rows at (i, jb), s as left by dots4x4 with ld 4 (or dots1x4), without its
 * first b0 columns (done by the previous block): written, or applied as SGD gradients. */
static void grid_block_out(const grid *g, int32_t i, int32_t jb, int32_t rows, int32_t b0,
                           const float *s)
{
  const int32_t b_end = g->q - jb < 4 ? g->q - jb : 4;
  for (int32_t a = 0; a < rows; ++a) {
    const ptrdiff_t at = (ptrdiff_t)(i + a) * g->q + jb + b0;
    if (g->sgd != NULL) {
      sgd_run(g->sgd, g->y + at, g->vel ? g->vel + at : NULL, 1, s + 4 * a + b0, b_end - b0);
    } else {
      for (int32_t b = b0; b < b_end; ++b) {
        g->y[at + b - b0] = s[4 * a + b];
      }
    }
  }
}

/* SGD with single-term sums (a batch of one): the gradient of weight (i, j) is alpha * u_i * v_j,
 * complete at once, so each weight row streams through without any blocking. */
static void grid_sgd_rank1(const grid *g)
{
  const float lr = g->sgd->lr;
  const float mom = g->sgd->momentum;
  for (int32_t i = 0; i < g->p; ++i) {
    const float ui = g->alpha * g->u[i * g->u_lane];
    const float *vj = g->v;
    float *w = g->y + (ptrdiff_t)i * g->q;
    if (g->vel != NULL && mom != 0.0f) {
      float *v = g->vel + (ptrdiff_t)i * g->q;
      for (int32_t j = 0; j < g->q; ++j, vj += g->v_lane) {
        v[j] = mom * v[j] + ui * *vj;
        w[j] -= lr * v[j];
      }
    } else {
      for (int32_t j = 0; j < g->q; ++j, vj += g->v_lane) {
        w[j] -= lr * (ui * *vj);
      }
    }
  }
}

/* Blocks of 4 x 4 through dots4x4; the rows left over after the last full block of four go one
 * at a time through dots1x4. Plain results of full blocks go straight to y (a moved-back column
 * block rewrites some values unchanged). */
static void grid_run(const grid *g)
{
  const int32_t direct = g->sgd == NULL && g->q >= 4;
  dots d;
  float s[16];
  d.u_step = g->u_step;
  d.v_step = g->v_step;
  d.count = g->count;
  for (int32_t i = 0; i < g->p;) {
    const int32_t rows = i + 4 <= g->p ? 4 : 1; /* u lanes of this block */
    for (int32_t k = 0; k < 4; ++k) {
      d.u[k] = g->u + lane(i, k, g->p) * g->u_lane;
    }
    for (int32_t j = 0; j < g->q; j += 4) {
      const int32_t jb = block_start(j, g->q);
      float *out = direct ? g->y + (ptrdiff_t)i * g->q + jb : s;
      for (int32_t k = 0; k < 4; ++k) {
        d.v[k] = g->v + lane(jb, k, g->q) * g->v_lane;
      }
      if (rows == 4) {
        dots4x4(&d, g->alpha, out, direct ? g->q : 4);
      } else {
        dots1x4(&d, g->alpha, out);
      }
      if (!direct) {
        grid_block_out(g, i, jb, rows, j - jb, s);
      }
    }
    i += rows;
  }
}

/* ---- Input gradient --------------------------------------------------------------------- */

/* da[i][k] = alpha * sum_j dy[i][j] * op(B)[k][j]: row i of dy against row k of B (trans_b = 0,
 * B is [K][N]) or column k of B (trans_b = 1, B is [N][K]). */
void odlc_gemm_backward_a_f32(const odlc_gemm_params *p, const float *dy, const float *b,
                              float *da)
{
  grid g;
  g.u = dy;
  g.u_lane = p->n;
  g.u_step = 1;
  g.v = b;
  g.v_lane = p->trans_b ? 1 : p->n;
  g.v_step = p->trans_b ? p->k : 1;
  g.p = p->m;
  g.q = p->k;
  g.count = p->n;
  g.y = da;
  g.vel = NULL;
  g.sgd = NULL;
  g.alpha = p->alpha;
  grid_run(&g);
}

/* ---- Weight gradient + SGD -------------------------------------------------------------- */

/* gC: element (i, j) of C collects beta * dy over the dimensions along which C is broadcast
 * (stride 0). */
static void bias_sgd(const odlc_gemm_params *p, const odlc_sgd_params *s, const float *dy,
                     float *c, float *vc)
{
  const int32_t ni = p->c_stride_m ? p->m : 1; /* distinct elements along each dimension */
  const int32_t nj = p->c_stride_n ? p->n : 1;
  const int32_t ri = p->c_stride_m ? 1 : p->m; /* rows / columns summed into each element */
  const int32_t rj = p->c_stride_n ? 1 : p->n;
  for (int32_t i = 0; i < ni; ++i) {
    for (int32_t j = 0; j < nj; ++j) {
      const float *d = dy + (ptrdiff_t)i * p->n + j;
      const ptrdiff_t at = (ptrdiff_t)i * p->c_stride_m + (ptrdiff_t)j * p->c_stride_n;
      float g = 0.0f;
      for (int32_t a = 0; a < ri; ++a, d += p->n) {
        for (int32_t b = 0; b < rj; ++b) {
          g += d[b];
        }
      }
      g *= p->beta;
      sgd_run(s, c + at, vc ? vc + at : NULL, 1, &g, 1);
    }
  }
}

/* gB[k][j] = alpha * sum_i A[i][k] dy[i][j] (or its transpose when trans_b): each weight sums
 * a column of A against a column of dy, and is updated as soon as its sum is complete. */
void odlc_gemm_backward_b_sgd_f32(const odlc_gemm_params *p, const odlc_sgd_params *s,
                                  const float *a, const float *dy, float *b, float *c, float *vb,
                                  float *vc)
{
  grid g;
  g.u = p->trans_b ? dy : a; /* lane i: row i of B's storage */
  g.u_lane = 1;
  g.u_step = p->trans_b ? p->n : p->k;
  g.v = p->trans_b ? a : dy; /* lane j: column j of B's storage */
  g.v_lane = 1;
  g.v_step = p->trans_b ? p->k : p->n;
  g.p = p->trans_b ? p->n : p->k;
  g.q = p->trans_b ? p->k : p->n;
  g.count = p->m;
  g.y = b;
  g.vel = vb;
  g.sgd = s;
  g.alpha = p->alpha;
  if (p->m == 1) {
    grid_sgd_rank1(&g);
  } else {
    grid_run(&g);
  }
  if (c != NULL) {
    bias_sgd(p, s, dy, c, vc);
  }
}
