/* odlc runtime: conv2d backward (input gradient; fused weight gradient + SGD). See odlc_train.h.
 *
 * No bounds check per MAC: the geometry is worked out per row, column or kernel tap.
 *  - For a fixed kernel tap, the outputs whose window puts that tap inside the input form a
 *    rectangle (out_range, tap_rect). Weight gradients are sums over such rectangles.
 *  - For a fixed input row (column), the taps that read it are every (s / gcd(s, d))-th tap of a
 *    contiguous range (all of them for stride 1), each reading the previous output
 *    (axis_taps_at). The general input gradient gathers over those, working them out once per
 *    row and once per border column or block of four interior columns, for all channels.
 * Register blocking: 4 x 4 sums share eight loads (4 output x 4 input channels for weight
 * gradients, 4 input channels x 4 columns for input gradients).
 * Fast paths: pointwise convolutions are plain matrix products; depthwise 3x3 (dilation 1)
 * convolutions keep the kernel in registers and handle their few border columns apart; other
 * depthwise convolutions add each tap's rectangle of dy into dx.
 * A fused update finishes a block's sums (over the batch and all positions) before it updates
 * those weights, and nothing else reads them. */
#include "odlc_train.h"

/* y[0..n) = 0 in two interleaved passes, which compilers do not turn into a memset call: some C
 * libraries' memset stores byte by byte (picolibc on RV32: about 7 instructions per byte). */
static void zero(float *y, ptrdiff_t n)
{
  for (ptrdiff_t i = 0; i < n; i += 2) {
    y[i] = 0.0f;
  }
  for (ptrdiff_t i = 1; i < n; i += 2) {
    y[i] = 0.0f;
  }
}

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

/* Start of the 4-wide block covering index i of a dimension of size n >= 4: a block that would
 * run past the end is moved back to end at n, repeating some earlier lanes. */
static int32_t block_start(int32_t i, int32_t n)
{
  return i + 4 <= n ? i : n - 4;
}

static int32_t min32(int32_t a, int32_t b)
{
  return a < b ? a : b;
}

static int32_t max32(int32_t a, int32_t b)
{
  return a > b ? a : b;
}

/* ---- Tap rectangles --------------------------------------------------------------------- */

/* Outputs o in [*lo, *hi) with 0 <= o * s + off < size and o < n. */
static void out_range(int32_t off, int32_t s, int32_t size, int32_t n, int32_t *lo, int32_t *hi)
{
  const int32_t a = off < 0 ? (-off + s - 1) / s : 0;
  int32_t b = size - off <= 0 ? 0 : (size - off + s - 1) / s;
  b = b < n ? b : n;
  *lo = a;
  *hi = b > a ? b : a;
}

/* The outputs whose window has tap (kh, kw) inside the input, within one dy / x plane: `rows`
 * rows of `cols`, starting at dy_off / x_off, rows dy_row / x_row apart (x columns sw apart).
 * Rows that are contiguous in both planes (pointwise convolutions) are merged into one. */
typedef struct {
  int32_t rows, cols;
  ptrdiff_t dy_off, x_off;
  ptrdiff_t dy_row, x_row;
} tap_rect;

static void tap_rect_init(const odlc_conv2d_params *p, int32_t kh, int32_t kw, tap_rect *r)
{
  int32_t oh0;
  int32_t oh1;
  int32_t ow0;
  int32_t ow1;
  out_range(kh * p->dh - p->pad_top, p->sh, p->h, p->oh, &oh0, &oh1);
  out_range(kw * p->dw - p->pad_left, p->sw, p->w, p->ow, &ow0, &ow1);
  r->rows = ow1 > ow0 ? oh1 - oh0 : 0;
  r->cols = r->rows > 0 ? ow1 - ow0 : 0;
  r->dy_off = r->x_off = 0;
  r->dy_row = p->ow;
  r->x_row = (ptrdiff_t)p->sh * p->w;
  if (r->rows == 0) { /* the tap never lands inside the input */
    return;
  }
  r->dy_off = (ptrdiff_t)oh0 * p->ow + ow0;
  r->x_off = (ptrdiff_t)(oh0 * p->sh + kh * p->dh - p->pad_top) * p->w + ow0 * p->sw +
             kw * p->dw - p->pad_left;
  if (r->cols == p->ow && (ptrdiff_t)p->sh * p->w == (ptrdiff_t)p->sw * p->ow) {
    r->cols *= r->rows;
    r->rows = 1;
  }
}

/* sum_{t < n} a[t * as] * b[t * bs], four partial sums. */
static float strided_dot(const float *a, ptrdiff_t as, const float *b, ptrdiff_t bs, int32_t n)
{
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
  int32_t t = 0;
  for (; t + 4 <= n; t += 4, a += 4 * as, b += 4 * bs) {
    s0 += a[0] * b[0];
    s1 += a[as] * b[bs];
    s2 += a[2 * as] * b[2 * bs];
    s3 += a[3 * as] * b[3 * bs];
  }
  for (; t < n; ++t, a += as, b += bs) {
    s0 += *a * *b;
  }
  return (s0 + s1) + (s2 + s3);
}

/* b[t * bs] += u * a[t * as] for t < n. */
static void strided_axpy(const float *a, ptrdiff_t as, float *b, ptrdiff_t bs, int32_t n, float u)
{
  for (int32_t t = 0; t < n; ++t, a += as, b += bs) {
    *b += u * *a;
  }
}

/* sum over the rectangle of dy[pos] * x[pos] (x columns sw apart). */
static float rect_dot(const float *dy, const float *x, ptrdiff_t sw, const tap_rect *r)
{
  float s = 0.0f;
  for (int32_t i = 0; i < r->rows; ++i, dy += r->dy_row, x += r->x_row) {
    s += strided_dot(dy, 1, x, sw, r->cols);
  }
  return s;
}

/* x[pos] += u * dy[pos] over the rectangle (x columns sw apart). */
static void rect_axpy(const float *dy, float *x, ptrdiff_t sw, const tap_rect *r, float u)
{
  for (int32_t i = 0; i < r->rows; ++i, dy += r->dy_row, x += r->x_row) {
    const float *a = dy;
    float *b = x;
    int32_t t = 0;
    for (; t + 4 <= r->cols; t += 4, a += 4, b += 4 * sw) {
      b[0] += u * a[0];
      b[sw] += u * a[1];
      b[2 * sw] += u * a[2];
      b[3 * sw] += u * a[3];
    }
    for (; t < r->cols; ++t, ++a, b += sw) {
      *b += u * *a;
    }
  }
}

/* ---- 4 x 4 dot products ----------------------------------------------------------------- */

/* Four lanes a[i] and four lanes b[j], walked together over `rows` rows of `cols` positions. */
typedef struct {
  const float *a[4], *b[4];
  ptrdiff_t a_step, b_step; /* between positions of a row */
  ptrdiff_t a_next, b_next; /* from the end of a row (after cols steps) to the next row */
  int32_t rows, cols;
} lanes4;

/* s[i * ld + j] = (add ? s[i * ld + j] : 0) + sum over all positions of a_i * b_j: 16 sums in
 * registers, eight loads per sixteen MACs. */
