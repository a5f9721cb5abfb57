// memory-plan: gives every run-time buffer a home. Views and in-place results share their
// operand's buffer; graph outputs are computed in the caller's output array; every other
// buffer gets a static offset in one arena from the offset solver, so that two buffers live at
// the same step never overlap. On a target with a fast RAM level (DTCM, L1 scratchpad), the
// hottest buffers that fit get their own arena there (or, when that split misses the RAM
// budget, the buffers at the main arena's peak). Decisions are tensor attributes (mem, offset,
// level, first, last, alias) and graph attributes (arena_bytes, lower_bound_bytes, fast_level,
// fast_policy, fast_arena_bytes, fast_lower_bound_bytes).
#include "LevelAssignment.h"
#include "Pass.h"
#include "Storage.h"
#include "solvers/BufferPlanner.h"
#include "targets/PlanReport.h"
#include "targets/StaticMemory.h"
#include "targets/TargetInfo.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <set>

namespace odlc {

namespace {

int64_t alignUp(int64_t value, int64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

void annotateRoot(Graph &g, TensorId t, const StorageInfo &s) {
  Tensor &tensor = g.tensor(t);
  if (s.kind[size_t(t)] == StorageKind::Output) {
    int64_t offset = 0;
    const std::vector<TensorId> &outs = g.functionOutputs(s.outputFn[size_t(t)]);
    for (int k = 0; k < s.outputIndex[size_t(t)]; ++k)
      offset += g.tensor(outs[size_t(k)]).bytes();
    tensor.attrs.set("mem", std::string("output"));
    tensor.attrs.set("output_index", int64_t(s.outputIndex[size_t(t)]));
    tensor.attrs.set("offset", offset);
    return;
  }
  tensor.attrs.set("mem", std::string("arena"));
  tensor.attrs.set("first", int64_t(s.first[size_t(t)]));
  tensor.attrs.set("last", int64_t(s.last[size_t(t)]));
}

class MemoryPlanPass : public Pass {
public:
  const char *name() const override { return "memory-plan"; }

  PassResult run(Graph &g, PassContext &context) override {
    StorageInfo s = analyzeStorage(g);
    int64_t alignment = context.target ? context.target->bufferAlignment : 8;
    std::vector<PlanBuffer> buffers;
    for (size_t t = 0; t < g.tensors.size(); ++t) {
      Tensor &tensor = g.tensors[t];
      if (tensor.kind != TensorKind::Value)
        continue;
      if (s.root[t] != TensorId(t)) {
        tensor.attrs.set("alias", g.tensor(s.root[t]).name);
        continue;
      }
      annotateRoot(g, TensorId(t), s);
      if (s.kind[t] != StorageKind::Arena)
        continue;
      PlanBuffer b;
      b.id = int64_t(t);
      b.lower = s.first[t];
      b.upper = s.last[t] + 1;
      b.size = alignUp(tensor.bytes(), alignment);
      b.alignment = alignment;
      buffers.push_back(b);
    }
    for (size_t i = 0; i < g.nodes.size(); ++i)
      if (s.inPlaceOperand[i] >= 0)
        g.nodes[i].attrs.set("inplace", int64_t(s.inPlaceOperand[i]));
    int64_t statics = 0;
    for (const StaticBuffer &b : staticBuffers(g))
      if (b.level == "ram")
        statics += b.bytes;
    const MemoryRegion *fast = fastRegion(context);
    std::vector<PlanBuffer> slow = buffers, quick;
    if (fast) {
      int64_t budget = context.effectiveRamBudget();
      FastChoice choice = chooseFastLevel(g, buffers, int64_t(fast->size),
                                          budget > 0 ? std::max<int64_t>(budget - statics, 1) : 0);
      g.attrs.set("fast_policy", choice.policy);
      slow.clear();
      for (const PlanBuffer &b : buffers)
        (choice.ids.count(b.id) ? quick : slow).push_back(b);
    }
    PlanResult plan = planBuffers(slow), fastPlan = planBuffers(quick);
    for (const std::vector<PlanBuffer> *level : {&slow, &quick}) {
      if (std::string problem = verifyPlan(*level); !problem.empty()) {
        context.failure = "internal error: memory plan is invalid: " + problem;
        return PassResult::Failed;
      }
      for (const PlanBuffer &b : *level)
        g.tensor(TensorId(b.id)).attrs.set("offset", b.offset);
    }
    for (const PlanBuffer &b : quick)
      g.tensor(TensorId(b.id)).attrs.set("level", fast->name);
    if (fast) {
      g.attrs.set("fast_level", fast->name);
      g.attrs.set("fast_arena_bytes", fastPlan.arenaBytes);
      g.attrs.set("fast_lower_bound_bytes", fastPlan.lowerBound);
    }
    g.attrs.set("arena_bytes", plan.arenaBytes + fastPlan.arenaBytes);
    g.attrs.set("lower_bound_bytes", plan.lowerBound + fastPlan.lowerBound);
    if (statics > 0)
      g.attrs.set("static_ram_bytes", statics);
    // Both levels live in the RAM the budget bounds (one linker region from the first level).
    return checkBudget(g, context, plan.arenaBytes + fastPlan.arenaBytes, statics);
  }

private:
  /// The target's fast RAM level, if it has one.
  static const MemoryRegion *fastRegion(const PassContext &context) {
    if (!context.target)
      return nullptr;
    for (const MemoryRegion &m : context.target->memories)
      if (m.kind == MemoryKind::Ram && m.fast)
        return &m;
    return nullptr;
  }

  /// For the diagnostic: the three largest of the buffers live at the step with the most arena
  /// bytes live and the static RAM buffers (live throughout), which are what to shrink.
  static std::string largestAtPeak(const Graph &g) {
    std::vector<const Tensor *> arena;
    int64_t steps = 0;
    for (const Tensor &t : g.tensors)
      if (t.attrs.getString("mem", "") == "arena") {
        arena.push_back(&t);
        steps = std::max(steps, t.attrs.getInt("last", 0) + 1);
      }
    std::vector<int64_t> live(size_t(steps), 0);
    for (const Tensor *t : arena)
      for (int64_t s = t->attrs.getInt("first", 0); s <= t->attrs.getInt("last", 0); ++s)
        live[size_t(s)] += t->bytes();
    int64_t peak = std::max_element(live.begin(), live.end()) - live.begin();
    std::vector<std::pair<int64_t, std::string>> sizes;
    for (const Tensor *t : arena)
      if (t->attrs.getInt("first", 0) <= peak && peak <= t->attrs.getInt("last", 0))
        sizes.push_back({t->bytes(), t->name});
    for (const StaticBuffer &b : staticBuffers(g))
      if (b.level == "ram")
        sizes.push_back({b.bytes, b.name});
    return largestThree(std::move(sizes));
  }

  PassResult checkBudget(const Graph &g, PassContext &context, int64_t arena, int64_t statics) {
    int64_t budget = context.effectiveRamBudget();
    if (budget <= 0 || arena + statics <= budget)
      return PassResult::Changed;
    context.ramNeeded = arena + statics;
    context.largestConsumers = largestAtPeak(g);
    // The driver adds the options that fit, each found by planning it.
    if (statics == 0)
      context.failure = fmt::format(
          "the activation arena needs {} bytes but the RAM budget is {} bytes", arena, budget);
    else
      context.failure = fmt::format(
          "training needs {} bytes of RAM ({} arena + {} trainable weights, replay buffer and "
          "state) but the RAM budget is {} bytes",
          arena + statics, arena, statics, budget);
    return PassResult::Failed;
  }
};

} // namespace

std::unique_ptr<Pass> createMemoryPlanPass() { return std::make_unique<MemoryPlanPass>(); }

} // namespace odlc
