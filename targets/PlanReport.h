/// \file The memory-plan report written next to the C: memory_plan.json (the stable contract of
/// DESIGN.md 4.4), memory_plan.md and memory_plan.svg (for people).
#pragma once

#include "ir/Graph.h"
#include "targets/CEmitter.h"

#include <string>
#include <vector>

namespace odlc {

struct TargetInfo;

/// One row of the plan: a buffer with its place and lifetime.
struct PlanEntry {
  std::string name;
  std::string kind;  ///< activation | gradient | weight | replay | scratch
  std::string level; ///< memory level: ram | flash
  int64_t offset = 0, size = 0, first = 0, last = 0;
};

/// One row of the per-layer table (seed 002's cost table): what a layer with weights costs.
struct LayerRow {
  std::string name, op;
  bool trainable = false;
  int64_t paramBytes = 0;      ///< weights and bias
  int64_t gradientBytes = 0;   ///< weight-gradient buffers (0: the update is fused)
  int64_t keptBytes = 0;       ///< its input activation kept for backward, whole batch
  std::string weight;          ///< the weight tensor (input 1)
  int64_t backwardMacs = 0;    ///< its input-gradient and weight-gradient MACs per train step
  /// Sparse update (sparse-update pass): the channels that update, or empty (dense).
  std::vector<int64_t> outChannels, inChannels;
};

struct PlanSummary {
  std::string target;
  int64_t ramBudget = 0, flashBudget = 0; ///< 0: unbounded (host)
  int64_t arenaBytes = 0, lowerBoundBytes = 0, weightBytes = 0;
  /// The arena's lower bound in the order autodiff emitted and after the schedule pass.
  int64_t boundBeforeSchedule = 0, boundAfterSchedule = 0;
  int64_t steps = 0;
  int64_t staticRamBytes = 0; ///< trainable weights, state, replay buffer (outside the arena)
  std::string fastLevel;      ///< name of the fast RAM level ("" when the target has none)
  int64_t fastArenaBytes = 0, fastLowerBoundBytes = 0, fastCapacity = 0;
  std::string fastPolicy; ///< which buffers went there: hottest, peak, fill or none (LevelAssignment.h)
  int64_t replayRamBytes = 0;
  int64_t replayFlashBytes = 0;
  std::string cut;                    ///< "" when the model does not train
  std::string cutReason, runnerUp, deeperRejected; ///< why this cut (replay-cut's attributes)
  std::vector<std::string> trainable; ///< checkpoint order
  std::vector<PlanEntry> buffers;
  /// Multiply-accumulates per call of each function (infer, prefix, train), from the op table.
  std::vector<std::pair<std::string, int64_t>> macs;
  /// First schedule step of each function, in order.
  std::vector<std::pair<std::string, int64_t>> functionStarts;
  std::vector<LayerRow> layers;
  std::string sparse, channelPolicy; ///< --sparse and --channel-policy ("" when dense)
  /// --sparse auto: each sparse-capable layer's p (graph order, classifier left out) and why.
  std::vector<double> sparseDensities;
  std::string sparseReason;
  int64_t batch = 0;
};

/// Flash the program needs: the weights and a flash-resident replay buffer.
inline int64_t flashNeeded(const PlanSummary &plan) {
  return plan.weightBytes + plan.replayFlashBytes;
}
inline bool fitsFlash(const PlanSummary &plan) {
  return plan.flashBudget <= 0 || flashNeeded(plan) <= plan.flashBudget;
}

/// For an over-budget diagnostic: the three largest of (bytes, name), as
/// "'a' (100 B), 'b' (60 B), 'c' (8 B)" (ties keep their order).
std::string largestThree(std::vector<std::pair<int64_t, std::string>> sizes);

/// memory_plan.md and memory_plan.svg (PlanPicture.cpp).
std::string planMarkdown(const PlanSummary &plan);
std::string planSvg(const PlanSummary &plan);

/// Collects the plan from the attributes the memory-plan pass wrote.
PlanSummary summarizePlan(const Graph &graph, const TargetInfo &target, int64_t ramBudget,
                          int64_t flashBudget);

/// Adds memory_plan.json, memory_plan.md and memory_plan.svg to `files`.
void writePlanReport(FileSet &files, const PlanSummary &plan);

/// The JSON text alone (also used by tests).
std::string planJson(const PlanSummary &plan);

} // namespace odlc
