// odlc explore: one real compile per cut x density (the same passes and planner as `compile`,
// so memory cannot drift from what the firmware gets), instructions from the target's
// measured cost model (targets/costs), and the Pareto front over (RAM, instructions per
// learned sample, trainable parameters). With --data, each fitting point's generated C also
// runs on the host to measure accuracy (ExploreAccuracy.cpp), and accuracy replaces trainable
// parameters as the front's third objective.
#include "driver/Explore.h"
#include "driver/ExploreAccuracy.h"

#include "Cuts.h"
#include "Diagnostics.h"
#include "targets/CostModel.h"
#include "targets/PlanReport.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace odlc {

namespace {

/// Predicted instructions of one call of function `name` ("prefix", "train").
double functionInstructions(const Graph &g, const std::string &name, const TargetInfo &target) {
  int fn = g.findFunction(name);
  if (fn <= 0)
    return 0;
  double total = 0;
  for (const Node &n : g.nodes)
    if (!n.dead && n.fn == fn)
      total += instructionsOf(g, n, target);
  return total;
}

/// Shares of a layer's output and input channels a step updates (1, 1 when dense).
std::pair<double, double> updatedShares(const Graph &g, const Node &n) {
  if (!n.attrs.has("sparse.out_channels"))
    return {1.0, 1.0};
  const Shape &w = g.tensor(n.inputs[1]).shape;
  bool gemmKN = n.op == OpKind::Gemm && n.attrs.getInt("transB", 0) == 0; // W is [K, N]
  int64_t out = gemmKN ? w[1] : w[0], in = gemmKN ? w[0] : w[1];
  double outShare = double(n.attrs.getInts("sparse.out_channels").size()) / double(out);
  bool depthwise = n.op == OpKind::Conv && n.attrs.getInt("group", 1) > 1;
  double inShare = depthwise ? 1.0 : double(n.attrs.getInts("sparse.in_channels").size()) / double(in);
  return {outShare, inShare};
}

/// Weights and biases one step updates: the [O, I] block of a sparse layer and b[O] (seed 003
/// eq. 7), everything of a dense one.
int64_t trainedParams(const Graph &g) {
  int64_t total = 0;
  for (const Node &n : g.nodes) {
    if (n.dead || n.fn != 0)
      continue;
    auto [outShare, inShare] = updatedShares(g, n);
    for (size_t i = 1; i < n.inputs.size() && i < 3; ++i) {
      TensorId t = n.inputs[i];
      if (t == kNoTensor || g.tensor(t).attrs.getInt("trainable", 0) == 0)
        continue;
      double share = i == 1 ? outShare * inShare : outShare;
      total += std::llround(double(g.tensor(t).elements()) * share);
    }
  }
  return total;
}

ExplorePoint measure(const Graph &pristine, const ExploreOptions &o, const CutInfo &cut,
                     int index, double p, AccuracyBench *bench) {
  ExplorePoint point;
  point.cut = cut.name;
  point.cutIndex = index;
  point.p = p;
  CompileOptions c = o.base;
  c.train.trainFrom = cut.name;
  c.train.sparse = p == 1.0 ? "none" : fmt::format("{:g}", p);
  if (p == 1.0) // dense: every channel trains, no policy chooses
    c.train.channelPolicy = "first";
  c.ramBudget = 0; // measure what it needs; the user's budget decides `fits`
  c.flashBudget = 0;
  c.name = "model"; // the harness calls model_*
  Graph g = pristine;
  CompileResult result;
  try {
    result = compileGraph(g, c);
  } catch (const Error &e) {
    point.trainable = false;
    point.error = e.what();
    return point;
  }
  const TargetInfo &target = *findTarget(c.target);
  int64_t ram = o.base.ramBudget > 0 ? o.base.ramBudget : target.ramBytes();
  int64_t flash = o.base.flashBudget > 0 ? o.base.flashBudget : target.flashBytes();
  // With a fast RAM level, a plan under the budget may split the levels differently and need
  // less (the arena's peak in the fast level): when the free plan misses the budget, it is
  // the one `compile --ram` would build.
  if (o.base.ramBudget > 0 && result.plan.arenaBytes + result.plan.staticRamBytes > ram &&
      !result.plan.fastLevel.empty()) {
    CompileOptions budgeted = c;
    budgeted.ramBudget = o.base.ramBudget;
    Graph again = pristine;
    try {
      result = compileGraph(again, budgeted);
      g = std::move(again);
    } catch (const Error &) {
      // over the budget in every split: keep the free plan's figures
    }
  }
  point.ramBytes = result.plan.arenaBytes + result.plan.staticRamBytes;
  point.flashBytes = result.plan.weightBytes + result.plan.replayFlashBytes;
  point.trainableParams = trainedParams(g);
  point.prefixInstructions = functionInstructions(g, "prefix", target);
  point.stepInstructions = functionInstructions(g, "train", target);
  // model_learn runs the prefix once per new sample (its latent is cached) and the tail on
  // every epoch; a step of `batch` samples costs step / batch per sample and epoch.
  point.instructionsPerSample = point.prefixInstructions + double(c.train.epochs) *
                                                               point.stepInstructions /
                                                               double(c.train.batch);
  point.fits = (ram <= 0 || point.ramBytes <= ram) && (flash <= 0 || point.flashBytes <= flash);
  if (bench != nullptr && point.fits)
    bench->measure(result.files, point);
  return point;
}

/// The third objective: measured accuracy when there is one, else trainable parameters.
double quality(const ExplorePoint &p) {
  return p.measured ? p.accuracyAll : double(p.trainableParams);
}

bool dominates(const ExplorePoint &a, const ExplorePoint &b) {
  bool noWorse = a.ramBytes <= b.ramBytes && a.instructionsPerSample <= b.instructionsPerSample &&
                 quality(a) >= quality(b);
  bool better = a.ramBytes < b.ramBytes || a.instructionsPerSample < b.instructionsPerSample ||
                quality(a) > quality(b);
  return noWorse && better;
}

void markPareto(std::vector<ExplorePoint> &points) {
  for (ExplorePoint &p : points) {
    if (!p.trainable || !p.fits)
      continue;
    p.pareto = true;
    for (const ExplorePoint &q : points)
      if (q.trainable && q.fits && dominates(q, p)) {
        p.pareto = false;
        break;
      }
  }
}

/// Which of `cuts` --cuts selects (each entry a number from `odlc cuts` or a tensor name).
std::vector<bool> chosenCuts(const std::vector<CutInfo> &cuts,
                             const std::vector<std::string> &wanted) {
  std::vector<bool> chosen(cuts.size(), wanted.empty());
  for (const std::string &w : wanted) {
    size_t index = cuts.size();
    for (size_t i = 0; i < cuts.size(); ++i)
      if (cuts[i].name == w)
        index = i;
    char *end = nullptr;
    long number = std::strtol(w.c_str(), &end, 10);
    if (index == cuts.size() && !w.empty() && *end == '\0' && number >= 0 &&
        size_t(number) < cuts.size())
      index = size_t(number);
    if (index == cuts.size())
      fail("--cuts '{}' is neither a cut number (0 to {}) nor a cut's tensor name; `odlc cuts "
           "MODEL` lists them",
           w, cuts.size() - 1);
    chosen[index] = true;
  }
  return chosen;
}

} // namespace

