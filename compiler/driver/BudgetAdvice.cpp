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

/// Bytes of RAM the plan needs (0 when it fits the budget, -1 when it fails otherwise).
int64_t ramNeeded(const Graph &pristine, const CompileOptions &o) {
  Graph g = pristine;
  PassContext context;
  context.target = findTarget(o.target);
  context.ramBudget = o.ramBudget;
  context.flashBudget = o.flashBudget;
  context.train = o.train;
  try {
    runPipeline(g, context, {});
  } catch (const Error &) {
    return context.ramNeeded > 0 ? context.ramNeeded : -1;
  }
  return 0;
}

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
    if (ramNeeded(pristine, alt) == 0)
      return "--train-from " + cuts[i];
  }
  return "";
}

/// The largest value of one training flag in [low, its current value) that fits, as
/// "FLAG N", or "" when none does.
std::string largestThatFits(const Graph &pristine, const CompileOptions &o, const char *flag,
                            int64_t TrainOptions::*field, int64_t low) {
  auto fits = [&](int64_t n) {
    CompileOptions alt = o;
    alt.train.*field = n;
    return ramNeeded(pristine, alt) == 0;
  };
  if (o.train.*field <= low || !fits(low))
    return "";
  return fmt::format("{} {}", flag, lastTrue(low, o.train.*field - 1, fits));
}

} // namespace

std::string budgetAdvice(const Graph &pristine, const CompileOptions &o, int64_t needed) {
  std::vector<std::string> fits;
  if (o.train.trainFrom != "none") {
    // `auto` has already tried every cut with these flags.
    if (o.train.trainFrom != "auto")
      if (std::string cut = laterCut(pristine, o); !cut.empty())
        fits.push_back(cut);
    if (o.train.replayBits == 32) {
      CompileOptions alt = o;
      alt.train.replayBits = 8;
      if (ramNeeded(pristine, alt) == 0)
        fits.push_back("--replay-bits 8");
    }
    if (std::string replay = largestThatFits(pristine, o, "--replay-samples",
                                             &TrainOptions::replaySamples, 1);
        !replay.empty())
      fits.push_back(replay);
    // The batch stays above --replay-per-batch.
    if (std::string batch = largestThatFits(pristine, o, "--batch", &TrainOptions::batch,
                                            o.train.replayPerBatch + 1);
        !batch.empty())
      fits.push_back(batch);
  }
  std::string text = "nearest that fits: ";
  for (const std::string &f : fits)
    text += f + ", or ";
  return text + fmt::format("--ram {}", needed);
}

} // namespace odlc
