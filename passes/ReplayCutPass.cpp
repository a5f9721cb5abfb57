// replay-cut: decides where the network is cut for latent replay (--train-from). Everything
// after the cut is the trainable tail; its Conv/Gemm/MatMul weights and biases are marked
// `trainable`. The decision and why are graph attributes: train.cut, train.cut_reason and, for
// `auto`, train.runner_up.
#include "Bisect.h"
#include "Cuts.h"
#include "Pass.h"
#include "SparseAuto.h"

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
  bool dense = o.sparse == "none" || o.sparse == "auto"; // auto tries dense plans first
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
    if (o.sparse == "auto")
      chosen = chooseSparse(g, cuts, *chosen, context);
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
    int64_t budget = context.effectiveRamBudget();
    std::string rejected;
    for (size_t i = 0; i < cuts.size(); ++i) {
      int64_t bound = trainingLowerBound(cuts[i], context.train);
      if (budget > 0 && bound > budget) {
        rejected = fmt::format("{}: needs at least {} bytes", cuts[i].name, bound);
        continue;
      }
      int64_t need = planDense(context, cuts[i], bound);
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
      int64_t need = planDense(context, cut, trainingLowerBound(cut, context.train));
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
    // The driver adds that plan's largest consumers and the other options that fit.
    context.ramNeeded = best;
    context.ramNeededCut = bestCut;
    int64_t ram = context.target ? context.target->ramBytes() : 0;
    if (ram > 0 && best > ram)
      return fmt::format("no latent-replay cut fits the RAM budget of {} bytes; the smallest plan "
                         "(training from '{}') needs {} bytes, more than the {} bytes of RAM "
                         "target {} has",
                         budget, bestCut, best, ram, context.target->name);
    return fmt::format("no latent-replay cut fits the RAM budget of {} bytes; the smallest budget "
                       "that fits is --ram {} (training from '{}')",
                       budget, best, bestCut);
  }

  /// RAM of the dense plan of `cut` (for --sparse auto too: it tries dense first), or
  /// `fallback` when the driver plans nothing.
  static int64_t planDense(PassContext &context, const CutInfo &cut, int64_t fallback) {
    if (!context.ramForCut)
      return fallback;
    const std::string &sparse = context.train.sparse;
    return context.ramForCut(cut.name, sparse == "auto" ? std::string("none") : sparse, {});
  }

  /// --sparse auto. With `--train-from auto`: the deepest cut whose plan fits the budget with
  /// every sparse layer at kAutoMinDensity or more; without one, `dense` (the deepest that fits
  /// dense). With a named cut: that cut. Then the densest step of the density ladder that fits.
  /// A bigger budget never gives a shallower cut or a sparser update of the same cut. The
  /// densities are the graph attribute train.sparse_densities, which sparse-update applies.
  const CutInfo *chooseSparse(Graph &g, const std::vector<CutInfo> &cuts, const CutInfo &dense,
                              PassContext &context) {
    const TrainOptions &o = context.train;
    if (!o.layerDensities.empty()) { // a plan replay-cut itself asked for
      g.attrs.set("train.sparse_densities", o.layerDensities);
      return &dense;
    }
    if (!context.ramForCut)
      return &dense;
    int64_t budget = context.effectiveRamBudget();
    auto fits = [&](const CutInfo &cut, const std::vector<double> &densities) {
      int64_t need = context.ramForCut(cut.name, "auto", densities);
      return need >= 0 && (budget <= 0 || need <= budget);
    };
    const CutInfo *chosen = &dense;
    if (o.trainFrom == "auto") {
      for (const CutInfo &cut : cuts) {
        if (&cut == &dense)
          break;
        std::vector<SparseLayer> layers = sparseLayersAfter(g, cut.tensor);
        // The same layers train from the next cut with less work (a conv's input and its
        // producer's output): leave the choice to that cut.
        bool sameLayers = (&cut + 1)->trainableParams == cut.trainableParams;
        if (layers.empty() || sameLayers ||
            (budget > 0 && sparseLowerBound(cut, layers, o) > budget))
          continue;
        if (!fits(cut, densityLadder(layers).front()))
          continue;
        chosen = &cut;
        break;
      }
    }
    std::vector<std::vector<double>> ladder = densityLadder(sparseLayersAfter(g, chosen->tensor));
    if (ladder.size() == 1) // only the classifier trains: nothing to make sparse
      return chosen;
    if (chosen == &dense &&
        (o.trainFrom == "auto" || fits(*chosen, ladder.back()))) {
      g.attrs.set("train.sparse_densities", ladder.back());
      g.attrs.set("train.sparse_reason",
                  std::string("auto: dense; no deeper cut fits the budget at p >= 0.5"));
      return chosen;
    }
    // fits at the ladder's first step; memory grows along it
    size_t best = size_t(lastTrue(0, int64_t(ladder.size()) - 1,
                                  [&](int64_t k) { return fits(*chosen, ladder[size_t(k)]); }));
    g.attrs.set("train.sparse_densities", ladder[best]);
    g.attrs.set("train.sparse_reason",
                fmt::format("auto: p {} per layer, the densest of {} ladder steps whose plan fits "
                            "the RAM budget{}",
                            densityRange(ladder[best]), ladder.size(),
                            budget > 0 ? fmt::format(" of {} bytes", budget) : ""));
    if (chosen != &dense) {
      g.attrs.set("train.cut_reason",
                  fmt::format("auto (--sparse auto): the deepest tail that fits the RAM budget{} "
                              "with a sparse update",
                              budget > 0 ? fmt::format(" of {} bytes", budget) : ""));
      g.attrs.set("train.runner_up",
                  fmt::format("{}: the deepest tail that fits dense ({} trainable parameters "
                              "instead of {})",
                              dense.name, dense.trainableParams, chosen->trainableParams));
    }
    return chosen;
  }

  /// trainingLowerBound with every sparse layer keeping kAutoMinDensity of its input channels
  /// (rounded down, so still a bound): weights in RAM, replay buffer, latent batch and kept
  /// activations.
  static int64_t sparseLowerBound(const CutInfo &cut, const std::vector<SparseLayer> &layers,
                                  const TrainOptions &o) {
    int64_t denseBound = trainingLowerBound(cut, o);
    int64_t saved = 0;
    for (const SparseLayer &layer : layers)
      saved += layer.keptElements - int64_t(double(layer.keptElements) * kAutoMinDensity);
    return denseBound - o.batch * 4 * saved;
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