static void dot4x4(const lanes4 *q, float *s, ptrdiff_t ld, int32_t add)
{
  const float *a0 = q->a[0], *a1 = q->a[1], *a2 = q->a[2], *a3 = q->a[3];
  const float *b0 = q->b[0], *b1 = q->b[1], *b2 = q->b[2], *b3 = q->b[3];
  const ptrdiff_t as = q->a_step;
  const ptrdiff_t bs = q->b_step;
  float *s0 = s, *s1 = s0 + ld, *s2 = s1 + ld, *s3 = s2 + ld;
  float c00 = 0.0f, c01 = 0.0f, c02 = 0.0f, c03 = 0.0f;
  float c10 = 0.0f, c11 = 0.0f, c12 = 0.0f, c13 = 0.0f;
  float c20 = 0.0f, c21 = 0.0f, c22 = 0.0f, c23 = 0.0f;
  float c30 = 0.0f, c31 = 0.0f, c32 = 0.0f, c33 = 0.0f;
  if (add) {
    c00 = s0[0]; c01 = s0[1]; c02 = s0[2]; c03 = s0[3];
    c10 = s1[0]; c11 = s1[1]; c12 = s1[2]; c13 = s1[3];
    c20 = s2[0]; c21 = s2[1]; c22 = s2[2]; c23 = s2[3];
    c30 = s3[0]; c31 = s3[1]; c32 = s3[2]; c33 = s3[3];
  }
  for (int32_t r = 0; r < q->rows; ++r) {
    int32_t t = 0;
    if (as == 1 && bs == 1) { /* two positions per step, fewer pointer updates */
      for (; t + 2 <= q->cols; t += 2) {
        c00 += a0[0] * b0[0]; c01 += a0[0] * b1[0]; c02 += a0[0] * b2[0]; c03 += a0[0] * b3[0];
        c10 += a1[0] * b0[0]; c11 += a1[0] * b1[0]; c12 += a1[0] * b2[0]; c13 += a1[0] * b3[0];
        c20 += a2[0] * b0[0]; c21 += a2[0] * b1[0]; c22 += a2[0] * b2[0]; c23 += a2[0] * b3[0];
        c30 += a3[0] * b0[0]; c31 += a3[0] * b1[0]; c32 += a3[0] * b2[0]; c33 += a3[0] * b3[0];
        c00 += a0[1] * b0[1]; c01 += a0[1] * b1[1]; c02 += a0[1] * b2[1]; c03 += a0[1] * b3[1];
        c10 += a1[1] * b0[1]; c11 += a1[1] * b1[1]; c12 += a1[1] * b2[1]; c13 += a1[1] * b3[1];
        c20 += a2[1] * b0[1]; c21 += a2[1] * b1[1]; c22 += a2[1] * b2[1]; c23 += a2[1] * b3[1];
        c30 += a3[1] * b0[1]; c31 += a3[1] * b1[1]; c32 += a3[1] * b2[1]; c33 += a3[1] * b3[1];
        a0 += 2; a1 += 2; a2 += 2; a3 += 2;
        b0 += 2; b1 += 2; b2 += 2; b3 += 2;
      }
    }
    for (; t < q->cols; ++t) {
      const float u0 = *a0, u1 = *a1, u2 = *a2, u3 = *a3;
      const float v0 = *b0, v1 = *b1, v2 = *b2, v3 = *b3;
      c00 += u0 * v0;
      c01 += u0 * v1;
      c02 += u0 * v2;
      c03 += u0 * v3;
      c10 += u1 * v0;
      c11 += u1 * v1;
      c12 += u1 * v2;
      c13 += u1 * v3;
      c20 += u2 * v0;
      c21 += u2 * v1;
      c22 += u2 * v2;
      c23 += u2 * v3;
      c30 += u3 * v0;
      c31 += u3 * v1;
      c32 += u3 * v2;
      c33 += u3 * v3;
      a0 += as; a1 += as; a2 += as; a3 += as;
      b0 += bs; b1 += bs; b2 += bs; b3 += bs;
    }
    a0 += q->a_next; a1 += q->a_next; a2 += q->a_next; a3 += q->a_next;
    b0 += q->b_next; b1 += q->b_next; b2 += q->b_next; b3 += q->b_next;
  }
  s0[0] = c00; s0[1] = c01; s0[2] = c02; s0[3] = c03;
  s1[0] = c10; s1[1] = c11; s1[2] = c12; s1[3] = c13;
  s2[0] = c20; s2[1] = c21; s2[2] = c22; s2[3] = c23;
  s3[0] = c30; s3[1] = c31; s3[2] = c32; s3[3] = c33;
}

/* s[i * ld + j] = sum_{t < n} a[t * as + i] * b[t * bs + j], i, j < 4: four adjacent lanes on
 * each side, so two pointers step for sixteen MACs. */
static void outer4x4(const float *a, ptrdiff_t as, const float *b, ptrdiff_t bs, int32_t n,
                     float *s, ptrdiff_t ld)
{
  float c00 = 0.0f, c01 = 0.0f, c02 = 0.0f, c03 = 0.0f;
  float c10 = 0.0f, c11 = 0.0f, c12 = 0.0f, c13 = 0.0f;
  float c20 = 0.0f, c21 = 0.0f, c22 = 0.0f, c23 = 0.0f;
  float c30 = 0.0f, c31 = 0.0f, c32 = 0.0f, c33 = 0.0f;
  for (int32_t t = 0; t < n; ++t, a += as, b += bs) {
    const float u0 = a[0], u1 = a[1], u2 = a[2], u3 = a[3];
    const float v0 = b[0], v1 = b[1], v2 = b[2], v3 = b[3];
    c00 += u0 * v0; c01 += u0 * v1; c02 += u0 * v2; c03 += u0 * v3;
    c10 += u1 * v0; c11 += u1 * v1; c12 += u1 * v2; c13 += u1 * v3;
    c20 += u2 * v0; c21 += u2 * v1; c22 += u2 * v2; c23 += u2 * v3;
    c30 += u3 * v0; c31 += u3 * v1; c32 += u3 * v2; c33 += u3 * v3;
  }
  s[0] = c00; s[1] = c01; s[2] = c02; s[3] = c03;
  s += ld;
  s[0] = c10; s[1] = c11; s[2] = c12; s[3] = c13;
  s += ld;
  s[0] = c20; s[1] = c21; s[2] = c22; s[3] = c23;
  s += ld;
  s[0] = c30; s[1] = c31; s[2] = c32; s[3] = c33;
}

/* ---- Input gradient: pointwise ---------------------------------------------------------- */

/* 1x1, stride 1, no padding: per group dx[ci][q] = sum_m w[m][ci] dy[m][q] over the pixels q
 * of every batch item (rows past oh get 0). Blocks of 4 input channels x 4 pixels, the pixels
 * counted across the batch so that small images still fill a block. A block past the end is
 * moved back (below four, its lanes repeat the last one): rewriting a value is harmless. A block
 * of four whole channels and four pixels of one plane is written straight from registers. */
