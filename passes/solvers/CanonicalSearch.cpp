#include "solvers/CanonicalSearch.h"

#include <algorithm>
#include <string>
#include <utility>

namespace odlc::planner {

namespace {

/// SplitMix64 finaliser: a cheap, well-mixing 64-bit hash.
uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// Lossy fixed-size set of 64-bit keys of search states proved to fail.
/// A newer key may evict an older one; a lookup never reports a key that was
/// not inserted (up to 64-bit hash collisions).
class FailedStates {
public:
  explicit FailedStates(int log2Slots)
      : slots_(size_t(1) << log2Slots, 0), mask_((uint64_t(1) << log2Slots) - 1) {}
  bool contains(uint64_t key) const { return slots_[key & mask_] == key; }
  void insert(uint64_t key) { slots_[key & mask_] = key; }

private:
  std::vector<uint64_t> slots_;
  uint64_t mask_;
};

enum class Result { Fail, Found, Abort, Cut };

/// Node limit of every restart of a learning search.
constexpr int64_t kLearningRestart = 1000;

/// A contiguous range of sections whose unplaced buffers are solved together,
/// with those buffers in branching order.
struct Window {
  int a = 0, b = 0;
  std::vector<int> buffers;
};

/// A component set aside by a decomposition, solved after the current one.
struct Pending {
  int a, b;
  int64_t level, levelId, owner;
};

/// One depth-first search with one branching heuristic and a node limit.
class SearchRun {
public:
  SearchRun(const Problem& p, int64_t capacity, std::string heuristic, FailedStates& failed,
            std::vector<int64_t>* conflicts, int64_t budget)
      : p_(p), cap_(capacity), heuristic_(std::move(heuristic)), failed_(failed),
        conflicts_(conflicts), budget_(budget) {}

  /// Runs the search: Found, Fail (proved infeasible) or Abort (limit reached).
  Result run();
  int64_t nodes() const { return nodes_; }
  const std::vector<int64_t>& solution() const { return solution_; }

private:
  void initState();
  void set(int64_t& ref, int64_t value) {
    trail_.push_back({&ref, ref});
    ref = value;
  }
  void undo(size_t mark) {
    while (trail_.size() > mark) {
      *trail_.back().first = trail_.back().second;
      trail_.pop_back();
    }
  }
  bool isCandidate(int b, int64_t level, int64_t levelId) const {
    return !placed_[b] && minOff_[b] == level && excluded_[b] != levelId;
  }
  /// Lowest offset buffer b can still take, given the current level.
  int64_t effectiveMin(int b, int64_t level, int64_t levelId) const {
    if (minOff_[b] > level)
      return minOff_[b];
    if (minOff_[b] == level && excluded_[b] != levelId)
      return level;
    // Skipped at or below this level: must rest on a buffer placed at >= level.
    return addSat(level, p_.minSize);
  }
  /// Whether unplaced neighbour q prevents forcing buffer b to the current
  /// level: q's lifetime is not inside b's, or they are equal and q comes first
  /// (the tie-break keeps the forcing argument well-founded).
  bool blocksForcing(int q, int b) const {
    if (p_.lo[q] < p_.lo[b] || p_.hi[q] > p_.hi[b])
      return true;
    return p_.lo[q] == p_.lo[b] && p_.hi[q] == p_.hi[b] && q < b;
  }
  bool checkSection(int s, int64_t level, int64_t levelId) const;
  /// Section s failed: its unplaced buffers should be branched on earlier.
  void blame(int s) const;
  bool checkWindow(int64_t level, int64_t levelId) const;
  bool dominated(int64_t level) const;
  int64_t nextLevel(int64_t level) const;
  uint64_t stateKey(int64_t level) const;
  void markDirty(int s);
  bool place(int b, int64_t level, int64_t levelId, bool& cut);
  /// Recomputes blockMax_ for the blocks covering sections [lo, hi).
  void refreshBlocks(int lo, int hi);
  /// Marks dirty the sections of q's lifetime with more than `threshold` bytes left.
  void markCrowdedSections(int q, int64_t threshold);
  void unplace(int b);
  bool exclude(int b, int64_t level, int64_t levelId);
  std::vector<std::pair<int, int>> components() const;
  std::vector<int> windowBuffers(int a, int b) const;
  void rankBuffers(std::vector<int>& buffers) const;
  Result enterWindow(int a, int b, int64_t level, int64_t levelId, bool fresh);
  Result levelLoop(int64_t level, int64_t levelId, const std::vector<int>* candidates, size_t pos,
                   bool fresh);
  Result decompose(const std::vector<std::pair<int, int>>& comps, int64_t level,
                   int64_t levelId);
  Result finishWindow();

