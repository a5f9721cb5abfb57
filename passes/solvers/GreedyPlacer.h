#pragma once
/// \file
/// Heuristic placements: buffers are taken one by one in some priority order
/// and each is put at the lowest aligned offset where it fits among the
/// already placed buffers it overlaps in time.

#include <cstdint>
#include <vector>

#include "solvers/PlanProblem.h"

namespace odlc::planner {

/// Places the buffers in `order` (a permutation of 0..n-1) first-fit.
/// Returns false when some offset would not fit in int64.
bool greedyPlace(const Problem& problem, const std::vector<int>& order,
                 std::vector<int64_t>& offsets);

/// Best of several greedy orders. Returns its arena; `offsets` is left empty
/// when no order fits in int64.
int64_t bestGreedyPlacement(const Problem& problem, std::vector<int64_t>& offsets);

}  // namespace odlc::planner
