#pragma once
/// \file
/// Exact depth-first search for a placement within a fixed capacity.
///
/// The search enumerates "canonical" placements only: every buffer sits at
/// offset 0 or directly on top of a buffer it overlaps in time (its lowest
/// feasible aligned offset given the buffers below it). Buffers are placed in
/// non-decreasing offset order, one offset "level" at a time; at each level the
/// best-ranked candidate is either placed at the level or excluded from it.
/// Pruning: per-section capacity with floors raised by the unplaced buffers'
/// minimum offsets, dominance (a skipped buffer that still fits in the gap it
/// left), forced placement of buffers that contain all their neighbours, a
/// transposition table of failed states, and temporal decomposition into
/// independent sub-problems. Several branching heuristics are run round-robin
/// with doubling node limits (restarts); all limits count nodes, not time.

#include <atomic>
#include <cstdint>
#include <vector>

#include "solvers/PlanProblem.h"

namespace odlc::planner {

/// Result of searchWithinCapacity().
struct SearchOutcome {
  enum class Status { Found, Infeasible, Aborted };
  Status status = Status::Aborted;  ///< Infeasible: proved that nothing fits
  std::vector<int64_t> offsets;     ///< per problem buffer, when Found
  int64_t nodes = 0;                ///< nodes spent
};

/// Looks for a placement of every buffer of `problem` with offset + size <=
/// capacity, spending at most `nodeBudget` nodes.
///
/// With `conflicts` (one count per buffer, kept by the caller across calls)
/// the search learns instead: every failed section blames its unplaced
/// buffers, and short restarts branch on the most blamed buffers first. This
/// finds placements that the fixed orders miss, but it rarely proves anything.
/// The search gives up (Aborted) between restarts once `stop` is set.
SearchOutcome searchWithinCapacity(const Problem& problem, int64_t capacity, int64_t nodeBudget,
                                   std::vector<int64_t>* conflicts = nullptr,
                                   const std::atomic<bool>* stop = nullptr);

}  // namespace odlc::planner