static void bwd_input_pointwise(const odlc_conv2d_params *p, const float *dy, const float *w,
                                float *dx)
{
  const int32_t cpg = p->c / p->group;
  const int32_t mpg = p->m / p->group;
  const int32_t count = p->oh * p->ow; /* pixels per plane */
  const int32_t total = p->n * count;
  const ptrdiff_t plane = (ptrdiff_t)p->h * p->w;
  lanes4 q;
  float s[16];
  float *out[4];
  q.a_step = cpg;
  q.b_step = count;
  q.a_next = q.b_next = 0;
  q.rows = 1;
  q.cols = mpg;
  for (int32_t g = 0; g < p->group; ++g) {
    for (int32_t c = 0; c < cpg; c += 4) {
      const int32_t cb = cpg < 4 ? c : block_start(c, cpg);
      for (int32_t f = 0; f < total; f += 4) {
        const int32_t fb = total < 4 ? f : block_start(f, total);
        for (int32_t k = 0; k < 4; ++k) {
          const int32_t ck = min32(cb + k, cpg - 1);
          const int32_t fk = min32(fb + k, total - 1);
          const int32_t n = fk / count;
          q.a[k] = w + (ptrdiff_t)g * mpg * cpg + ck;
          q.b[k] = dy + ((ptrdiff_t)n * p->m + (ptrdiff_t)g * mpg) * count + fk % count;
          out[k] = dx + ((ptrdiff_t)n * p->c + (ptrdiff_t)g * cpg + cb) * plane + fk % count;
        }
        if (cpg >= 4 && out[3] == out[0] + 3) { /* four channels, four adjacent pixels */
          outer4x4(q.a[0], cpg, q.b[0], count, mpg, out[0], plane);
          continue;
        }
        dot4x4(&q, s, 4, 0);
        for (int32_t i = 0; i < 4; ++i) { /* channel cb + i, clamped like its lane */
          const ptrdiff_t ci = min32(cb + i, cpg - 1) - cb;
          for (int32_t j = 0; j < 4; ++j) {
            out[j][ci * plane] = s[4 * i + j];
          }
        }
      }
    }
  }
  if (count < plane) { /* input rows oh..h-1 are read by no output */
    for (int32_t nc = 0; nc < p->n * p->c; ++nc) {
      zero(dx + nc * plane + count, plane - count);
    }
  }
}

/* ---- Input gradient: depthwise ---------------------------------------------------------- */

/* Running sums of four adjacent outputs. */
typedef struct {
  float s0, s1, s2, s3;
} sum4;

/* One kernel row of four adjacent outputs of a 3x3 stride-1 depthwise input gradient:
 * s_j += k2 * d[j] + k1 * d[j + 1] + k0 * d[j + 2] (the kernel is flipped: tap kw reads the
 * output kw columns left of the tap kw = 0 one). Six loads feed twelve MACs. */
static inline void dw3_taps4(sum4 *s, const float *d, float k0, float k1, float k2)
{
  const float x0 = d[0], x1 = d[1], x2 = d[2], x3 = d[3], x4 = d[4], x5 = d[5];
  s->s0 += k2 * x0;
  s->s0 += k1 * x1;
  s->s0 += k0 * x2;
  s->s1 += k2 * x1;
  s->s1 += k1 * x2;
  s->s1 += k0 * x3;
  s->s2 += k2 * x2;
  s->s2 += k1 * x3;
  s->s2 += k0 * x4;
  s->s3 += k2 * x3;
  s->s3 += k1 * x4;
  s->s3 += k0 * x5;
}

/* dx[j], j < n (n >= 4), of one row from its kernel rows [a0, a1), kernel row a reading the dy
 * row r[a] (r[a][j] is what tap kw = 2 of output j reads). Four outputs per step, the last
 * partial block moved back; with all three kernel rows the nine weights stay in registers. */
static void dw3_row(const float *const *r, const float *k, int32_t a0, int32_t a1, float *dx,
                    int32_t n)
{
  const float k0 = k[0], k1 = k[1], k2 = k[2];
  const float k3 = k[3], k4 = k[4], k5 = k[5];
  const float k6 = k[6], k7 = k[7], k8 = k[8];
  for (int32_t j = 0; j < n; j += 4) {
    const int32_t jb = block_start(j, n);
    sum4 s = {0.0f, 0.0f, 0.0f, 0.0f};
    if (a1 - a0 == 3) {
      dw3_taps4(&s, r[0] + jb, k0, k1, k2);
      dw3_taps4(&s, r[1] + jb, k3, k4, k5);
      dw3_taps4(&s, r[2] + jb, k6, k7, k8);
    } else {
      for (int32_t a = a0; a < a1; ++a) {
        dw3_taps4(&s, r[a] + jb, k[3 * a], k[3 * a + 1], k[3 * a + 2]);
      }
    }
    dx[jb] = s.s0;
    dx[jb + 1] = s.s1;
    dx[jb + 2] = s.s2;
    dx[jb + 3] = s.s3;
  }
}

/* Column iw (c = iw + pl) of `rows` dx rows that all three kernel rows read, kernel row a of
 * the first one reading dy row d + (2 - a) * ow: nine taps with the kernel in registers. A tap
 * whose column c - kw is outside dy reads the nearest column inside instead, with weight 0; one
 * of the element's own taps reads that value too, so nothing unrelated can leak in. */
static void dw3_col(const float *d, int32_t ow, const float *k, int32_t c, int32_t rows,
                    float *dx, int32_t w)
{
  int32_t j[3];
  float u[9];
  if (c - 2 >= ow || c < 0) { /* no tap inside */
    for (int32_t i = 0; i < rows; ++i) {
      dx[(ptrdiff_t)i * w] = 0.0f;
    }
    return;
  }
  for (int32_t b = 0; b < 3; ++b) {
    j[b] = min32(max32(c - b, 0), ow - 1);
    for (int32_t a = 0; a < 3; ++a) {
      u[3 * a + b] = j[b] == c - b ? k[3 * a + b] : 0.0f;
    }
  }
  const float u0 = u[0], u1 = u[1], u2 = u[2], u3 = u[3], u4 = u[4];
  const float u5 = u[5], u6 = u[6], u7 = u[7], u8 = u[8];
  for (int32_t i = 0; i < rows; ++i, d += ow, dx += w) {
    const float *r2 = d;      /* read by kernel row 2 */
    const float *r1 = d + ow; /* kernel row 1 */
    const float *r0 = r1 + ow;
    float acc = u0 * r0[j[0]];
    acc += u1 * r0[j[1]];
    acc += u2 * r0[j[2]];
    acc += u3 * r1[j[0]];
    acc += u4 * r1[j[1]];
    acc += u5 * r1[j[2]];
    acc += u6 * r2[j[0]];
    acc += u7 * r2[j[1]];
    acc += u8 * r2[j[2]];
    *dx = acc;
  }
}

/* One dx element of a 3x3 stride-1 depthwise conv from its taps inside dy: kernel rows [a0, a1)
 * (row a reads dy row top - a of the plane dyc), kernel columns with 0 <= c - kw < ow. */
static float dw3_point(const float *dyc, const float *k, int32_t top, int32_t a0, int32_t a1,
                       int32_t c, int32_t ow)
{
  const int32_t kw0 = max32(c - ow + 1, 0);
  const int32_t kw1 = min32(c, 2);
  float acc = 0.0f;
  for (int32_t a = a0; a < a1; ++a) {
    const float *d = dyc + (ptrdiff_t)(top - a) * ow + c;
    for (int32_t b = kw0; b <= kw1; ++b) {
      acc += k[3 * a + b] * d[-b];
    }
  }
  return acc;
}

