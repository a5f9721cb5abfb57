// replay-cut: decides where the network is cut for latent replay (--train-from). Everything
// after the cut is the trainable tail; its Conv/Gemm/MatMul weights and biases are marked
// `trainable`. The decision and why are graph attributes: train.cut, train.cut_reason and, for
// `auto`, train.runner_up.
#include "Cuts.h"
#include "Pass.h"

#include "Diagnostics.h"
#include "targets/TargetInfo.h"

#include <fmt/format.h>

#include <map>
#include <memory>

namespace odlc {

namespace {

std::string cutList(const std::vector<CutInfo> &cuts) {
  std::string list;
  for (const CutInfo &c : cuts)
    list += (list.empty() ? "" : ", ") + c.name;
  return list;
}

/// Bytes of RAM training from `cut` needs at least: the trainable weights' RAM copies (and
/// momentum buffers), the replay buffer, the latent batch and every activation kept for
/// backward (all live when the backward pass starts). A true lower bound of the plan.
int64_t trainingLowerBound(const CutInfo &cut, const TrainOptions &o) {
  int64_t latent = o.replayBits == 8 ? cut.latentElements : 4 * cut.latentElements;
  // A sparse update keeps fewer activations and RAM copies (sparse-update runs after this
  // pass): leave both out so the bound stays a bound.
  bool dense = o.sparse == "none";
  int64_t weights = dense ? 4 * cut.trainableParams * (o.momentum != 0.0 ? 2 : 1) : 0;
  return weights + o.replaySamples * latent +
         o.batch * 4 * (cut.latentElements + (dense ? cut.keptElements : 0));
}

class ReplayCutPass : public Pass {
public:
  const char *name() const override { return "replay-cut"; }

  PassResult run(Graph &g, PassContext &context) override {
    const TrainOptions &o = context.train;
    if (o.trainFrom == "none")
      return PassResult::Unchanged;
    std::vector<CutInfo> cuts = findCuts(g, o.batch);
    if (cuts.empty() && o.trainFrom == "auto") {
      g.attrs.set("train.cut_reason", std::string("auto: no layer with weights to train"));
      return PassResult::Changed;
    }
    if (cuts.empty()) {
      context.failure = "the model has no layer with weights after any valid cut; compile with "
                        "--train-from none for inference only";
      return PassResult::Failed;
    }
    const CutInfo *chosen = choose(g, cuts, context);
    if (!chosen)
      return PassResult::Failed;
    markTail(g, *chosen);
    return PassResult::Changed;
  }

private:
  const CutInfo *choose(Graph &g, const std::vector<CutInfo> &cuts, PassContext &context) {
    const TrainOptions &o = context.train;
    if (o.trainFrom == "classifier") {
      g.attrs.set("train.cut_reason", std::string("--train-from classifier: the last layer"));
      return &cuts.back();
    }
    if (o.trainFrom == "auto")
      return chooseAuto(g, cuts, context);
    for (const CutInfo &c : cuts) {
      if (c.name != o.trainFrom)
        continue;
      g.attrs.set("train.cut_reason", std::string("--train-from ") + c.name);
      return &c;
    }
    bool exists = g.findTensor(o.trainFrom) != kNoTensor;
    context.failure = fmt::format(
        "--train-from '{}' {}; valid cuts (tensors every input-to-output path passes through, "
        "with a layer to train after them): {}",
        o.trainFrom, exists ? "is not a valid cut" : "names no tensor of the model", cutList(cuts));
    return nullptr;
  }

