#include "solvers/GreedyPlacer.h"

#include <algorithm>
#include <functional>
#include <numeric>
#include <utility>

namespace odlc::planner {

namespace {

using Interval = std::pair<int64_t, int64_t>;  // [begin, end) in bytes

/// Lowest aligned offset >= 0 where `size` bytes fit between `used` (sorted by begin).
/// Returns -1 when no such offset fits in int64.
int64_t lowestFit(const std::vector<Interval>& used, int64_t size, int64_t align) {
  int64_t candidate = 0;
  for (const Interval& iv : used) {
    if (iv.second <= candidate)
      continue;
    if (iv.first >= candidate && iv.first - candidate >= size)
      return candidate;
    candidate = alignUpWithin(iv.second, align, INT64_MAX);
    if (candidate < 0)
      return -1;
  }
  return candidate <= INT64_MAX - size ? candidate : -1;
}

/// Largest section total over the buffer's lifetime: how crowded its time is.
std::vector<int64_t> crowding(const Problem& p) {
  std::vector<int64_t> result(p.n, 0);
  for (int i = 0; i < p.n; ++i)
    for (int s = p.lo[i]; s < p.hi[i]; ++s)
      result[i] = std::max(result[i], p.sectionTotal[s]);
  return result;
}

using Less = std::function<bool(int, int)>;

std::vector<int> sortedOrder(int n, const Less& less) {
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), less);
  return order;
}

}  // namespace

bool greedyPlace(const Problem& p, const std::vector<int>& order, std::vector<int64_t>& offsets) {
  offsets.assign(p.n, -1);
  const bool haveNeighbors = hasNeighbors(p);
  std::vector<int> placed;
  std::vector<Interval> used;
  for (int b : order) {
    used.clear();
    // Without neighbour lists, scan everything placed so far (O(n) memory).
    const std::vector<int>& others = haveNeighbors ? p.neighbors[b] : placed;
    for (int q : others)
      if (offsets[q] >= 0 && p.lo[q] < p.hi[b] && p.lo[b] < p.hi[q])
        used.push_back({offsets[q], offsets[q] + p.size[q]});
    std::sort(used.begin(), used.end());
    int64_t offset = lowestFit(used, p.size[b], p.align[b]);
    if (offset < 0)
      return false;
    offsets[b] = offset;
    placed.push_back(b);
  }
  return true;
}

int64_t bestGreedyPlacement(const Problem& p, std::vector<int64_t>& offsets) {
  std::vector<int64_t> crowd = crowding(p);
  auto wider = [&](int a, int b) { return p.width[a] > p.width[b]; };
  // Area compared exactly: width * size may not fit in int64.
  auto area = [&](int a) { return (unsigned __int128)p.width[a] * (unsigned __int128)p.size[a]; };
  std::vector<Less> orders = {
      [&](int a, int b) { return p.size[a] != p.size[b] ? p.size[a] > p.size[b] : wider(a, b); },
      [&](int a, int b) { return p.width[a] != p.width[b] ? wider(a, b) : p.size[a] > p.size[b]; },
      [&](int a, int b) { return area(a) > area(b); },
      [&](int a, int b) { return crowd[a] != crowd[b] ? crowd[a] > crowd[b] : p.size[a] > p.size[b]; },
      [&](int a, int b) { return p.lo[a] != p.lo[b] ? p.lo[a] < p.lo[b] : p.size[a] > p.size[b]; },
  };
  int64_t best = INT64_MAX;
  bool found = false;
  offsets.clear();
  std::vector<int64_t> trial;
  for (const Less& less : orders) {
    if (!greedyPlace(p, sortedOrder(p.n, less), trial))
      continue;
    int64_t arena = arenaOf(p, trial);
    if (!found || arena < best) {
      found = true;
      best = arena;
      offsets = trial;
    }
  }
  return best;
}

}  // namespace odlc::planner
