// schedule: reorders the nodes of each function to lower the memory any plan needs. A greedy
// list scheduler runs ready nodes that free the most and allocate the least first (so branches,
// e.g. fire modules, finish before others start; backward ops run as soon as their gradient is
// complete); the new order is kept only if the arena lower bound does not rise. The bound
// before and after is recorded (schedule.bound_before, schedule.bound_after).
#include "Pass.h"
#include "Storage.h"

#include "ir/OpTable.h"
#include "targets/TargetInfo.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>

namespace odlc {

namespace {

/// Tensors sharing a buffer through views: the first non-view producer's result.
std::vector<TensorId> viewGroups(const Graph &g) {
  std::vector<TensorId> group(g.tensors.size());
  for (size_t t = 0; t < g.tensors.size(); ++t)
    group[t] = TensorId(t);
  for (const Node &n : g.nodes)
    if (!n.dead && opInfo(n.op).isView)
      group[size_t(n.outputs[0])] = group[size_t(n.inputs[0])];
  return group;
}

class FunctionScheduler {
public:
  FunctionScheduler(const Graph &g, int fn) : g_(g), fn_(fn), group_(viewGroups(g)) {
    for (size_t i = 0; i < g.nodes.size(); ++i)
      if (!g.nodes[i].dead && g.nodes[i].fn == fn)
        block_.push_back(NodeId(i));
    for (TensorId out : g.functionOutputs(fn))
      pinned_.insert(group_[size_t(out)]);
    for (TensorId in : g.functionInputs(fn))
      pinned_.insert(group_[size_t(in)]);
  }

  const std::vector<NodeId> &block() const { return block_; }

  /// The node order the greedy scheduler picks (a permutation of block()).
  std::vector<NodeId> greedyOrder() {
    std::vector<std::set<size_t>> preds = dependencies();
    std::vector<int> waiting(block_.size());
    std::vector<std::vector<size_t>> succs(block_.size());
    for (size_t i = 0; i < block_.size(); ++i) {
      waiting[i] = int(preds[i].size());
      for (size_t p : preds[i])
        succs[p].push_back(i);
    }
    countReaders();
    std::set<size_t> ready;
    for (size_t i = 0; i < block_.size(); ++i)
      if (waiting[i] == 0)
        ready.insert(i);
    std::vector<NodeId> order;
    while (!ready.empty()) {
      size_t best = *ready.begin();
      int64_t bestScore = score(best);
      for (size_t i : ready) {
        int64_t s = score(i);
        if (s > bestScore) { // ties keep the original order (set is sorted)
          best = i;
          bestScore = s;
        }
      }
      ready.erase(best);
      retire(best);
      order.push_back(block_[best]);
      for (size_t s : succs[best])
        if (--waiting[s] == 0)
          ready.insert(s);
    }
    return order;
  }

private:
  /// Data dependencies, plus: an update runs after every other reader of what it updates.
  std::vector<std::set<size_t>> dependencies() const {
    std::map<TensorId, size_t> producer;
    std::map<TensorId, std::vector<size_t>> readers;
    for (size_t i = 0; i < block_.size(); ++i) {
      const Node &n = g_.nodes[size_t(block_[i])];
      for (TensorId out : n.outputs)
        producer[out] = i;
      for (TensorId in : n.inputs)
        if (in != kNoTensor)
          readers[in].push_back(i);
    }
    std::vector<std::set<size_t>> preds(block_.size());
    for (size_t i = 0; i < block_.size(); ++i) {
      const Node &n = g_.nodes[size_t(block_[i])];
      for (TensorId in : n.inputs) {
        auto it = in == kNoTensor ? producer.end() : producer.find(in);
        if (it != producer.end())
          preds[i].insert(it->second);
      }
      for (int k : opInfo(n.op).mutates) {
        TensorId target = n.input(size_t(k));
        if (target == kNoTensor)
          continue;
        for (size_t r : readers[target])
          if (r != i)
            preds[i].insert(r);
      }
    }
    return preds;
  }

  void countReaders() {
    for (NodeId id : block_)
      for (TensorId in : g_.nodes[size_t(id)].inputs)
        if (in != kNoTensor && !g_.tensor(in).isConstant())
          remaining_[group_[size_t(in)]] += 1;
  }

  int64_t bytes(TensorId group) const { return g_.tensor(group).bytes(); }

  /// Bytes node i frees minus bytes it allocates.
  int64_t score(size_t i) const {
    const Node &n = g_.nodes[size_t(block_[i])];
    int64_t allocated = 0, freed = 0;
    if (!opInfo(n.op).isView)
      for (TensorId out : n.outputs)
        allocated += bytes(out);
    std::map<TensorId, int> reads;
    for (TensorId in : n.inputs)
      if (in != kNoTensor && !g_.tensor(in).isConstant())
        reads[group_[size_t(in)]] += 1;
    for (const auto &[group, count] : reads) {
      auto it = remaining_.find(group);
      if (it != remaining_.end() && it->second == count && !pinned_.count(group))
        freed += bytes(group);
    }
    return freed - allocated;
  }

  void retire(size_t i) {
    for (TensorId in : g_.nodes[size_t(block_[i])].inputs)
      if (in != kNoTensor && !g_.tensor(in).isConstant())
        remaining_[group_[size_t(in)]] -= 1;
  }

  const Graph &g_;
  int fn_;
  std::vector<TensorId> group_;
  std::vector<NodeId> block_;
  std::set<TensorId> pinned_;
  std::map<TensorId, int> remaining_;
};

/// The graph with the nodes of `block` placed in `order` (same slots).
Graph reordered(const Graph &g, const std::vector<NodeId> &block,
                const std::vector<NodeId> &order) {
  Graph copy = g;
  for (size_t i = 0; i < block.size(); ++i)
    copy.nodes[size_t(block[i])] = g.nodes[size_t(order[i])];
  return copy;
}

class SchedulePass : public Pass {
public:
  const char *name() const override { return "schedule"; }

  PassResult run(Graph &g, PassContext &context) override {
    int64_t alignment = context.target ? context.target->bufferAlignment : 8;
    int64_t before = arenaLowerBound(g, alignment), current = before;
    bool changed = false;
    for (int fn = 0; fn <= int(g.functions.size()); ++fn) {
      FunctionScheduler scheduler(g, fn);
      std::vector<NodeId> order = scheduler.greedyOrder();
      if (order.size() != scheduler.block().size() || order == scheduler.block())
        continue;
      Graph candidate = reordered(g, scheduler.block(), order);
      int64_t bound = arenaLowerBound(candidate, alignment);
      if (bound > current)
        continue;
      g = std::move(candidate);
      current = bound;
      changed = true;
    }
    g.attrs.set("schedule.bound_before", before);
    g.attrs.set("schedule.bound_after", current);
    return changed ? PassResult::Changed : PassResult::Unchanged;
  }
};

} // namespace

std::unique_ptr<Pass> createSchedulePass() { return std::make_unique<SchedulePass>(); }

} // namespace odlc