/* Depthwise 3x3, stride 1, dilation 1: dx[ih][iw] = sum k[kh][kw] dy[ih + pt - kh][iw + pl - kw]
 * over the taps inside dy. The rows that all three kernel rows read ([full0, full1)) run dw3_row
 * over the columns that all three kernel columns read, and dw3_col down each other column; the
 * few rows left (top and bottom) run dw3_row with their kernel rows and dw3_point elsewhere. */
static void bwd_input_dw3x3(const odlc_conv2d_params *p, const float *dy, const float *w,
                            float *dx)
{
  const int32_t lo = min32(max32(2 - p->pad_left, 0), p->w); /* interior columns [lo, hi) */
  const int32_t hi = max32(min32(p->ow - p->pad_left, p->w), lo);
  const int32_t inner = hi - lo >= 4 ? hi - lo : 0;
  const ptrdiff_t first = lo + p->pad_left - 2; /* what tap kw = 2 of column lo reads, >= 0 */
  const int32_t full0 = min32(max32(2 - p->pad_top, 0), p->h); /* rows with 0 <= top - 2 */
  const int32_t full1 = max32(min32(p->oh - p->pad_top, p->h), full0); /* and top < oh */
  for (int32_t nc = 0; nc < p->n * p->c; ++nc) {
    const float *k = w + (nc % p->c) * 9;
    const float *dyc = dy + (ptrdiff_t)nc * p->oh * p->ow;
    float *dxc = dx + (ptrdiff_t)nc * p->h * p->w;
    for (int32_t ih = 0; ih < p->h; ++ih) {
      const int32_t top = ih + p->pad_top; /* kernel row a reads dy row top - a */
      const int32_t a0 = max32(top - p->oh + 1, 0);
      const int32_t a1 = min32(top + 1, 3);
      const int32_t full = ih >= full0 && ih < full1;
      const int32_t row = inner > 0 && a1 > a0; /* dw3_row does the interior columns */
      float *dxr = dxc + (ptrdiff_t)ih * p->w;
      if (row) {
        const float *r[3] = {dyc, dyc, dyc}; /* rows outside [a0, a1) are not read */
        for (int32_t a = a0; a < a1; ++a) {
          r[a] = dyc + (ptrdiff_t)(top - a) * p->ow + first;
        }
        dw3_row(r, k, a0, a1, dxr + lo, inner);
      }
      for (int32_t iw = 0; iw < p->w && !full; ++iw) {
        if (iw == lo && row) {
          iw += inner - 1;
          continue;
        }
        dxr[iw] = dw3_point(dyc, k, top, a0, a1, iw + p->pad_left, p->ow);
      }
    }
    for (int32_t iw = 0; iw < p->w && full1 > full0; ++iw) {
      if (iw == lo && inner > 0) {
        iw += inner - 1;
        continue;
      }
      dw3_col(dyc + (ptrdiff_t)(full0 + p->pad_top - 2) * p->ow, p->ow, k, iw + p->pad_left,
              full1 - full0, dxc + (ptrdiff_t)full0 * p->w + iw, p->w);
    }
  }
}

/* Depthwise 3x3, dilation 1, stride >= 2: dx = 0, then every dy element adds itself times the
 * kernel into its window, one kernel row at a time over that row's exact output range; the
 * three taps of a kernel row share each dy load. */
static void bwd_input_dw3x3_strided(const odlc_conv2d_params *p, const float *dy, const float *w,
                                    float *dx)
{
  const ptrdiff_t sw = p->sw;
  int32_t lo[3]; /* outputs whose tap kw is inside: [lo[kw], hi[kw]) */
  int32_t hi[3];
  for (int32_t kw = 0; kw < 3; ++kw) {
    out_range(kw - p->pad_left, p->sw, p->w, p->ow, &lo[kw], &hi[kw]);
  }
  const int32_t in_lo = lo[0];
  const int32_t in_hi = max32(hi[2], in_lo);
  const ptrdiff_t x_row = (ptrdiff_t)p->sh * p->w;
  zero(dx, (ptrdiff_t)p->n * p->c * p->h * p->w);
  for (int32_t nc = 0; nc < p->n * p->c; ++nc) {
    const float *dyc = dy + (ptrdiff_t)nc * p->oh * p->ow;
    float *dxc = dx + (ptrdiff_t)nc * p->h * p->w;
    for (int32_t kh = 0; kh < 3; ++kh) {
      const float *k = w + (nc % p->c) * 9 + 3 * kh;
      const float k0 = k[0], k1 = k[1], k2 = k[2];
      int32_t oh0;
      int32_t oh1;
      out_range(kh - p->pad_top, p->sh, p->h, p->oh, &oh0, &oh1);
      if (oh1 == oh0) {
        continue;
      }
      const float *dy0 = dyc + (ptrdiff_t)oh0 * p->ow;                     /* first dy row */
      float *x0 = dxc + (ptrdiff_t)(oh0 * p->sh - p->pad_top + kh) * p->w; /* its dx row */
      for (int32_t oh = oh0; oh < oh1 && in_hi > in_lo; ++oh) {
        const float *dyr = dy0 + (ptrdiff_t)(oh - oh0) * p->ow;
        float *xp = x0 + (ptrdiff_t)(oh - oh0) * x_row + (in_lo * sw - p->pad_left);
        for (int32_t ow = in_lo; ow < in_hi; ++ow, xp += sw) {
          const float d = dyr[ow];
          xp[0] += k0 * d;
          xp[1] += k1 * d;
          xp[2] += k2 * d;
        }
      }
      for (int32_t kw = 0; kw < 3; ++kw) { /* edge columns [lo, in_lo) and [in_hi, hi) */
        const int32_t ranges[4] = {lo[kw], min32(in_lo, hi[kw]), max32(in_hi, lo[kw]), hi[kw]};
        for (int32_t e = 0; e < 4; e += 2) {
          for (int32_t ow = ranges[e]; ow < ranges[e + 1]; ++ow) {
            strided_axpy(dy0 + ow, p->ow, x0 + (ow * sw - p->pad_left + kw), x_row, oh1 - oh0,
                         k[kw]);
          }
        }
      }
    }
  }
}

/* Any other depthwise conv: dx = 0, then each tap adds its rectangle of dy times its weight. */
static void bwd_input_depthwise(const odlc_conv2d_params *p, const float *dy, const float *w,
                                float *dx)
{
  const int32_t taps = p->kh * p->kw;
  const ptrdiff_t dy_plane = (ptrdiff_t)p->oh * p->ow;
  const ptrdiff_t x_plane = (ptrdiff_t)p->h * p->w;
  tap_rect r;
  zero(dx, p->n * p->c * x_plane);
  for (int32_t k = 0; k < taps; ++k) {
    tap_rect_init(p, k / p->kw, k % p->kw, &r);
    for (int32_t nc = 0; nc < p->n * p->c; ++nc) {
      rect_axpy(dy + nc * dy_plane + r.dy_off, dx + nc * x_plane + r.x_off, p->sw, &r,
                w[(nc % p->c) * taps + k]);
    }
  }
}

