/// \file Binary search over a monotone yes/no question, for the choices that probe real plans
/// ("the densest ladder step that fits", "the most replayed latents that fit").
#pragma once

#include <cstdint>

namespace odlc {

/// The largest k in [lo, hi] with pred(k), given pred(lo) and a pred that holds up to some k
/// and fails above it.
template <typename Pred> int64_t lastTrue(int64_t lo, int64_t hi, Pred pred) {
  if (pred(hi))
    return hi;
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    (pred(mid) ? lo : hi) = mid;
  }
  return lo;
}

} // namespace odlc
