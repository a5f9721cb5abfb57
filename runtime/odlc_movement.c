/* odlc runtime: strided copy, gather and pad. See odlc_runtime.h. */
#include <string.h>

#include "odlc_runtime.h"

/* ---- Strided copy ------------------------------------------------------------------------ */

/* Copy space with size-1 dimensions dropped and neighbours merged where both source and
 * destination are contiguous across them, so a plain slice or concat becomes few long rows. */
typedef struct {
  int32_t rank;
  int32_t shape[ODLC_MAX_RANK];
  int32_t ss[ODLC_MAX_RANK];
  int32_t ds[ODLC_MAX_RANK];
} copy_space;

static void copy_space_init(const odlc_copy_params *p, copy_space *s)
{
  s->rank = 0;
  for (int32_t d = 0; d < p->rank; ++d) {
    const int32_t n = p->shape[d];
    const int32_t r = s->rank;
    if (n == 1) {
      continue;
    }
    if (r > 0 && s->ss[r - 1] == p->src_stride[d] * n && s->ds[r - 1] == p->dst_stride[d] * n) {
      s->shape[r - 1] *= n;
      s->ss[r - 1] = p->src_stride[d];
      s->ds[r - 1] = p->dst_stride[d];
      continue;
    }
    s->shape[r] = n;
    s->ss[r] = p->src_stride[d];
    s->ds[r] = p->dst_stride[d];
    s->rank = r + 1;
  }
  if (s->rank == 0) {
    s->rank = 1;
    s->shape[0] = 1;
    s->ss[0] = 0;
    s->ds[0] = 0;
  }
}

/* One innermost row: y[i * ds] = x[i * ss], i < n. */
static void copy_row(const float *x, int32_t ss, float *y, int32_t ds, int32_t n)
{
  if (ss == 1 && ds == 1) {
    memcpy(y, x, (size_t)n * sizeof(float));
    return;
  }
  if (ss == 0) { /* broadcast read (Expand) */
    const float v = *x;
    for (int32_t i = 0; i < n; ++i, y += ds) {
      *y = v;
    }
    return;
  }
  for (int32_t i = 0; i < n; ++i, x += ss, y += ds) {
    *y = *x;
  }
}

void odlc_copy_f32(const odlc_copy_params *p, const float *x, float *y)
{
  copy_space s;
  int32_t idx[ODLC_MAX_RANK] = {0};
  ptrdiff_t os = p->src_offset;
  ptrdiff_t od = p->dst_offset;
  for (int32_t d = 0; d < p->rank; ++d) {
    if (p->shape[d] <= 0) {
      return; /* nothing to copy */
    }
  }
  copy_space_init(p, &s);
  const int32_t last = s.rank - 1;
  /* Odometer over the outer dimensions; offsets are tracked as integers so that negative
   * strides never form out-of-range pointers. */
  for (;;) {
    copy_row(x + os, s.ss[last], y + od, s.ds[last], s.shape[last]);
    int32_t d = last - 1;
    for (; d >= 0; --d) {
      os += s.ss[d];
      od += s.ds[d];
      if (++idx[d] < s.shape[d]) {
        break;
      }
      os -= (ptrdiff_t)s.ss[d] * s.shape[d];
      od -= (ptrdiff_t)s.ds[d] * s.shape[d];
      idx[d] = 0;
    }
    if (d < 0) {
      return;
    }
  }
}

/* ---- Gather ------------------------------------------------------------------------------ */

void odlc_gather_f32(const odlc_gather_params *p, const float *x, float *y)
{
  const ptrdiff_t inner = p->inner;
  const ptrdiff_t block = (ptrdiff_t)p->axis * inner;
  for (int32_t o = 0; o < p->outer; ++o, x += block) {
    if (inner == 1) { /* single elements: skip the memcpy call overhead */
      for (int32_t j = 0; j < p->count; ++j) {
        y[j] = x[p->index[j]];
      }
      y += p->count;
      continue;
    }
    for (int32_t j = 0; j < p->count; ++j, y += inner) {
      memcpy(y, x + p->index[j] * inner, (size_t)inner * sizeof(float));
    }
  }
}

/* ---- Pad --------------------------------------------------------------------------------- */

/* Source index along one axis of length n for the padded position i (already shifted by
 * -begin), or -1 when the constant value applies. Reflection repeats with period 2(n-1) so that
 * any pad width is defined; the loop only runs more than once for pads wider than the axis. */
static int32_t pad_source(int32_t mode, int32_t i, int32_t n)
{
  if (i >= 0 && i < n) {
    return i;
  }
  if (mode == ODLC_PAD_EDGE) {
    return i < 0 ? 0 : n - 1;
  }
  if (mode != ODLC_PAD_REFLECT) {
    return -1;
  }
  if (n == 1) {
    return 0;
  }
  while (i < 0 || i >= n) {
    i = i < 0 ? -i : 2 * (n - 1) - i;
  }
  return i;
}

/* One innermost output row of length n_out from source row x of length n_in: left pad,
 * straight copy of the overlap, right pad. */
static void pad_row(const odlc_pad_params *p, const float *x, int32_t n_in, int32_t begin,
                    float *y, int32_t n_out)
{
  int32_t lo = begin > 0 ? begin : 0;                       /* first output inside x */
  int32_t hi = n_in + begin < n_out ? n_in + begin : n_out; /* one past the last one */
  if (hi < lo) {
    hi = lo;
  }
  if (lo > n_out) {
    lo = hi = n_out;
  }
  for (int32_t o = 0; o < lo; ++o) {
    const int32_t s = pad_source(p->mode, o - begin, n_in);
    y[o] = s < 0 ? p->value : x[s];
  }
  if (hi > lo) {
    memcpy(y + lo, x + (lo - begin), (size_t)(hi - lo) * sizeof(float));
  }
  for (int32_t o = hi; o < n_out; ++o) {
    const int32_t s = pad_source(p->mode, o - begin, n_in);
    y[o] = s < 0 ? p->value : x[s];
  }
}

void odlc_pad_f32(const odlc_pad_params *p, const float *x, float *y)
{
  int32_t idx[ODLC_MAX_RANK] = {0};
  ptrdiff_t in_stride[ODLC_MAX_RANK];
  ptrdiff_t total_in = 1;
  const int32_t last = p->rank - 1;
  if (p->rank <= 0) {
    *y = *x;
    return;
  }
  for (int32_t d = last; d >= 0; --d) {
    if (p->out_shape[d] <= 0) {
      return; /* empty output */
    }
    in_stride[d] = total_in;
    total_in *= p->in_shape[d];
  }
  const int32_t n_out = p->out_shape[last];
  /* Odometer over the outer output dimensions; each row maps to one source row or, when any
   * outer index is in the constant padding (or x is empty), to the constant value. */
  for (;;) {
    ptrdiff_t src = 0;
    int32_t constant_row = total_in == 0;
    for (int32_t d = 0; d < last && !constant_row; ++d) {
      const int32_t s = pad_source(p->mode, idx[d] - p->begin[d], p->in_shape[d]);
      constant_row = s < 0;
      src += s * in_stride[d];
    }
    if (constant_row) {
      for (int32_t o = 0; o < n_out; ++o) {
        y[o] = p->value;
      }
    } else {
      pad_row(p, x + src, p->in_shape[last], p->begin[last], y, n_out);
    }
    y += n_out;
    int32_t d = last - 1;
    for (; d >= 0 && ++idx[d] == p->out_shape[d]; --d) {
      idx[d] = 0;
    }
    if (d < 0) {
      return;
    }
  }
}
