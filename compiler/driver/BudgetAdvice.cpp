#include "driver/BudgetAdvice.h"

#include "Bisect.h"
#include "Cuts.h"
#include "Diagnostics.h"
#include "PassManager.h"
#include "targets/TargetInfo.h"

#include <fmt/format.h>

namespace odlc {

namespace {

constexpr size_t kMaxCutProbes = 40;

bool fits(const Graph &pristine, const CompileOptions &o) { return tryPlan(pristine, o).fits; }

std::vector<std::string> cutNames(const Graph &pristine, const CompileOptions &o) {
  Graph g = pristine;
  PassContext context;
  context.target = findTarget(o.target);
  PassManagerOptions pm;
  pm.stopAfter = "lower-views";
  runPipeline(g, context, pm);
  std::vector<std::string> names;
  for (const CutInfo &c : findCuts(g, o.train.batch))
    names.push_back(c.name);
  return names;
}

/// The deepest tail that fits, as "--train-from NAME".
std::string laterCut(const Graph &pristine, const CompileOptions &o) {
  std::vector<std::string> cuts = cutNames(pristine, o);
  size_t start = cuts.size() > kMaxCutProbes ? cuts.size() - kMaxCutProbes : 0;
  for (size_t i = start; i < cuts.size(); ++i) {
    CompileOptions alt = o;
    alt.train.trainFrom = cuts[i];
    if (fits(pristine, alt))
      return "--train-from " + cuts[i];
  }
  return "";
}

/// The largest value of one training flag in [low, its current value) that fits, as
/// "FLAG N", or "" when none does.
std::string largestThatFits(const Graph &pristine, const CompileOptions &o, const char *flag,
                            int64_t TrainOptions::*field, int64_t low) {
  auto fitsWith = [&](int64_t n) {
    CompileOptions alt = o;
    alt.train.*field = n;
    return fits(pristine, alt);
  };
  if (o.train.*field <= low || !fitsWith(low))
    return "";
  return fmt::format("{} {}", flag, lastTrue(low, o.train.*field - 1, fitsWith));
}

/// A smaller replay buffer that fits: uint8 latents, then the most latents.
void addReplayOptions(const Graph &pristine, const CompileOptions &o,
                      std::vector<std::string> &options) {
  if (o.train.replayBits == 32) {
    CompileOptions alt = o;
    alt.train.replayBits = 8;
    if (fits(pristine, alt))
      options.push_back("--replay-bits 8");
  }
  if (std::string replay = largestThatFits(pristine, o, "--replay-samples",
                                           &TrainOptions::replaySamples, 1);
      !replay.empty())
    options.push_back(replay);
}

/// "--FLAG N", or "a target with N bytes of MEMORY" when the target itself is smaller.
std::string biggerBudget(const char *flag, const char *memory, int64_t needed,
                         int64_t targetBytes) {
  return targetBytes > 0 && needed > targetBytes
             ? fmt::format("a target with {} bytes of {}", needed, memory)
             : fmt::format("{} {}", flag, needed);
}

/// "; nearest that fits: A, or B", or "" without options.
std::string nearestClause(const std::vector<std::string> &options) {
  std::string text;
  for (size_t i = 0; i < options.size(); ++i)
    text += (i ? ", or " : "; nearest that fits: ") + options[i];
  return text;
}

/// Training options that fit, nearest first.
std::vector<std::string> trainingOptionsThatFit(const Graph &pristine, const CompileOptions &o) {
  std::vector<std::string> options;
  if (o.train.trainFrom == "none")
    return options;
  // `auto` has already tried every cut with these flags.
  if (o.train.trainFrom != "auto")
    if (std::string cut = laterCut(pristine, o); !cut.empty())
      options.push_back(cut);
  addReplayOptions(pristine, o, options);
  // The batch stays above --replay-per-batch.
  if (std::string batch = largestThatFits(pristine, o, "--batch", &TrainOptions::batch,
                                          o.train.replayPerBatch + 1);
      !batch.empty())
    options.push_back(batch);
  CompileOptions inference = o;
  inference.train.trainFrom = "none";
  if (fits(pristine, inference))
    options.push_back("--train-from none (inference only)");
  return options;
}

} // namespace

std::string budgetAdvice(const Graph &pristine, const CompileOptions &o,
                         const PassContext &failed) {
  std::vector<std::string> options = trainingOptionsThatFit(pristine, o);
  // Without a cut that fits, replay-cut's message already names the RAM it needs.
  if (failed.ramNeededCut.empty())
    options.push_back(
        biggerBudget("--ram", "RAM", failed.ramNeeded, findTarget(o.target)->ramBytes()));
  std::string text;
  if (!failed.largestConsumers.empty())
    text += "; largest: " + failed.largestConsumers;
  return text + nearestClause(options);
}

std::string flashAdvice(const Graph &pristine, const CompileOptions &o, const PlanSummary &plan) {
  std::vector<std::pair<int64_t, std::string>> inFlash;
  for (const PlanEntry &b : plan.buffers)
    if (b.level == "flash")
      inFlash.push_back({b.size, b.name});
  std::string text = inFlash.empty() ? "" : "; largest: " + largestThree(std::move(inFlash));
  std::vector<std::string> options;
  if (plan.replayFlashBytes > 0)
    addReplayOptions(pristine, o, options);
  options.push_back(
      biggerBudget("--flash", "flash", flashNeeded(plan), findTarget(o.target)->flashBytes()));
  return text + nearestClause(options);
}

} // namespace odlc