/* ---- Input gradient: general ------------------------------------------------------------ */

/* Kernel taps of one axis that read input index i: taps k0 + t * ks, t < nk, tap t reading
 * output o0 - t * os. A tap k reads i from output o when i + pad - k * d = o * s, 0 <= o < n. */
typedef struct {
  int32_t k0, nk, ks, o0, os;
} axis_taps;

static void axis_taps_at(int32_t i, int32_t pad, int32_t s, int32_t d, int32_t k, int32_t n,
                         axis_taps *t)
{
  t->k0 = 0;
  t->nk = 0;
  t->ks = 1;
  t->o0 = 0;
  t->os = 0;
  for (int32_t kk = 0; kk < k; ++kk) {
    const int32_t num = i + pad - kk * d; /* o * s */
    if (num < 0) {
      break; /* later taps read further left */
    }
    if (num % s != 0 || num / s >= n) {
      continue;
    }
    if (t->nk == 0) {
      t->k0 = kk;
      t->o0 = num / s;
    } else if (t->nk == 1) {
      t->ks = kk - t->k0;
      t->os = t->o0 - num / s;
    }
    ++t->nk;
  }
}

/* Columns iw = r + j * s (iw < size) are read by the taps k with (r + pad - k * d) % s == 0
 * that stay inside the output. Sets [*lo, *hi) to the j whose every such tap does (the
 * interior, which shares one tap set). */
static void interior_cols(int32_t r, int32_t pad, int32_t s, int32_t d, int32_t k, int32_t size,
                          int32_t n, int32_t *lo, int32_t *hi)
{
  int32_t kmin = -1;
  int32_t kmax = -1;
  for (int32_t kk = 0; kk < k; ++kk) {
    if ((r + pad - kk * d) % s == 0) {
      kmin = kmin < 0 ? kk : kmin;
      kmax = kk;
    }
  }
  /* Need iw + pad - kmax * d >= 0 and iw + pad - kmin * d <= s * (n - 1). */
  const int32_t first = kmax * d - pad > r ? kmax * d - pad : r;
  const int32_t last = s * (n - 1) + kmin * d - pad < size - 1 ? s * (n - 1) + kmin * d - pad
                                                                : size - 1;
  *lo = *hi = 0;
  if (kmin >= 0 && last >= first) {
    *lo = (first - r + s - 1) / s;
    *hi = (last - r) / s + 1;
  }
}

/* Strides of one backward-input call. */
typedef struct {
  int32_t mpg;       /* output channels per group: summed over */
  ptrdiff_t dy_m;    /* oh * ow: next output channel */
  ptrdiff_t w_m;     /* cpg * kh * kw: next output channel's weights */
  ptrdiff_t w_c;     /* kh * kw: next input channel (lane) */
  ptrdiff_t dx_c;    /* h * w: next input channel (lane) */
  ptrdiff_t dx_sw;   /* sw: between the four columns of a block */
  int32_t reps;      /* single-lane kernels: groups per call (all of them when cpg == 1) */
  ptrdiff_t dy_rep;  /* next group: mpg * oh * ow */
  ptrdiff_t w_rep;   /* mpg * cpg * kh * kw */
  ptrdiff_t dx_rep;  /* cpg * h * w */
} gx_geom;

/* The taps that read one dx element (or the first of a block), the same for every channel and
 * batch item: offsets of the first tap in a dy plane and in a weight kernel, counts and steps. */
typedef struct {
  int32_t nkh, nkw;
  ptrdiff_t dy_off, w_off;
  ptrdiff_t dy_kh, dy_kw, w_kh, w_kw;
} gx_taps;

/* Four input channels x four columns (one stride apart, reading consecutive outputs); dy is the
 * group's first plane, w the weights w[first m of group][first lane], dx the first element.
 * The output-channel loop is innermost: it is the long one. */
static void gx_4x4(const gx_geom *g, const gx_taps *t, const float *dy, const float *w, float *dx)
{
  const ptrdiff_t wc = g->w_c;
  const ptrdiff_t sw = g->dx_sw;
  const ptrdiff_t dy_m = g->dy_m;
  const ptrdiff_t w_m = g->w_m;
  const int32_t mpg = g->mpg;
  float a00 = 0.0f, a01 = 0.0f, a02 = 0.0f, a03 = 0.0f;
  float a10 = 0.0f, a11 = 0.0f, a12 = 0.0f, a13 = 0.0f;
  float a20 = 0.0f, a21 = 0.0f, a22 = 0.0f, a23 = 0.0f;
  float a30 = 0.0f, a31 = 0.0f, a32 = 0.0f, a33 = 0.0f;
  dy += t->dy_off;
  w += t->w_off;
  for (int32_t i = 0; i < t->nkh; ++i) {
    for (int32_t j = 0; j < t->nkw; ++j) {
      const float *dp = dy + i * t->dy_kh + j * t->dy_kw;
      const float *wp = w + i * t->w_kh + j * t->w_kw;
      for (int32_t m = 0; m < mpg; ++m, dp += dy_m, wp += w_m) {
        const float d0 = dp[0], d1 = dp[1], d2 = dp[2], d3 = dp[3];
        const float u0 = wp[0], u1 = wp[wc], u2 = wp[2 * wc], u3 = wp[3 * wc];
        a00 += u0 * d0;
        a01 += u0 * d1;
        a02 += u0 * d2;
        a03 += u0 * d3;
        a10 += u1 * d0;
        a11 += u1 * d1;
        a12 += u1 * d2;
        a13 += u1 * d3;
        a20 += u2 * d0;
        a21 += u2 * d1;
        a22 += u2 * d2;
        a23 += u2 * d3;
        a30 += u3 * d0;
        a31 += u3 * d1;
        a32 += u3 * d2;
        a33 += u3 * d3;
      }
    }
  }
  float *x0 = dx;
  float *x1 = x0 + g->dx_c;
  float *x2 = x1 + g->dx_c;
  float *x3 = x2 + g->dx_c;
  x0[0] = a00; x0[sw] = a01; x0[2 * sw] = a02; x0[3 * sw] = a03;
  x1[0] = a10; x1[sw] = a11; x1[2 * sw] = a12; x1[3 * sw] = a13;
  x2[0] = a20; x2[sw] = a21; x2[2 * sw] = a22; x2[3 * sw] = a23;
  x3[0] = a30; x3[sw] = a31; x3[2 * sw] = a32; x3[3 * sw] = a33;
}

/* Four input channels x one column. */
static void gx_4x1(const gx_geom *g, const gx_taps *t, const float *dy, const float *w, float *dx)
{
  const ptrdiff_t wc = g->w_c;
  const ptrdiff_t dy_m = g->dy_m;
  const ptrdiff_t w_m = g->w_m;
  const int32_t mpg = g->mpg;
  float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
  dy += t->dy_off;
  w += t->w_off;
  for (int32_t i = 0; i < t->nkh; ++i) {
    for (int32_t j = 0; j < t->nkw; ++j) {
      const float *dp = dy + i * t->dy_kh + j * t->dy_kw;
      const float *wp = w + i * t->w_kh + j * t->w_kw;
      for (int32_t m = 0; m < mpg; ++m, dp += dy_m, wp += w_m) {
        const float d = *dp;
        a0 += wp[0] * d;
        a1 += wp[wc] * d;
        a2 += wp[2 * wc] * d;
        a3 += wp[3 * wc] * d;
      }
    }
  }
  dx[0] = a0;
  dx[g->dx_c] = a1;
  dx[2 * g->dx_c] = a2;
  dx[3 * g->dx_c] = a3;
}

