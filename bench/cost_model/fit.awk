# Fits instructions = perCall + perMac * units per (kind, precision) over the `sample` lines of
# cost_bench. Weighted least squares with weights 1/instructions^2, i.e. it minimizes the
# relative error, so small and large calls count alike (the planner compares layers of every
# size). Prints, in the order kinds first appear:
#   kind precision perMac perCall maxResidualPercent samples
$1 == "sample" {
  key = $2 " " $3
  if (!(key in n)) { order[++kinds] = key }
  i = ++n[key]
  x[key, i] = $4
  y[key, i] = $5
}
END {
  for (k = 1; k <= kinds; ++k) {
    key = order[k]
    s = sx = sy = sxx = sxy = 0
    for (i = 1; i <= n[key]; ++i) {
      w = 1 / (y[key, i] * y[key, i])
      s += w; sx += w * x[key, i]; sy += w * y[key, i]
      sxx += w * x[key, i] * x[key, i]; sxy += w * x[key, i] * y[key, i]
    }
    det = s * sxx - sx * sx
    if (det > 1e-12 * s * sxx) { b = (s * sxy - sx * sy) / det; a = (sy - b * sx) / s }
    else { b = sy / sx; a = 0 } # one size only: no overhead can be told apart
    worst = 0
    for (i = 1; i <= n[key]; ++i) {
      r = (a + b * x[key, i] - y[key, i]) / y[key, i]
      if (r < 0) r = -r
      if (r > worst) worst = r
    }
    printf "%s %.4f %.1f %.1f %d\n", key, b, a, 100 * worst, n[key]
  }
}
