#include "solvers/BufferPlanner.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "solvers/CanonicalSearch.h"
#include "solvers/GreedyPlacer.h"
#include "solvers/PlanProblem.h"

namespace odlc {

namespace {

using planner::Problem;
using planner::SearchOutcome;

/// Above this many buffers only the greedy heuristics run (the exact search
/// recurses once per placed buffer and needs O(n^2) neighbour lists).
constexpr int kMaxSearchBuffers = 3000;

void validateBuffers(const std::vector<PlanBuffer>& buffers) {
  for (const PlanBuffer& b : buffers) {
    std::string where = "buffer id " + std::to_string(b.id) + ": ";
    if (b.upper < b.lower)
      throw std::invalid_argument(where + "upper (" + std::to_string(b.upper) +
                                  ") is before lower (" + std::to_string(b.lower) + ")");
    if (b.size < 0)
      throw std::invalid_argument(where + "negative size " + std::to_string(b.size));
    if (b.alignment < 1)
      throw std::invalid_argument(where + "alignment " + std::to_string(b.alignment) +
                                  " is not positive");
  }
}

/// A buffer takes part in planning when it is live for at least one step and
/// has bytes; all others get offset 0.
bool occupiesSpace(const PlanBuffer& b) { return b.size > 0 && b.lower < b.upper; }

/// Best placement found so far, and what is known about optimality.
struct Incumbent {
  bool found = false;
  std::vector<int64_t> offsets;
  int64_t arena = 0;
  int64_t provedInfeasibleUpTo = -1;  ///< no placement fits in this many bytes
  int64_t nodes = 0;
};

void takeIfBetter(const Problem& p, const SearchOutcome& out, Incumbent& best) {
  if (out.status != SearchOutcome::Status::Found)
    return;
  int64_t arena = planner::arenaOf(p, out.offsets);
  if (!best.found || arena < best.arena) {
    best.found = true;
    best.arena = arena;
    best.offsets = out.offsets;
  }
}

/// Spends up to `budget` search nodes improving `best`: first a placement
/// within the capacity if the heuristics missed it, then the lower bound
/// itself, then a bisection between the bound and the best arena so far.
void improveBySearch(const Problem& p, int64_t capacity, int64_t budget, Incumbent& best) {
  int64_t spent = 0;
  auto attempt = [&](int64_t cap, int64_t nodes) {
    SearchOutcome out = planner::searchWithinCapacity(p, cap, nodes);
    spent += out.nodes;
    best.nodes += out.nodes;
    if (out.status == SearchOutcome::Status::Infeasible)
      best.provedInfeasibleUpTo = std::max(best.provedInfeasibleUpTo, cap);
    takeIfBetter(p, out, best);
    return out.status;
  };
  bool fits = best.found && best.arena <= capacity;
  if (!fits && capacity > p.bound &&
      attempt(capacity, budget / 2) == SearchOutcome::Status::Infeasible)
    return;
  int64_t left = budget - spent;
  int64_t boundBudget = std::max<int64_t>(left * 3 / 4, std::min<int64_t>(left, 1000));
  if (attempt(p.bound, boundBudget) == SearchOutcome::Status::Found || p.bound == INT64_MAX)
    return;
  int64_t lo = p.bound + 1;  // smallest capacity not yet tried
  while (spent < budget) {
    int64_t hi = best.found ? std::min(best.arena - 1, capacity) : capacity;
    if (lo > hi)
      return;
    int64_t mid = lo + (hi - lo) / 2;
    left = budget - spent;
    attempt(mid, std::max(left / 3, std::min<int64_t>(left, 2000)));
    if (!best.found || best.arena > mid)
      lo = mid + 1;
  }
}

void writeOffsets(std::vector<PlanBuffer>& buffers, const Problem& p,
                  const std::vector<int64_t>& offsets) {
  for (PlanBuffer& b : buffers)
    b.offset = 0;
  for (int i = 0; i < p.n; ++i)
    buffers[p.source[i]].offset = offsets[i];
}

}  // namespace

int64_t planLowerBound(const std::vector<PlanBuffer>& buffers) {
  validateBuffers(buffers);
  // Sweep over start/end events; ends sort before starts at the same step
  // because intervals are half-open.
  std::vector<std::pair<int64_t, int64_t>> events;
  for (const PlanBuffer& b : buffers) {
    if (!occupiesSpace(b))
      continue;
    events.push_back({b.lower, b.size});
    events.push_back({b.upper, -b.size});
  }
  std::sort(events.begin(), events.end());
  __int128 live = 0, peak = 0;
  for (const auto& event : events) {
    live += event.second;
    peak = std::max(peak, live);
  }
  return peak > INT64_MAX ? INT64_MAX : int64_t(peak);
}

PlanResult planBuffers(std::vector<PlanBuffer>& buffers, const PlanOptions& options) {
  validateBuffers(buffers);
  if (options.capacity < 0)
    throw std::invalid_argument("capacity " + std::to_string(options.capacity) + " is negative");
  PlanResult result;
  result.lowerBound = planLowerBound(buffers);
  std::vector<int> active;
  for (size_t i = 0; i < buffers.size(); ++i)
    if (occupiesSpace(buffers[i]))
      active.push_back(int(i));
  for (PlanBuffer& b : buffers)
    b.offset = -1;
  Problem p = planner::buildProblem(buffers, active, int(active.size()) <= kMaxSearchBuffers);
  if (p.overflow)  // more bytes live at once than int64 offsets can address
    return result;
  Incumbent best;
  best.arena = planner::bestGreedyPlacement(p, best.offsets);
  best.found = int(best.offsets.size()) == p.n;
  int64_t budget = std::max<int64_t>(options.searchBudget, 0);
  bool searchable = p.n <= kMaxSearchBuffers && budget > 0 && p.bound <= options.capacity;
  if ((!best.found || best.arena > p.bound) && searchable)
    improveBySearch(p, options.capacity, budget, best);
  result.searchNodes = best.nodes;
  result.arenaBytes = best.found ? best.arena : 0;
  if (!best.found || best.arena > options.capacity)
    return result;
  writeOffsets(buffers, p, best.offsets);
  result.ok = true;
  result.provedOptimal = best.arena == p.bound || best.provedInfeasibleUpTo >= best.arena - 1;
  return result;
}

}  // namespace odlc