/* One input channel x four columns, for g->reps groups in a row (depthwise: every channel). The
 * taps are the inner loops: mpg is small here. */
static void gx_1x4(const gx_geom *g, const gx_taps *t, const float *dy, const float *w, float *dx)
{
  const ptrdiff_t sw = g->dx_sw;
  dy += t->dy_off;
  w += t->w_off;
  for (int32_t r = 0; r < g->reps; ++r, dy += g->dy_rep, w += g->w_rep, dx += g->dx_rep) {
    float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
    const float *dym = dy;
    const float *wm = w;
    for (int32_t m = 0; m < g->mpg; ++m, dym += g->dy_m, wm += g->w_m) {
      const float *dr = dym;
      const float *wr = wm;
      for (int32_t i = 0; i < t->nkh; ++i, dr += t->dy_kh, wr += t->w_kh) {
        const float *dp = dr;
        const float *wp = wr;
        for (int32_t j = 0; j < t->nkw; ++j, dp += t->dy_kw, wp += t->w_kw) {
          const float u = *wp;
          a0 += u * dp[0];
          a1 += u * dp[1];
          a2 += u * dp[2];
          a3 += u * dp[3];
        }
      }
    }
    dx[0] = a0;
    dx[sw] = a1;
    dx[2 * sw] = a2;
    dx[3 * sw] = a3;
  }
}

/* One input channel x one column, for g->reps groups in a row. */
static void gx_1x1(const gx_geom *g, const gx_taps *t, const float *dy, const float *w, float *dx)
{
  dy += t->dy_off;
  w += t->w_off;
  for (int32_t r = 0; r < g->reps; ++r, dy += g->dy_rep, w += g->w_rep, dx += g->dx_rep) {
    float a = 0.0f;
    const float *dym = dy;
    const float *wm = w;
    for (int32_t m = 0; m < g->mpg; ++m, dym += g->dy_m, wm += g->w_m) {
      const float *dr = dym;
      const float *wr = wm;
      for (int32_t i = 0; i < t->nkh; ++i, dr += t->dy_kh, wr += t->w_kh) {
        const float *dp = dr;
        const float *wp = wr;
        for (int32_t j = 0; j < t->nkw; ++j, dp += t->dy_kw, wp += t->w_kw) {
          a += *wp * *dp;
        }
      }
    }
    *dx = a;
  }
}

typedef void (*gx_kernel)(const gx_geom *, const gx_taps *, const float *, const float *,
                          float *);

/* One column (block) of one dx row, for every batch item and input channel: dx is the element
 * in batch item 0, channel 0. Channels go four at a time when groups have at least four (the
 * last block of a group moved back), else one at a time with one call per batch item when
 * groups have a single input channel. */
static void gx_all_channels(const odlc_conv2d_params *p, const gx_geom *g, const gx_taps *t,
                            int32_t block, const float *dy, const float *w, float *dx)
{
  const int32_t cpg = p->c / p->group;
  const ptrdiff_t dx_n = (ptrdiff_t)p->c * g->dx_c;
  const ptrdiff_t dy_n = (ptrdiff_t)p->m * g->dy_m;
  const gx_kernel k4 = block ? gx_4x4 : gx_4x1;
  const gx_kernel k1 = block ? gx_1x4 : gx_1x1;
  for (int32_t n = 0; n < p->n; ++n, dy += dy_n, dx += dx_n) {
    if (cpg == 1) {
      k1(g, t, dy, w, dx);
      continue;
    }
    for (int32_t gi = 0; gi < p->group; ++gi) {
      const float *dyg = dy + gi * g->dy_rep;
      for (int32_t c = 0; c < cpg; c += cpg >= 4 ? 4 : 1) {
        const int32_t cb = cpg >= 4 ? block_start(c, cpg) : c;
        const float *wc = w + gi * g->w_rep + cb * g->w_c;
        float *dxc = dx + gi * g->dx_rep + cb * g->dx_c;
        (cpg >= 4 ? k4 : k1)(g, t, dyg, wc, dxc);
      }
    }
  }
}

/* Row by row; within a row, columns by residue class modulo the stride. A class's interior
 * columns share its full tap set and go four at a time (the last block moved back to end at the
 * interior's end); the others work out their own taps. Each tap set serves every channel. */
static void bwd_input_general(const odlc_conv2d_params *p, const float *dy, const float *w,
                              float *dx)
{
  const int32_t cpg = p->c / p->group;
  const int32_t mpg = p->m / p->group;
  gx_geom g;
  axis_taps rt;
  axis_taps ct;
  gx_taps t;
  g.mpg = mpg;
  g.dy_m = (ptrdiff_t)p->oh * p->ow;
  g.w_c = (ptrdiff_t)p->kh * p->kw;
  g.w_m = cpg * g.w_c;
  g.dx_c = (ptrdiff_t)p->h * p->w;
  g.dx_sw = p->sw;
  g.reps = cpg == 1 ? p->group : 1;
  g.dy_rep = mpg * g.dy_m;
  g.w_rep = mpg * g.w_m;
  g.dx_rep = cpg * g.dx_c;
  for (int32_t h = 0; h < p->h; ++h) {
    axis_taps_at(h, p->pad_top, p->sh, p->dh, p->kh, p->oh, &rt);
    if (rt.nk == 0) { /* no kernel row reads this input row */
      for (int32_t nc = 0; nc < p->n * p->c; ++nc) {
        zero(dx + nc * g.dx_c + (ptrdiff_t)h * p->w, p->w);
      }
      continue;
    }
    t.nkh = rt.nk;
    t.dy_kh = -(ptrdiff_t)rt.os * p->ow;
    t.w_kh = (ptrdiff_t)rt.ks * p->kw;
    for (int32_t r = 0; r < p->sw && r < p->w; ++r) {
      const int32_t ncols = (p->w - r + p->sw - 1) / p->sw;
      int32_t lo;
      int32_t hi;
      interior_cols(r, p->pad_left, p->sw, p->dw, p->kw, p->w, p->ow, &lo, &hi);
      for (int32_t j = 0; j < ncols;) {
        const int32_t block = hi - lo >= 4 && j >= lo && j < hi;
        const int32_t jb = block && j + 4 > hi ? hi - 4 : j;
        const int32_t iw = r + jb * p->sw;
        axis_taps_at(iw, p->pad_left, p->sw, p->dw, p->kw, p->ow, &ct);
        t.nkw = ct.nk;
        t.dy_off = (ptrdiff_t)rt.o0 * p->ow + ct.o0;
        t.w_off = (ptrdiff_t)rt.k0 * p->kw + ct.k0;
        t.dy_kw = -ct.os;
        t.w_kw = ct.ks;
        gx_all_channels(p, &g, &t, block, dy, w, dx + (ptrdiff_t)h * p->w + iw);
        j = block ? jb + 4 : j + 1;
      }
    }
  }
}

