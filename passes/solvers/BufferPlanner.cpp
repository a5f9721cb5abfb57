#include "solvers/BufferPlanner.h"

#include <algorithm>
#include <atomic>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "solvers/CanonicalSearch.h"
#include "solvers/GreedyPlacer.h"
#include "solvers/PlanProblem.h"

namespace odlc {

namespace {

using planner::Problem;
using planner::SearchOutcome;

/// Above this many buffers only the greedy heuristics run (the exact search
/// recurses once per placed buffer).
constexpr int kMaxSearchBuffers = 3000;
/// Neighbour lists (8 bytes a pair) are built up to this many pairs of buffers
/// live together: 80 MB. Every problem the exact search takes stays below it.
constexpr int64_t kMaxNeighborPairs = 10'000'000;
static_assert(int64_t(kMaxSearchBuffers) * kMaxSearchBuffers <= kMaxNeighborPairs);

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

/// Most capacities the downward sweep tries; the step widens beyond this.
constexpr int64_t kMaxSweepCaps = 64;
/// A worker's sweep budget is split into this many attempts: about 12K nodes
/// each at the default budget, enough for the second round of restarts,
/// where most successes on the MiniMalloc instances happen.
constexpr int64_t kSweepAttempts = 18;

/// Every canonical placement has offsets (hence an arena) that are multiples
/// of the gcd of all sizes and of the alignments above 1 (an alignment of 1
/// constrains nothing): capacities between multiples add nothing.
int64_t placementGrain(const Problem& p) {
  int64_t g = 0;
  for (int i = 0; i < p.n; ++i)
    g = std::gcd(std::gcd(g, p.size[i]), p.align[i] > 1 ? p.align[i] : 0);
  return std::max<int64_t>(g, 1);
}

/// One worker's share of the search; only its own results feed its decisions,
/// so its outcome does not depend on thread timing.
struct Worker {
  Incumbent best;
  int64_t spent = 0;
  std::vector<int64_t>* conflicts = nullptr;  ///< set while it searches with a learned order
  const std::atomic<bool>* stop = nullptr;     ///< set when its searches may be cut short
};

/// Runs one decision search and records its outcome in `w`.
SearchOutcome::Status attempt(const Problem& p, int64_t cap, int64_t nodes, Worker& w) {
  SearchOutcome out = planner::searchWithinCapacity(p, cap, nodes, w.conflicts, w.stop);
  w.spent += out.nodes;
  w.best.nodes += out.nodes;
  if (out.status == SearchOutcome::Status::Infeasible)
    w.best.provedInfeasibleUpTo = std::max(w.best.provedInfeasibleUpTo, cap);
  takeIfBetter(p, out, w.best);
  return out.status;
}

/// Tries capacities start, start - step, ... (every `stride`-th from index
/// `first`) down to just above the bound, each with a small node budget. The
/// search is erratic in the capacity (a tighter one can succeed where a looser
/// one stalls), so many cheap attempts beat a few long ones.
void sweep(const Problem& p, int64_t start, int64_t step, int first, int stride, int64_t budget,
           const std::atomic<bool>& stop, Worker& w) {
  const int64_t perAttempt = std::max<int64_t>(budget / kSweepAttempts, 1000);
  for (int64_t i = first;; i += stride) {
    int64_t cap = start - i * step;
    if (cap <= p.bound || w.spent >= budget || stop.load())
      return;
    if (w.best.found && cap >= w.best.arena)
      continue;
    if (attempt(p, cap, std::min(perAttempt, budget - w.spent), w) ==
        SearchOutcome::Status::Infeasible)
      return;  // every smaller capacity is infeasible too
  }
}

/// Spends up to `budget` search nodes per core improving `best`: first a
/// placement within the capacity if the heuristics missed it, then one core
/// searches at the bound with the fixed branching orders and the other with a
/// learned order (each solves instances on which the other stalls), and both
/// go on to sweep capacities downwards from the best arena, interleaved.
/// Results combine deterministically: the first core's bound attempt always
/// runs to completion and wins if it succeeds, then the second's; otherwise
/// the smaller arena wins, the first core on ties. The bound stops the sweeps.
void improveBySearch(const Problem& p, int64_t capacity, int64_t budget, Incumbent& best) {
  Worker first;
  first.best = best;
  bool fits = best.found && best.arena <= capacity;
  // A short try: when it stalls, the sweep below often succeeds much sooner.
  if (!fits && capacity > p.bound &&
      attempt(p, capacity, budget / 8, first) == SearchOutcome::Status::Infeasible) {
    best = first.best;
    return;
  }
  // Sweep from just below the best arena, or from the capacity if none fits.
  const int64_t grain = placementGrain(p);
  bool within = first.best.found && first.best.arena <= capacity;
  int64_t start = within ? first.best.arena - 1 : capacity;
  start -= start % grain;
  const int64_t span = std::max<int64_t>((start - p.bound) / grain, 1);
  const int64_t step = grain * ((span + kMaxSweepCaps - 1) / kMaxSweepCaps);
  std::vector<int64_t> conflicts;
  std::atomic<bool> boundFound{false}, firstAtBound{false};
  Worker second;
  second.best = first.best;
  second.best.nodes = 0;
  second.stop = &firstAtBound;  // once the first core is at the bound nothing else matters
  const int64_t workerBudget = budget * 3 / 4;  // keeps the wall time near one budget
  const int64_t left = workerBudget - first.spent;
  bool secondAtBound = false;
  std::thread helper([&] {
    second.conflicts = &conflicts;
    secondAtBound = attempt(p, p.bound, std::max<int64_t>(left / 3, 1000), second) ==
                    SearchOutcome::Status::Found;
    if (secondAtBound)
      boundFound = true;
    second.conflicts = nullptr;
    sweep(p, start, step, 1, 2, workerBudget, boundFound, second);
  });
  if (attempt(p, p.bound, std::max<int64_t>(left / 4, 1000), first) ==
      SearchOutcome::Status::Found) {
    firstAtBound = true;
    boundFound = true;
  }
  // The first core's sweep may be cut short at any point once the second core
  // is at the bound; what came before it is deterministic.
  const Incumbent beforeSweep = first.best;
  sweep(p, start, step, 0, 2, workerBudget, boundFound, first);
  helper.join();
  best = secondAtBound && !firstAtBound ? beforeSweep : first.best;
  if (firstAtBound)
    return;
  best.nodes += second.best.nodes;
  best.provedInfeasibleUpTo = std::max(best.provedInfeasibleUpTo, second.best.provedInfeasibleUpTo);
  if (secondAtBound || (second.best.found && (!best.found || second.best.arena < best.arena))) {
    best.found = true;
    best.arena = second.best.arena;
    best.offsets = second.best.offsets;
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

LivePeak livePeak(const std::vector<PlanBuffer>& buffers) {
  validateBuffers(buffers);
  // Sweep over start/end events; a step's bytes count once all its events are in
  // (intervals are half-open, so a buffer ending at t and one starting at t do not meet).
  std::vector<std::pair<int64_t, int64_t>> events;
  for (const PlanBuffer& b : buffers) {
    if (!occupiesSpace(b))
      continue;
    events.push_back({b.lower, b.size});
    events.push_back({b.upper, -b.size});
  }
  std::sort(events.begin(), events.end());
  __int128 live = 0, peak = 0;
  LivePeak result;
  for (size_t i = 0; i < events.size(); ++i) {
    live += events[i].second;
    if (i + 1 < events.size() && events[i + 1].first == events[i].first)
      continue;
    if (live > peak) {
      peak = live;
      result.firstStep = result.lastStep = events[i].first;
    } else if (live == peak && peak > 0) {
      result.lastStep = events[i].first;
    }
  }
  result.bytes = peak > INT64_MAX ? INT64_MAX : int64_t(peak);
  return result;
}

int64_t planLowerBound(const std::vector<PlanBuffer>& buffers) {
  return livePeak(buffers).bytes;
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
  Problem p = planner::buildProblem(buffers, active, kMaxNeighborPairs);
  if (p.overflow)  // more bytes live at once than int64 offsets can address
    return result;
  Incumbent best;
  best.arena = planner::bestGreedyPlacement(p, best.offsets);
  best.found = int(best.offsets.size()) == p.n;
  int64_t budget = std::max<int64_t>(options.searchBudget, 0);
  bool searchable = p.n <= kMaxSearchBuffers && planner::hasNeighbors(p) && budget > 0 &&
                    p.bound <= options.capacity;
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