  /// The deepest tail (earliest cut) whose plan fits the RAM budget. Cuts whose lower bound
  /// already exceeds it are not planned; the others are planned in full (through the driver's
  /// ramForCut) so the choice rests on real plans, not on a formula. Choosing the earliest cut
  /// that fits makes a bigger budget never give a shallower tail.
  const CutInfo *chooseAuto(Graph &g, const std::vector<CutInfo> &cuts, PassContext &context) {
    int64_t budget = context.ramBudget > 0 ? context.ramBudget
                     : context.target      ? context.target->ramBytes()
                                           : 0;
    std::string rejected;
    for (size_t i = 0; i < cuts.size(); ++i) {
      int64_t bound = trainingLowerBound(cuts[i], context.train);
      if (budget > 0 && bound > budget) {
        rejected = fmt::format("{}: needs at least {} bytes", cuts[i].name, bound);
        continue;
      }
      int64_t need = context.ramForCut ? context.ramForCut(cuts[i].name) : bound;
      if (need < 0) {
        rejected = cuts[i].name + ": cannot be trained through";
        continue;
      }
      if (budget > 0 && need > budget) {
        rejected = fmt::format("{}: its plan needs {} bytes", cuts[i].name, need);
        continue;
      }
      // Ties in trainable capacity (e.g. a conv's output and its relu's) go to the later cut:
      // the same weights train with less work in the tail.
      size_t pick = i;
      while (pick + 1 < cuts.size() &&
             cuts[pick + 1].trainableParams == cuts[i].trainableParams &&
             cuts[pick + 1].forwardMacs <= cuts[pick].forwardMacs)
        ++pick;
      g.attrs.set("train.cut_reason",
                  fmt::format("auto: the deepest tail whose plan ({} bytes{}) fits the RAM "
                              "budget{}{}",
                              need, context.ramForCut ? "" : ", estimated",
                              budget > 0 ? fmt::format(" of {} bytes", budget) : "",
                              pick != i ? "; the latest cut with the same trainable weights" : ""));
      if (pick + 1 < cuts.size())
        g.attrs.set("train.runner_up",
                    fmt::format("{}: a shallower tail ({} trainable parameters instead of {})",
                                cuts[pick + 1].name, cuts[pick + 1].trainableParams,
                                cuts[pick].trainableParams));
      if (!rejected.empty())
        g.attrs.set("train.deeper_rejected", rejected);
      return &cuts[pick];
    }
    context.failure = noCutFits(cuts, context, budget);
    return nullptr;
  }

  /// The diagnostic when no cut fits: the smallest budget that would (from planning the cuts
  /// whose lower bound does not already exceed the best found).
  std::string noCutFits(const std::vector<CutInfo> &cuts, PassContext &context, int64_t budget) {
    int64_t best = -1;
    std::string bestCut;
    for (const CutInfo &cut : cuts) {
      if (best >= 0 && trainingLowerBound(cut, context.train) >= best)
        continue;
      int64_t need = context.ramForCut ? context.ramForCut(cut.name)
                                       : trainingLowerBound(cut, context.train);
      if (need >= 0 && (best < 0 || need < best)) {
        best = need;
        bestCut = cut.name;
      }
    }
    if (best < 0)
      return fmt::format("no latent-replay cut of the model can be trained (each needs a tail "
                         "with a batch dimension of 1 and a Conv/Gemm/MatMul with constant "
                         "weights; `odlc cuts` lists them); compile with --train-from none for "
                         "inference only");
    std::string smallest = fmt::format("the smallest budget that fits is --ram {} (training from '{}')",
                               best, bestCut);
    return fmt::format("no latent-replay cut fits the RAM budget of {} bytes; {}; or lower "
                       "--batch or --replay-samples, use --replay-bits 8, or compile with "
                       "--train-from none",
                       budget, smallest);
  }

  void markTail(Graph &g, const CutInfo &cut) {
    g.attrs.set("train.cut", cut.name);
    std::map<TensorId, std::string> trainedBy;
    for (NodeId id : tailNodes(g, cut.tensor)) {
      const Node &n = g.nodes[size_t(id)];
      for (TensorId w : layerWeights(g, n)) {
        auto [it, fresh] = trainedBy.emplace(w, n.name);
        // A fused update applies one layer's gradient; a weight shared by two layers would be
        // updated before the other layer's backward reads it.
        if (!fresh)
          unsupported("cannot train weight '{}': it is shared by nodes '{}' and '{}' of the "
                      "trainable tail, and odlc trains a weight used by one layer; choose a "
                      "--train-from cut after '{}'",
                      g.tensor(w).name, it->second, n.name, n.name);
        g.tensor(w).attrs.set("trainable", int64_t(1));
      }
    }
  }
};

} // namespace

std::unique_ptr<Pass> createReplayCutPass() { return std::make_unique<ReplayCutPass>(); }

} // namespace odlc
