/// \file `odlc explore`: compiles a model once per latent-replay cut and update density p, and
/// reports each configuration's training memory (from the planner) against the instructions
/// one learned sample costs on the target (from the cost model), with the Pareto front.
#pragma once

#include "driver/Compile.h"

#include <string>
#include <vector>

namespace odlc {

struct ExplorePoint {
  std::string cut;
  int cutIndex = 0; ///< position in `odlc cuts` order (0 = deepest tail)
  double p = 1.0;   ///< share of each layer's channels that train (1 = dense)
  bool trainable = true; ///< false when odlc cannot train from this cut (see `error`)
  std::string error;
  int64_t ramBytes = 0, flashBytes = 0, trainableParams = 0;
  double prefixInstructions = 0; ///< frozen prefix, once per new sample
  double stepInstructions = 0;   ///< one train step of a batch
  double instructionsPerSample = 0; ///< prefix + epochs x step / batch: learning one sample
  bool fits = false;   ///< within --ram and --flash
  bool pareto = false; ///< no fitting point has less RAM, fewer instructions and more parameters
};

struct ExploreOptions {
  CompileOptions base; ///< model, target, budgets, training flags
  std::vector<double> densities{1.0};
  std::string outDir = "explore";
};

/// Every cut x density, in cuts order then density order.
std::vector<ExplorePoint> explore(const Graph &pristine, const ExploreOptions &options);
/// explore.json and explore.svg.
FileSet exploreReport(const std::vector<ExplorePoint> &points, const ExploreOptions &options);

} // namespace odlc
