#pragma once
/// \file
/// Internal, compressed form of a planning problem shared by the greedy
/// placer and the exact search. Only buffers that occupy space (size > 0 and
/// lower < upper) take part; time is compressed into "sections", the maximal
/// step ranges during which the set of live buffers does not change.

#include <cstdint>
#include <vector>

#include "solvers/BufferPlanner.h"

namespace odlc::planner {

/// Saturating a + b for non-negative values.
inline int64_t addSat(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }

/// Smallest multiple of `align` that is >= value, or -1 when it would exceed `limit`.
inline int64_t alignUpWithin(int64_t value, int64_t align, int64_t limit) {
  if (value > limit)
    return -1;
  int64_t rem = value % align;
  if (rem == 0)
    return value;
  int64_t pad = align - rem;
  if (value > limit - pad)
    return -1;
  return value + pad;
}

/// The compressed problem. Buffer i of the problem is `source[i]` of the input.
struct Problem {
  int n = 0;                             ///< buffers that occupy space
  int m = 0;                             ///< sections
  std::vector<int> source;               ///< index into the caller's buffer vector
  std::vector<int> lo, hi;               ///< section span [lo, hi) of each buffer
  std::vector<int64_t> size, align;      ///< bytes, alignment
  std::vector<int64_t> width;            ///< live steps (upper - lower), saturated
  std::vector<std::vector<int>> sectionBuffers;  ///< buffers live in each section
  std::vector<std::vector<int>> neighbors;       ///< time-overlapping buffers (may be empty)
  std::vector<int64_t> sectionTotal;     ///< sum of sizes per section (saturated)
  int64_t bound = 0;                     ///< max section total (saturated)
  int64_t minSize = 1;                   ///< smallest buffer size
  bool anyAlignment = false;             ///< some buffer has alignment > 1
  bool overflow = false;                 ///< some section total exceeds INT64_MAX
};

/// Builds the compressed problem from the buffers at `indices` of `buffers`.
/// Neighbour lists take one entry per pair of buffers live at the same time
/// (O(n^2) in the worst case); they are built only when there are at most
/// `maxNeighborPairs` such pairs. Precondition: every selected buffer has
/// size > 0 and lower < upper.
Problem buildProblem(const std::vector<PlanBuffer>& buffers, const std::vector<int>& indices,
                     int64_t maxNeighborPairs = INT64_MAX);

/// Whether `problem` has neighbour lists (the greedy placer is faster with
/// them, and the exact search needs them).
inline bool hasNeighbors(const Problem& problem) {
  return int(problem.neighbors.size()) == problem.n;
}

/// Arena (max offset + size) of a complete placement, saturated.
int64_t arenaOf(const Problem& problem, const std::vector<int64_t>& offsets);

}  // namespace odlc::planner
