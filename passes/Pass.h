/// \file The pass interface. A pass is one small class with a name and a run() over the graph;
/// every pass is listed once in Passes.def, in pipeline order.
#pragma once

#include "ir/Graph.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace odlc {

struct TargetInfo;

enum class PassResult { Unchanged, Changed, Failed };

/// On-device training flags (DESIGN.md 4.1).
struct TrainOptions {
  std::string trainFrom = "auto"; ///< auto | none | classifier | a tensor name
  int64_t batch = 8;              ///< samples per SGD step (new and replayed)
  int64_t replayPerBatch = 0;     ///< replayed latents per batch in model_learn; 0: batch / 4
  double lr = 0.01;
  double momentum = 0.0;
  int64_t replaySamples = 64; ///< latents the replay buffer holds
  int64_t replayBits = 32;    ///< 32 (fp32) or 8 (uint8, per-sample affine)
  std::string replayIn = "ram"; ///< ram | flash (latents at the end of flash, written by a hook)
  int64_t epochs = 4;         ///< default epochs of model_learn
  int64_t learnCache = 0;     ///< new-sample latents model_learn keeps (prefix runs once each)
  bool classWeighted = false; ///< inverse-frequency class weights in model_learn's loss
  /// Sparse update (seed 003 sec. 4.4): "none" (dense), "bias" (TinyTL: biases only) or the
  /// fraction p in (0, 1] of each layer's output and input channels that update.
  std::string sparse = "none";
  std::string channelPolicy = "first"; ///< first | magnitude | random: which channels update
  /// With sparse "auto": the density of each sparse-capable tail layer (graph order, the
  /// classifier left out) when the caller already decided it (the plans replay-cut tries);
  /// empty: replay-cut decides.
  std::vector<double> layerDensities;
};

/// What passes may read besides the graph: the target and the user's budget and flags.
struct PassContext {
  const TargetInfo *target = nullptr;
  int64_t ramBudget = 0;   ///< bytes; 0 means the target's RAM size
  int64_t flashBudget = 0; ///< bytes; 0 means the target's flash size
  TrainOptions train;
  std::string failure;     ///< set by a pass returning Failed: one line for the user
  int64_t ramNeeded = 0;   ///< set when a plan does not fit the RAM budget: bytes it needs
  /// Plans the whole program with `--train-from cut`, `--sparse sparse` and, for "auto", these
  /// layer densities, and returns the RAM it needs, or -1 when that cut cannot be compiled; set
  /// by the driver so `auto` decides from real plans.
  std::function<int64_t(const std::string &cut, const std::string &sparse,
                        const std::vector<double> &densities)>
      ramForCut;
  /// With ramNeeded: "name (bytes), ..." largest first (from the driver when no cut fits).
  std::string largestConsumers;
  /// With ramNeeded from replay-cut (no cut fits): the cut whose plan needs the least.
  std::string ramNeededCut;

  /// The RAM budget in bytes: --ram, else the target's RAM; 0 when there is neither.
  int64_t effectiveRamBudget() const;
};

class Pass {
public:
  virtual ~Pass() = default;
  /// kebab-case name, as used by --print-ir-after.
  virtual const char *name() const = 0;
  virtual PassResult run(Graph &graph, PassContext &context) = 0;
};

} // namespace odlc
