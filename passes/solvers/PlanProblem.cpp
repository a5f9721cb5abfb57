#include "solvers/PlanProblem.h"

#include <algorithm>
#include <numeric>

namespace odlc::planner {

namespace {

/// Sorted distinct lifetime endpoints of the selected buffers.
std::vector<int64_t> collectEndpoints(const std::vector<PlanBuffer>& buffers,
                                      const std::vector<int>& indices) {
  std::vector<int64_t> points;
  points.reserve(indices.size() * 2);
  for (int i : indices) {
    points.push_back(buffers[i].lower);
    points.push_back(buffers[i].upper);
  }
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  return points;
}

int sectionIndex(const std::vector<int64_t>& points, int64_t t) {
  return int(std::lower_bound(points.begin(), points.end(), t) - points.begin());
}

/// Number of pairs of buffers whose section spans intersect, without listing them.
int64_t overlappingPairs(const Problem& p) {
  std::vector<int> starts(p.lo);
  std::sort(starts.begin(), starts.end());
  int64_t pairs = 0;
  for (int b = 0; b < p.n; ++b) {
    // Buffers starting in [lo[b], hi[b]) other than b itself; a pair with equal
    // starts is counted from both sides, so this may count up to twice.
    auto first = std::lower_bound(starts.begin(), starts.end(), p.lo[b]);
    auto last = std::lower_bound(first, starts.end(), p.hi[b]);
    pairs += int64_t(last - first) - 1;
  }
  return pairs;
}

/// Fills `neighbors` with every pair of buffers whose section spans intersect.
void buildNeighbors(Problem& p) {
  std::vector<int> order(p.n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return p.lo[a] != p.lo[b] ? p.lo[a] < p.lo[b] : a < b;
  });
  p.neighbors.assign(p.n, {});
  for (size_t x = 0; x < order.size(); ++x) {
    int a = order[x];
    for (size_t y = x + 1; y < order.size() && p.lo[order[y]] < p.hi[a]; ++y) {
      int b = order[y];
      p.neighbors[a].push_back(b);
      p.neighbors[b].push_back(a);
    }
  }
  for (auto& list : p.neighbors)
    std::sort(list.begin(), list.end());
}

}  // namespace

Problem buildProblem(const std::vector<PlanBuffer>& buffers, const std::vector<int>& indices,
                     int64_t maxNeighborPairs) {
  Problem p;
  p.n = int(indices.size());
  p.source = indices;
  std::vector<int64_t> points = collectEndpoints(buffers, indices);
  p.m = points.empty() ? 0 : int(points.size()) - 1;
  p.lo.resize(p.n);
  p.hi.resize(p.n);
  p.size.resize(p.n);
  p.align.resize(p.n);
  p.width.resize(p.n);
  p.sectionBuffers.assign(p.m, {});
  p.sectionTotal.assign(p.m, 0);
  p.minSize = INT64_MAX;
  for (int i = 0; i < p.n; ++i) {
    const PlanBuffer& b = buffers[indices[i]];
    p.lo[i] = sectionIndex(points, b.lower);
    p.hi[i] = sectionIndex(points, b.upper);
    p.size[i] = b.size;
    p.align[i] = b.alignment;
    p.anyAlignment = p.anyAlignment || b.alignment > 1;
    // upper - lower can overflow for extreme step values; saturate.
    p.width[i] = b.lower < 0 && b.upper > INT64_MAX + b.lower ? INT64_MAX : b.upper - b.lower;
    p.minSize = std::min(p.minSize, b.size);
    for (int s = p.lo[i]; s < p.hi[i]; ++s) {
      p.sectionBuffers[s].push_back(i);
      p.overflow = p.overflow || p.sectionTotal[s] > INT64_MAX - b.size;
      p.sectionTotal[s] = addSat(p.sectionTotal[s], b.size);
    }
  }
  if (p.n == 0)
    p.minSize = 1;
  for (int64_t total : p.sectionTotal)
    p.bound = std::max(p.bound, total);
  if (overlappingPairs(p) <= maxNeighborPairs)
    buildNeighbors(p);
  return p;
}

int64_t arenaOf(const Problem& problem, const std::vector<int64_t>& offsets) {
  int64_t arena = 0;
  for (int i = 0; i < problem.n; ++i)
    arena = std::max(arena, addSat(offsets[i], problem.size[i]));
  return arena;
}

}  // namespace odlc::planner