void odlc_conv2d_backward_input_f32(const odlc_conv2d_params *p, const float *dy, const float *w,
                                    float *dx)
{
  if (p->n <= 0 || p->c <= 0) {
    return;
  }
  if (p->m <= 0 || p->oh <= 0 || p->ow <= 0) { /* no output reads the input */
    zero(dx, (ptrdiff_t)p->n * p->c * p->h * p->w);
    return;
  }
  if (p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 && p->pad_top == 0 &&
      p->pad_left == 0 && p->oh <= p->h && p->ow == p->w) {
    bwd_input_pointwise(p, dy, w, dx);
  } else if (p->group == p->c && p->group == p->m) {
    if (p->kh == 3 && p->kw == 3 && p->sh == 1 && p->sw == 1 && p->dh == 1 && p->dw == 1) {
      bwd_input_dw3x3(p, dy, w, dx);
    } else if (p->kh == 3 && p->kw == 3 && p->dh == 1 && p->dw == 1) {
      bwd_input_dw3x3_strided(p, dy, w, dx);
    } else {
      bwd_input_depthwise(p, dy, w, dx);
    }
  } else {
    bwd_input_general(p, dy, w, dx);
  }
}

/* ---- Weight gradient -------------------------------------------------------------------- */

/* Offset of weight (output channel m, input channel c of its group, tap k) of the kernel's
 * geometry: in w itself (blk NULL), or in the full weight a sparse update's block lives in. */
static ptrdiff_t weight_at(const odlc_weight_block *blk, int32_t m, int32_t c, int32_t k,
                           int32_t cpg, int32_t taps)
{
  if (blk == NULL) {
    return ((ptrdiff_t)m * cpg + c) * taps + k;
  }
  const int32_t ci = blk->in_channels != NULL ? blk->in_channels[c] : c;
  return (ptrdiff_t)blk->out_channels[m] * blk->out_stride + (ptrdiff_t)ci * blk->in_stride + k;
}

/* Blocks of 4 output x 4 input channels of a group (cpg, mpg >= 4), one tap at a time: the
 * dy planes of the four output channels against the x planes of the four input channels, over
 * the tap's rectangle, summed over the batch. A block at the end of a group is moved back; the
 * lanes it repeats are not updated again. */
static void bwd_weight_blocked(const odlc_conv2d_params *p, const odlc_sgd_params *s,
                               const odlc_weight_block *blk, const float *x, const float *dy,
                               float *w, float *vw)
{
  const int32_t cpg = p->c / p->group;
  const int32_t mpg = p->m / p->group;
  const int32_t taps = p->kh * p->kw;
  const ptrdiff_t x_plane = (ptrdiff_t)p->h * p->w;
  const ptrdiff_t dy_plane = (ptrdiff_t)p->oh * p->ow;
  lanes4 q;
  tap_rect r;
  float acc[16];
  q.a_step = 1;
  q.b_step = p->sw;
  for (int32_t gi = 0; gi < p->group; ++gi) {
    for (int32_t m = 0; m < mpg; m += 4) {
      const int32_t m0 = block_start(m, mpg); /* block start within the group */
      const int32_t mb = gi * mpg + m0;       /* its first output channel */
      for (int32_t c = 0; c < cpg; c += 4) {
        const int32_t cb = block_start(c, cpg);
        const float *xg = x + ((ptrdiff_t)gi * cpg + cb) * x_plane;
        for (int32_t k = 0; k < taps; ++k) {
          tap_rect_init(p, k / p->kw, k % p->kw, &r);
          q.rows = r.rows;
          q.cols = r.cols;
          q.a_next = r.dy_row - r.cols;
          q.b_next = r.x_row - (ptrdiff_t)r.cols * p->sw;
          for (int32_t i = 0; i < 16; ++i) {
            acc[i] = 0.0f;
          }
          for (int32_t n = 0; n < p->n; ++n) {
            const float *dyn = dy + ((ptrdiff_t)n * p->m + mb) * dy_plane + r.dy_off;
            const float *xn = xg + (ptrdiff_t)n * p->c * x_plane + r.x_off;
            for (int32_t i = 0; i < 4; ++i) {
              q.a[i] = dyn + i * dy_plane;
              q.b[i] = xn + i * x_plane;
            }
            dot4x4(&q, acc, 4, 1);
          }
          /* Lanes below m - m0 and c - cb belong to the previous, overlapping block. */
          for (int32_t i = m - m0; i < 4; ++i) {
            if (blk == NULL) { /* the four input channels' weights are taps apart */
              const ptrdiff_t at = weight_at(NULL, mb + i, c, k, cpg, taps);
              sgd_run(s, w + at, vw ? vw + at : NULL, taps, acc + 4 * i + (c - cb), 4 - (c - cb));
              continue;
            }
            for (int32_t j = c - cb; j < 4; ++j) {
              const ptrdiff_t at = weight_at(blk, mb + i, cb + j, k, cpg, taps);
              sgd_run(s, w + at, vw ? vw + at : NULL, 1, acc + 4 * i + j, 1);
            }
          }
        }
      }
    }
  }
}

/* Sums over `cols` outputs of `rows` rows (dy rows dy_row apart, x rows x_row apart) of
 * dy[ow] * x[ow * sw + kw] for kw = 0, 1, 2, added to g[0..3): the three taps of a kernel row
 * share each dy load (with stride 1, four outputs share six x loads). x points at the tap
 * kw = 0 of output 0. */
static void dw3_row_taps(const float *dy, ptrdiff_t dy_row, const float *x, ptrdiff_t x_row,
                         ptrdiff_t sw, int32_t rows, int32_t cols, float *g)
{
  float g0 = 0.0f, g1 = 0.0f, g2 = 0.0f;
  for (int32_t r = 0; r < rows; ++r, dy += dy_row, x += x_row) {
    const float *xp = x;
    int32_t ow = 0;
    if (sw == 1) { /* four outputs read six adjacent x */
      for (; ow + 4 <= cols; ow += 4, xp += 4) {
        const float d0 = dy[ow], d1 = dy[ow + 1], d2 = dy[ow + 2], d3 = dy[ow + 3];
        const float x0 = xp[0], x1 = xp[1], x2 = xp[2], x3 = xp[3], x4 = xp[4], x5 = xp[5];
        g0 += d0 * x0;
        g1 += d0 * x1;
        g2 += d0 * x2;
        g0 += d1 * x1;
        g1 += d1 * x2;
        g2 += d1 * x3;
        g0 += d2 * x2;
        g1 += d2 * x3;
        g2 += d2 * x4;
        g0 += d3 * x3;
        g1 += d3 * x4;
        g2 += d3 * x5;
      }
    }
    for (; ow < cols; ++ow, xp += sw) {
      const float d = dy[ow];
      g0 += d * xp[0];
      g1 += d * xp[1];
      g2 += d * xp[2];
    }
  }
  g[0] += g0;
  g[1] += g1;
  g[2] += g2;
}

