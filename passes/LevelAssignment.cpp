#include "LevelAssignment.h"

#include "ir/OpTable.h"

#include <algorithm>

namespace odlc {

namespace {

constexpr int64_t kProbeBudget = 2000; ///< search nodes per fit check: greedy is enough here

/// Every tensor sharing root's buffer (the root and its aliases).
bool sharesBuffer(const Graph &g, TensorId t, TensorId root) {
  if (t == root)
    return true;
  const Tensor &tensor = g.tensor(t);
  return tensor.attrs.getString("alias", "") == g.tensor(root).name;
}

bool fits(std::vector<PlanBuffer> buffers, int64_t capacity) {
  if (planLowerBound(buffers) > capacity)
    return false;
  PlanOptions options;
  options.capacity = capacity;
  options.searchBudget = kProbeBudget;
  return planBuffers(buffers, options).ok;
}

/// Indices of the buffers that fit `capacity` and are not in `except`, most accesses per
/// byte first.
std::vector<size_t> hottestFirst(const Graph &g, const std::vector<PlanBuffer> &buffers,
                                 int64_t capacity, const std::set<int64_t> &except) {
  std::vector<std::pair<double, size_t>> heat;
  for (size_t i = 0; i < buffers.size(); ++i)
    if (buffers[i].size <= capacity && !except.count(buffers[i].id))
      heat.push_back({accessesPerByte(g, TensorId(buffers[i].id)), i});
  std::stable_sort(heat.begin(), heat.end(),
                   [](const auto &a, const auto &b) { return a.first > b.first; });
  std::vector<size_t> order;
  for (const auto &[h, i] : heat)
    order.push_back(i);
  return order;
}

/// The buffers whose ids are (or, with `inside` false, are not) in `ids`.
std::vector<PlanBuffer> select(const std::vector<PlanBuffer> &buffers,
                               const std::set<int64_t> &ids, bool inside) {
  std::vector<PlanBuffer> result;
  for (const PlanBuffer &b : buffers)
    if (bool(ids.count(b.id)) == inside)
      result.push_back(b);
  return result;
}

/// Both levels' arenas when the buffers in `fast` go to the fast level.
int64_t splitArena(const std::vector<PlanBuffer> &buffers, const std::set<int64_t> &fast) {
  std::vector<PlanBuffer> slow = select(buffers, fast, false), quick = select(buffers, fast, true);
  return planBuffers(slow).arenaBytes + planBuffers(quick).arenaBytes;
}

/// Moves buffers live at every peak step of the main level to the fast level while that lowers
/// the main level's bound without raising the two bounds' sum; hottest candidates first.
std::set<int64_t> shavePeak(const Graph &g, const std::vector<PlanBuffer> &buffers,
                            int64_t capacity) {
  std::vector<size_t> order = hottestFirst(g, buffers, capacity, {});
  std::set<int64_t> ids;
  std::vector<PlanBuffer> fast;
  for (bool moved = true; moved;) {
    moved = false;
    std::vector<PlanBuffer> slow = select(buffers, ids, false);
    LivePeak peak = livePeak(slow);
    int64_t slowBound = peak.bytes, fastBound = planLowerBound(fast);
    for (size_t i : order) {
      const PlanBuffer &b = buffers[i];
      if (ids.count(b.id) || b.lower > peak.firstStep || b.upper <= peak.lastStep)
        continue; // not live at every peak step: the peak would stay
      fast.push_back(b);
      int64_t restBound = planLowerBound(select(slow, {b.id}, false));
      if (restBound < slowBound && restBound + planLowerBound(fast) <= slowBound + fastBound &&
          fits(fast, capacity)) {
        ids.insert(b.id);
        moved = true;
        break;
      }
      fast.pop_back();
    }
  }
  return ids;
}

/// Adds buffers to `ids`, hottest first, while the fast level's buffers plan within
/// `capacity` and, with an `arenaBudget` (0: none), both levels' bounds fit it together.
std::set<int64_t> addHottest(const Graph &g, const std::vector<PlanBuffer> &buffers,
                             int64_t capacity, std::set<int64_t> ids, int64_t arenaBudget) {
  std::vector<PlanBuffer> fast = select(buffers, ids, true);
  for (size_t i : hottestFirst(g, buffers, capacity, ids)) {
    fast.push_back(buffers[i]);
    ids.insert(buffers[i].id);
    bool withinBudget = arenaBudget <= 0 || planLowerBound(select(buffers, ids, false)) +
                                                    planLowerBound(fast) <=
                                                arenaBudget;
    if (!withinBudget || !fits(fast, capacity)) {
      fast.pop_back();
      ids.erase(buffers[i].id);
    }
  }
  return ids;
}

} // namespace

double accessesPerByte(const Graph &g, TensorId root) {
  double accesses = 0;
  for (const Node &n : g.nodes) {
    if (n.dead)
      continue;
    double macs = double(opInfo(n.op).macs(g, n));
    for (TensorId in : n.inputs)
      if (in != kNoTensor && sharesBuffer(g, in, root))
        accesses += std::max(macs, double(g.tensor(in).elements()));
    for (TensorId out : n.outputs)
      if (sharesBuffer(g, out, root))
        accesses += double(g.tensor(out).elements());
  }
  return accesses / double(std::max<int64_t>(1, g.tensor(root).bytes()));
}

std::set<int64_t> chooseFastBuffers(const Graph &g, const std::vector<PlanBuffer> &buffers,
                                    int64_t capacity) {
  return addHottest(g, buffers, capacity, {}, 0);
}

FastChoice chooseFastLevel(const Graph &g, const std::vector<PlanBuffer> &buffers,
                           int64_t capacity, int64_t arenaBudget) {
  FastChoice hottest{chooseFastBuffers(g, buffers, capacity), "hottest"};
  if (arenaBudget <= 0)
    return hottest;
  int64_t hottestArena = splitArena(buffers, hottest.ids);
  if (hottestArena <= arenaBudget)
    return hottest;
  // The peak's buffers first, then the hottest others the budget leaves room for; failing
  // that, the peak's alone; failing that, nothing.
  std::set<int64_t> shaved = shavePeak(g, buffers, capacity);
  std::set<int64_t> filled = addHottest(g, buffers, capacity, shaved, arenaBudget);
  std::vector<FastChoice> options;
  if (!filled.empty())
    options.push_back({filled, shaved.empty() ? "fill" : "peak"});
  if (!shaved.empty() && shaved != filled)
    options.push_back({shaved, "peak"});
  options.push_back({{}, "none"});
  FastChoice best = hottest;
  int64_t bestArena = hottestArena;
  for (const FastChoice &option : options) {
    int64_t arena = splitArena(buffers, option.ids);
    if (arena <= arenaBudget)
      return option;
    if (arena < bestArena) {
      best = option;
      bestArena = arena;
    }
  }
  return best;
}

} // namespace odlc