  const Problem& p_;
  const int64_t cap_;
  const std::string heuristic_;
  FailedStates& failed_;
  std::vector<int64_t>* const conflicts_;  ///< per buffer, or null when not learning
  const int64_t budget_;
  int64_t nodes_ = 0;

  // Search state. Changes go through set() (undone by undo()), except the
  // counters that place() updates and unplace() reverts arithmetically.
  std::vector<int64_t> offset_, placed_, minOff_, excluded_, notContained_;
  std::vector<int64_t> remaining_, cross_;
  static constexpr int kBlock = 16;
  std::vector<int64_t> blockMax_;  ///< max of remaining_ over each block of kBlock sections
  int64_t windowUnplaced_ = 0;
  std::vector<std::pair<int64_t*, int64_t>> trail_;

  std::vector<char> forceOk_;
  std::vector<int64_t> crowd0_;  ///< largest initial section total over each lifetime
  std::vector<int> dirtyStamp_;
  std::vector<int> dirty_;
  int stamp_ = 0;
  std::vector<Window> windows_;
  std::vector<Pending> pending_;
  int64_t levelIds_ = 0, owners_ = 0, cutOwner_ = 0;
  std::vector<int64_t> solution_;
};

void SearchRun::initState() {
  int n = p_.n, m = p_.m;
  offset_.assign(n, -1);
  placed_.assign(n, 0);
  minOff_.assign(n, 0);
  excluded_.assign(n, -1);
  notContained_.assign(n, 0);
  forceOk_.assign(n, 1);
  crowd0_.assign(n, 0);
  trail_.reserve(size_t(16) * n + 1024);
  remaining_ = p_.sectionTotal;
  blockMax_.assign(m / kBlock + 1, 0);
  if (m > 0)
    refreshBlocks(0, m);
  cross_.assign(m, 0);
  dirtyStamp_.assign(m, 0);
  for (int b = 0; b < n; ++b) {
    for (int s = p_.lo[b]; s < p_.hi[b]; ++s)
      crowd0_[b] = std::max(crowd0_[b], p_.sectionTotal[s]);
    for (int s = p_.lo[b]; s + 1 < p_.hi[b]; ++s)
      ++cross_[s];
    for (int q : p_.neighbors[b]) {
      if (blocksForcing(q, b))
        ++notContained_[b];
      if (p_.size[b] % p_.align[q] != 0)
        forceOk_[b] = 0;
    }
  }
}

bool SearchRun::checkSection(int s, int64_t level, int64_t levelId) const {
  int64_t rem = remaining_[s];
  if (rem == 0)
    return true;
  if (rem > cap_)
    return false;
  int64_t limit = cap_ - rem;  // the lowest unplaced buffer must start at or below this
  for (int b : p_.sectionBuffers[s])
    if (!placed_[b] && effectiveMin(b, level, levelId) <= limit)
      return true;
  return false;
}

void SearchRun::blame(int s) const {
  if (conflicts_)
    for (int b : p_.sectionBuffers[s])
      if (!placed_[b])
        ++(*conflicts_)[b];
}

bool SearchRun::checkWindow(int64_t level, int64_t levelId) const {
  const Window& w = windows_.back();
  for (int s = w.a; s < w.b; ++s)
    if (!checkSection(s, level, levelId)) {
      blame(s);
      return false;
    }
  return true;
}

bool SearchRun::dominated(int64_t level) const {
  // A buffer skipped below `level` that fits entirely under it could have been
  // placed there: the gap stays empty forever, so this branch is redundant.
  for (int b : windows_.back().buffers)
    if (!placed_[b] && minOff_[b] < level && p_.size[b] <= level - minOff_[b])
      return true;
  return false;
}

int64_t SearchRun::nextLevel(int64_t level) const {
  int64_t next = -1;
  for (int b : windows_.back().buffers)
    if (!placed_[b] && minOff_[b] > level && (next < 0 || minOff_[b] < next))
      next = minOff_[b];
  return next;
}

uint64_t SearchRun::stateKey(int64_t level) const {
  // At the start of a level nothing is excluded, and the future depends only
  // on which buffers are left and their minimum offsets.
  const Window& w = windows_.back();
  uint64_t key = mix64((uint64_t(w.a) << 32) ^ uint64_t(w.b)) ^ mix64(uint64_t(level) + 0x51ed27);
  for (int b : w.buffers)
    if (!placed_[b])
      key ^= mix64(mix64(uint64_t(b) + 0x7f4a7c15) ^ uint64_t(minOff_[b]));
  return key | 1;
}

void SearchRun::markDirty(int s) {
  if (dirtyStamp_[s] == stamp_)
    return;
  dirtyStamp_[s] = stamp_;
  dirty_.push_back(s);
}

bool SearchRun::place(int b, int64_t level, int64_t levelId, bool& cut) {
  // Counters are restored by unplace(), everything else through the trail.
  offset_[b] = level;
  placed_[b] = 1;
  --windowUnplaced_;
  for (int s = p_.lo[b]; s < p_.hi[b]; ++s)
    remaining_[s] -= p_.size[b];
  refreshBlocks(p_.lo[b], p_.hi[b]);
  for (int s = p_.lo[b]; s + 1 < p_.hi[b]; ++s)
    cut = --cross_[s] == 0 || cut;
  ++stamp_;
  dirty_.clear();
  for (int s = p_.lo[b]; s < p_.hi[b]; ++s)
    markDirty(s);
  for (int q : p_.neighbors[b])
    if (!placed_[q] && blocksForcing(b, q))
      --notContained_[q];
  const int64_t top = level + p_.size[b];
  for (int q : p_.neighbors[b]) {
    if (placed_[q] || minOff_[q] >= top)
      continue;
    int64_t raised = alignUpWithin(top, p_.align[q], cap_ - p_.size[q]);
    if (raised < 0)
      return false;
    set(minOff_[q], raised);
    // Sections where q still fits low enough keep q as a witness and stay
    // feasible; remaining bytes never exceed the initial section totals.
    if (raised <= cap_ - crowd0_[q])
      continue;
    markCrowdedSections(q, cap_ - raised);
  }
  for (int s : dirty_)
    if (!checkSection(s, level, levelId)) {
      blame(s);
      return false;
    }
  return true;
}

void SearchRun::refreshBlocks(int lo, int hi) {
  for (int k = lo / kBlock; k <= (hi - 1) / kBlock; ++k) {
    int64_t best = 0;
    for (int s = k * kBlock; s < std::min(p_.m, (k + 1) * kBlock); ++s)
      best = std::max(best, remaining_[s]);
    blockMax_[k] = best;
  }
}

void SearchRun::markCrowdedSections(int q, int64_t threshold) {
  int s = p_.lo[q];
  while (s < p_.hi[q]) {
    int k = s / kBlock;
    int end = std::min(p_.hi[q], (k + 1) * kBlock);
    if (blockMax_[k] > threshold)
      for (int t = s; t < end; ++t)
        if (remaining_[t] > threshold)
          markDirty(t);
    s = end;
  }
}

void SearchRun::unplace(int b) {
  offset_[b] = -1;
  placed_[b] = 0;
  for (int q : p_.neighbors[b])
    if (!placed_[q] && blocksForcing(b, q))
      ++notContained_[q];
  ++windowUnplaced_;
  for (int s = p_.lo[b]; s < p_.hi[b]; ++s)
    remaining_[s] += p_.size[b];
  for (int s = p_.lo[b]; s + 1 < p_.hi[b]; ++s)
    ++cross_[s];
  refreshBlocks(p_.lo[b], p_.hi[b]);
}

bool SearchRun::exclude(int b, int64_t level, int64_t levelId) {
  set(excluded_[b], levelId);
  const int64_t raised = addSat(level, p_.minSize);
  for (int s = p_.lo[b]; s < p_.hi[b]; ++s)
    if (raised > cap_ - remaining_[s] && !checkSection(s, level, levelId)) {
      blame(s);
      return false;
    }
  return true;
}

std::vector<std::pair<int, int>> SearchRun::components() const {
  const Window& w = windows_.back();
  std::vector<std::pair<int, int>> comps;
  int start = -1;
  for (int s = w.a; s < w.b; ++s) {
    if (start < 0 && remaining_[s] > 0)
      start = s;
    if (start >= 0 && (s + 1 == w.b || cross_[s] == 0)) {
      comps.push_back({start, s + 1});
      start = -1;
    }
  }
  return comps;
}

std::vector<int> SearchRun::windowBuffers(int a, int b) const {
  std::vector<int> result;
  for (int x = 0; x < p_.n; ++x)
    if (!placed_[x] && p_.lo[x] >= a && p_.hi[x] <= b)
      result.push_back(x);
  return result;
}

void SearchRun::rankBuffers(std::vector<int>& buffers) const {
  // T: most crowded remaining section of the lifetime; W: lifetime length;
  // A: area (lifetime x size); C: sections spanned; Z: size; F: failures
  // blamed on the buffer so far. All descending.
  std::vector<int64_t> crowd(p_.n, 0);
  for (int b : buffers)
    for (int s = p_.lo[b]; s < p_.hi[b]; ++s)
      crowd[b] = std::max(crowd[b], remaining_[s]);
  auto area = [&](int b) { return (unsigned __int128)p_.width[b] * (unsigned __int128)p_.size[b]; };
  auto before = [&](int x, int y) {
    for (char c : heuristic_) {
      switch (c) {
      case 'T':
        if (crowd[x] != crowd[y])
          return crowd[x] > crowd[y];
        break;
      case 'W':
        if (p_.width[x] != p_.width[y])
          return p_.width[x] > p_.width[y];
        break;
      case 'A':
        if (area(x) != area(y))
          return area(x) > area(y);
        break;
      case 'F':
        if ((*conflicts_)[x] != (*conflicts_)[y])
          return (*conflicts_)[x] > (*conflicts_)[y];
        break;
      case 'C':
        if (p_.hi[x] - p_.lo[x] != p_.hi[y] - p_.lo[y])
          return p_.hi[x] - p_.lo[x] > p_.hi[y] - p_.lo[y];
        break;
      default:
        if (p_.size[x] != p_.size[y])
          return p_.size[x] > p_.size[y];
        break;
      }
    }
    return x < y;
  };
  std::sort(buffers.begin(), buffers.end(), before);
}

Result SearchRun::enterWindow(int a, int b, int64_t level, int64_t levelId, bool fresh) {
  Window w;
  w.a = a;
  w.b = b;
  w.buffers = windowBuffers(a, b);
  rankBuffers(w.buffers);
  size_t mark = trail_.size();
  set(windowUnplaced_, int64_t(w.buffers.size()));
  windows_.push_back(std::move(w));
  Result r = levelLoop(level, levelId, nullptr, 0, fresh);
  windows_.pop_back();
  undo(mark);
  return r;
}

Result SearchRun::decompose(const std::vector<std::pair<int, int>>& comps, int64_t level,
                            int64_t levelId) {
  int64_t owner = ++owners_;
  size_t mark = pending_.size();
  for (size_t k = comps.size() - 1; k >= 1; --k)
    pending_.push_back({comps[k].first, comps[k].second, level, levelId, owner});
  Result r = enterWindow(comps[0].first, comps[0].second, level, levelId, false);
  pending_.resize(mark);
  // A later component failed: no other choice in the earlier ones can help.
  if (r == Result::Cut && cutOwner_ == owner)
    r = Result::Fail;
  return r;
}

Result SearchRun::finishWindow() {
  if (pending_.empty()) {
    solution_ = offset_;
    return Result::Found;
  }
  Pending next = pending_.back();
  pending_.pop_back();
  Result r = enterWindow(next.a, next.b, next.level, next.levelId, false);
  if (r == Result::Fail) {
    r = Result::Cut;
    cutOwner_ = next.owner;
  }
  pending_.push_back(next);
  return r;
}

Result SearchRun::levelLoop(int64_t level, int64_t levelId, const std::vector<int>* candidates,
                            size_t pos, bool fresh) {
  const size_t mark = trail_.size();
  std::vector<int> ownCandidates;
  std::vector<uint64_t> keys;
  Result result = Result::Fail;
  while (true) {
    if (nodes_ >= budget_) {
      result = Result::Abort;
      break;
    }
    ++nodes_;
    if (windowUnplaced_ == 0) {
      result = finishWindow();
      break;
    }
    if (fresh) {
      fresh = false;
      if (!checkWindow(level, levelId) || dominated(level))
        break;
      uint64_t key = stateKey(level);
      if (failed_.contains(key))
        break;
      keys.push_back(key);
    }
    if (!candidates) {
      ownCandidates.clear();
      for (int b : windows_.back().buffers)
        if (isCandidate(b, level, levelId))
          ownCandidates.push_back(b);
      candidates = &ownCandidates;
      pos = 0;
    }
    const std::vector<int>& cands = *candidates;
    while (pos < cands.size() && !isCandidate(cands[pos], level, levelId))
      ++pos;
    if (pos == cands.size()) {
      level = nextLevel(level);
      if (level < 0)
        break;
      levelId = ++levelIds_;
      candidates = nullptr;
      fresh = true;
      continue;
    }
    // A candidate whose unplaced neighbours all live within its lifetime can
    // always be moved to the bottom: place it without branching.
    int pick = cands[pos];
    bool forced = false;
    for (size_t i = pos; i < cands.size(); ++i) {
      int b = cands[i];
      if (notContained_[b] == 0 && forceOk_[b] && isCandidate(b, level, levelId)) {
        pick = b;
        forced = true;
        break;
      }
    }
    size_t before = trail_.size();
    bool cut = false;
    Result r = Result::Fail;
    if (place(pick, level, levelId, cut)) {
      std::vector<std::pair<int, int>> comps;
      if (cut)
        comps = components();
      r = comps.size() >= 2 ? decompose(comps, level, levelId)
                            : levelLoop(level, levelId, candidates, pos, false);
    }
    undo(before);
    unplace(pick);
    if (r != Result::Fail) {
      result = r;
      break;
    }
    if (forced || !exclude(pick, level, levelId))
      break;
  }
  undo(mark);
  if (result == Result::Fail)
    for (uint64_t key : keys)
      failed_.insert(key);
  return result;
}

Result SearchRun::run() {
  initState();
  for (int b = 0; b < p_.n; ++b)
    if (p_.size[b] > cap_)
      return Result::Fail;
  Window root;
  root.a = 0;
  root.b = p_.m;
  root.buffers = windowBuffers(0, p_.m);
  rankBuffers(root.buffers);
  windowUnplaced_ = int64_t(root.buffers.size());
  windows_.push_back(std::move(root));
  int64_t levelId = ++levelIds_;
  if (!checkWindow(0, levelId))
    return Result::Fail;
  std::vector<std::pair<int, int>> comps = components();
  if (comps.size() >= 2)
    return decompose(comps, 0, levelId);
  return levelLoop(0, levelId, nullptr, 0, true);
}

}  // namespace

SearchOutcome searchWithinCapacity(const Problem& problem, int64_t capacity, int64_t nodeBudget,
                                   std::vector<int64_t>* conflicts, const std::atomic<bool>* stop) {
  SearchOutcome outcome;
  // Learning restarts stay short: the order, not the depth of the search,
  // is what improves from one restart to the next.
  const std::vector<std::string> heuristics =
      conflicts ? std::vector<std::string>{"FATW"} : std::vector<std::string>{"TWA", "TCA", "TAW"};
  if (conflicts)
    conflicts->resize(size_t(problem.n), 0);
  FailedStates failed(problem.n <= 64 ? 12 : 18);
  int64_t limit =
      conflicts ? kLearningRestart : std::max<int64_t>(1000, 4 * int64_t(problem.n));
  while (outcome.nodes < nodeBudget) {
    for (const std::string& heuristic : heuristics) {
      int64_t runBudget = std::min(limit, nodeBudget - outcome.nodes);
      if (runBudget <= 0 || (stop && stop->load()))
        return outcome;
      SearchRun run(problem, capacity, heuristic, failed, conflicts, runBudget);
      Result r = run.run();
      outcome.nodes += run.nodes();
      if (r == Result::Found) {
        outcome.status = SearchOutcome::Status::Found;
        outcome.offsets = run.solution();
        return outcome;
      }
      if (r == Result::Fail) {
        outcome.status = SearchOutcome::Status::Infeasible;
        return outcome;
      }
    }
    if (!conflicts)
      limit *= 2;
  }
  outcome.status = SearchOutcome::Status::Aborted;
  return outcome;
}

}  // namespace odlc::planner