void validateExploreOptions(const ExploreOptions &o) {
  CompileOptions checked = o.base;
  checked.train.sparse = "0.5"; // each point's --sparse comes from --p
  validateOptions(checked);
}

std::vector<ExplorePoint> explore(const Graph &pristine, const ExploreOptions &o) {
  validateExploreOptions(o);
  std::vector<CutInfo> cuts = listCuts(pristine, o.base.train.batch);
  if (cuts.empty())
    fail("the model has no latent-replay cut with a layer to train after it; nothing to explore");
  std::vector<bool> chosen = chosenCuts(cuts, o.cuts);
  std::unique_ptr<AccuracyBench> bench;
  if (!o.data.name.empty())
    bench = std::make_unique<AccuracyBench>(pristine, o);
  size_t total = size_t(std::count(chosen.begin(), chosen.end(), true)) * o.densities.size();
  bool progress = bench != nullptr && o.progress && isatty(STDERR_FILENO);
  std::vector<ExplorePoint> points;
  for (size_t i = 0; i < cuts.size(); ++i) {
    if (!chosen[i])
      continue;
    for (double p : o.densities) {
      points.push_back(measure(pristine, o, cuts[i], int(i), p, bench.get()));
      const ExplorePoint &m = points.back();
      if (progress && m.measured)
        fmt::print(stderr, "explore: [{}/{}] #{} p={:g}: accuracy old {:.1f}%, new {:.1f}%, all "
                           "{:.1f}%\n",
                   points.size(), total, m.cutIndex, m.p, 100 * m.accuracyOld,
                   100 * m.accuracyNew, 100 * m.accuracyAll);
    }
  }
  markPareto(points);
  return points;
}

} // namespace odlc