/* Depthwise 3x3, dilation 1 (any stride). Per kernel row, the rows come from its exact output
 * range. The columns whose three taps are all inside ([in_lo, in_hi)) go through dw3_row_taps;
 * the few edge columns left of each tap, one strided column at a time, through strided_dot. */
static void bwd_weight_dw3x3(const odlc_conv2d_params *p, const odlc_sgd_params *s,
                             const odlc_weight_block *blk, const float *x, const float *dy,
                             float *w, float *vw)
{
  const ptrdiff_t x_plane = (ptrdiff_t)p->h * p->w;
  const ptrdiff_t dy_plane = (ptrdiff_t)p->oh * p->ow;
  const ptrdiff_t x_row = (ptrdiff_t)p->sh * p->w;
  int32_t lo[3]; /* outputs whose tap kw is inside: [lo[kw], hi[kw]); both fall as kw grows */
  int32_t hi[3];
  for (int32_t kw = 0; kw < 3; ++kw) {
    out_range(kw - p->pad_left, p->sw, p->w, p->ow, &lo[kw], &hi[kw]);
  }
  const int32_t in_lo = lo[0];
  const int32_t in_hi = max32(hi[2], in_lo);
  for (int32_t c = 0; c < p->c; ++c) {
    float g[9] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    for (int32_t kh = 0; kh < 3; ++kh) {
      int32_t oh0;
      int32_t oh1;
      out_range(kh - p->pad_top, p->sh, p->h, p->oh, &oh0, &oh1);
      if (oh1 == oh0) {
        continue;
      }
      const ptrdiff_t dy_off = (ptrdiff_t)oh0 * p->ow;
      const ptrdiff_t x_off = (ptrdiff_t)(oh0 * p->sh - p->pad_top + kh) * p->w - p->pad_left;
      for (int32_t n = 0; n < p->n; ++n) {
        const float *dyc = dy + ((ptrdiff_t)n * p->c + c) * dy_plane + dy_off;
        const float *xc = x + ((ptrdiff_t)n * p->c + c) * x_plane;
        if (in_hi > in_lo) { /* tap 0 of output in_lo reads column in_lo * sw - pl >= 0 */
          dw3_row_taps(dyc + in_lo, p->ow, xc + (x_off + in_lo * p->sw), x_row, p->sw,
                       oh1 - oh0, in_hi - in_lo, g + 3 * kh);
        }
        for (int32_t kw = 0; kw < 3; ++kw) { /* edge columns [lo, in_lo) and [in_hi, hi) */
          const int32_t ranges[4] = {lo[kw], min32(in_lo, hi[kw]), max32(in_hi, lo[kw]), hi[kw]};
          for (int32_t e = 0; e < 4; e += 2) {
            for (int32_t ow = ranges[e]; ow < ranges[e + 1]; ++ow) {
              g[3 * kh + kw] += strided_dot(dyc + ow, p->ow, xc + (x_off + ow * p->sw + kw),
                                            x_row, oh1 - oh0);
            }
          }
        }
      }
    }
    const ptrdiff_t at = weight_at(blk, c, 0, 0, 1, 9);
    sgd_run(s, w + at, vw ? vw + at : NULL, 1, g, 9);
  }
}

/* Every weight on its own (groups with fewer than four input or output channels other than the
 * depthwise 3x3 ones): the tap's rectangle of its dy plane against its x plane, summed over the
 * batch. */
static void bwd_weight_single(const odlc_conv2d_params *p, const odlc_sgd_params *s,
                              const odlc_weight_block *blk, const float *x, const float *dy,
                              float *w, float *vw)
{
  const int32_t cpg = p->c / p->group;
  const int32_t mpg = p->m / p->group;
  const int32_t taps = p->kh * p->kw;
  const ptrdiff_t x_plane = (ptrdiff_t)p->h * p->w;
  const ptrdiff_t dy_plane = (ptrdiff_t)p->oh * p->ow;
  tap_rect r;
  for (int32_t m = 0; m < p->m; ++m) {
    for (int32_t c = 0; c < cpg; ++c) {
      const float *xc = x + ((ptrdiff_t)(m / mpg) * cpg + c) * x_plane;
      for (int32_t k = 0; k < taps; ++k) {
        const ptrdiff_t at = weight_at(blk, m, c, k, cpg, taps);
        float g = 0.0f;
        tap_rect_init(p, k / p->kw, k % p->kw, &r);
        for (int32_t n = 0; n < p->n; ++n) {
          g += rect_dot(dy + ((ptrdiff_t)n * p->m + m) * dy_plane + r.dy_off,
                        xc + (ptrdiff_t)n * p->c * x_plane + r.x_off, p->sw, &r);
        }
        sgd_run(s, w + at, vw ? vw + at : NULL, 1, &g, 1);
      }
    }
  }
}

/* Sum of the n floats at x, four partial sums. */
static float plane_sum(const float *x, ptrdiff_t n)
{
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
  ptrdiff_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += x[i];
    s1 += x[i + 1];
    s2 += x[i + 2];
    s3 += x[i + 3];
  }
  for (; i < n; ++i) {
    s0 += x[i];
  }
  return (s0 + s1) + (s2 + s3);
}

/* The weight gradient of geometry p applied to w (blk NULL) or to the block blk names. */
static void bwd_weight_sgd(const odlc_conv2d_params *p, const odlc_sgd_params *s,
                           const odlc_weight_block *blk, const float *x, const float *dy, float *w,
                           float *b, float *vw, float *vb)
{
  const ptrdiff_t dy_plane = (ptrdiff_t)p->oh * p->ow;
  if (p->c / p->group >= 4 && p->m / p->group >= 4) {
    bwd_weight_blocked(p, s, blk, x, dy, w, vw);
  } else if (p->group == p->c && p->group == p->m && p->kh == 3 && p->kw == 3 && p->dh == 1 &&
             p->dw == 1) {
    bwd_weight_dw3x3(p, s, blk, x, dy, w, vw);
  } else {
    bwd_weight_single(p, s, blk, x, dy, w, vw);
  }
  if (b == NULL) {
    return;
  }
  for (int32_t m = 0; m < p->m; ++m) {
    const int32_t at = blk != NULL ? blk->out_channels[m] : m;
    float g = 0.0f;
    for (int32_t n = 0; n < p->n; ++n) {
      g += plane_sum(dy + ((ptrdiff_t)n * p->m + m) * dy_plane, dy_plane);
    }
    sgd_run(s, b + at, vb ? vb + at : NULL, 1, &g, 1);
  }
}

void odlc_conv2d_backward_weight_sgd_f32(const odlc_conv2d_params *p, const odlc_sgd_params *s,
                                         const float *x, const float *dy, float *w, float *b,
                                         float *vw, float *vb)
{
  bwd_weight_sgd(p, s, NULL, x, dy, w, b, vw, vb);
}

void odlc_conv2d_backward_weight_block_sgd_f32(const odlc_conv2d_params *p,
                                               const odlc_sgd_params *s,
                                               const odlc_weight_block *blk, const float *x,
                                               const float *dy, float *w, float *b, float *vw,
                                               float *vb)
{
  bwd_weight_sgd(p, s, blk, x, dy, w, b, vw, vb);
}
