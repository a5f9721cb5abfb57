# Fits instructions = sum_i c_i * T_i per (kind, precision) over the `sample` lines of cost_bench
#   sample KIND PRECISION INSTRUCTIONS GEOMETRY T0 T1 ... T(K-1)
# (T0 = 1: the call; T1.. the kind's terms of targets/costs/CostTerms.h). Weighted least squares
# with weights 1/instructions^2, i.e. it minimizes the relative error, so small and large calls
# count alike (the planner compares layers of every size). Non-negative: a term is a cost, so
# a term whose coefficient comes out negative is dropped and the rest refitted (the call's own
# c_0 may be negative: it absorbs the part of the terms' cost the kernel does not pay at size 0);
# terms that are zero on every sample get 0. Prints, in the order kinds first appear:
#   kind precision c0 c1 ... c(K-1) maxResidualPercent samples
function solve(key, cols, nc,    i, j, k, r, a, b, w, piv, tmp, f, sc) {
  # normal equations over the columns cols[1..nc], each column scaled to unit weighted norm
  # first (the terms span 1 to 1e7: unscaled, the normal equations lose every digit)
  for (i = 1; i <= nc; ++i) {
    sc[i] = 0
    for (r = 1; r <= n[key]; ++r) sc[i] += (x[key, r, cols[i]] / y[key, r]) ^ 2
    sc[i] = sc[i] > 0 ? sqrt(sc[i]) : 1
  }
  for (i = 1; i <= nc; ++i) {
    b[i] = 0
    for (j = 1; j <= nc; ++j) a[i, j] = 0
  }
  for (r = 1; r <= n[key]; ++r) {
    w = 1 / (y[key, r] * y[key, r])
    for (i = 1; i <= nc; ++i) {
      b[i] += w * x[key, r, cols[i]] / sc[i] * y[key, r]
      for (j = 1; j <= nc; ++j) a[i, j] += w * x[key, r, cols[i]] / sc[i] * x[key, r, cols[j]] / sc[j]
    }
  }
  for (i = 1; i <= nc; ++i) { # Gauss-Jordan with partial pivoting
    piv = i
    for (k = i + 1; k <= nc; ++k) if (abs(a[k, i]) > abs(a[piv, i])) piv = k
    for (j = 1; j <= nc; ++j) { tmp = a[i, j]; a[i, j] = a[piv, j]; a[piv, j] = tmp }
    tmp = b[i]; b[i] = b[piv]; b[piv] = tmp
    if (abs(a[i, i]) < 1e-12) { bad = i; return 0 } # column i is collinear with those before
    for (k = 1; k <= nc; ++k) {
      if (k == i) continue
      f = a[k, i] / a[i, i]
      for (j = i; j <= nc; ++j) a[k, j] -= f * a[i, j]
      b[k] -= f * b[i]
    }
  }
  for (i = 1; i <= nc; ++i) coef[cols[i]] = b[i] / a[i, i] / sc[i]
  return 1
}
function abs(v) { return v < 0 ? -v : v }
$1 == "sample" {
  key = $2 " " $3
  if (!(key in n)) { order[++kinds] = key }
  i = ++n[key]
  y[key, i] = $4
  terms = NF - 5
  for (t = 0; t < terms; ++t) x[key, i, t] = $(6 + t)
}
END {
  for (kk = 1; kk <= kinds; ++kk) {
    key = order[kk]
    nc = 0
    for (t = 0; t < terms; ++t) {
      used = 0
      for (i = 1; i <= n[key]; ++i) if (x[key, i, t] != 0) used = 1
      if (used) cols[++nc] = t
    }
    for (;;) {
      for (t = 0; t < terms; ++t) coef[t] = 0
      if (!solve(key, cols, nc)) { # singular: drop the column found collinear
        for (i = bad; i < nc; ++i) cols[i] = cols[i + 1]
        --nc
        continue
      }
      worst_c = 0; worst_v = 0
      for (i = 1; i <= nc; ++i)
        if (cols[i] > 0 && coef[cols[i]] < worst_v) { worst_v = coef[cols[i]]; worst_c = i }
      if (worst_c == 0) break
      for (i = worst_c; i < nc; ++i) cols[i] = cols[i + 1]
      --nc
    }
    worst = 0
    for (i = 1; i <= n[key]; ++i) {
      p = 0
      for (t = 0; t < terms; ++t) p += coef[t] * x[key, i, t]
      r = abs((p - y[key, i]) / y[key, i])
      if (r > worst) worst = r
    }
    printf "%s", key
    for (t = 0; t < terms; ++t) printf " %.6g", coef[t]
    printf " %.1f %d\n", 100 * worst, n[key]
  }
}
