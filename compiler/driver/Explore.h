/// \file `odlc explore`: compiles a model once per latent-replay cut and update density p, and
/// reports each configuration's training memory (from the planner) against the instructions
/// one learned sample costs on the target (from the cost model), with the Pareto front. With
/// `--data`, it also runs each fitting configuration's generated C on the host on a
/// class-incremental split and reports its accuracy (ExploreAccuracy.h).
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
  /// No fitting point has less RAM, fewer instructions and more trainable parameters (with
  /// --data: a higher accuracyAll instead of more parameters).
  bool pareto = false;
  /// With --data, for trainable points that fit: accuracy after learning the new classes in
  /// two experiences, on the old classes, the new classes and all of them (test images).
  bool measured = false;
  double accuracyOld = 0, accuracyNew = 0, accuracyAll = 0;
  double accuracyOldBefore = 0; ///< old classes before learning (the same for every point)
};

/// `--data`: the dataset and the class-incremental split accuracy is measured on.
struct DataOptions {
  std::string name; ///< "" = no accuracy; "fashion-mnist"
  std::string dir = "/usr/share/datasets/fashion-mnist";
  int64_t newPerClass = 40; ///< training samples of each new class (6-9), one experience per pair
  int64_t oldPerClass = 20; ///< samples of each old class (0-5) offered to the replay buffer first
  int64_t testImages = 1000; ///< the first N test images
  double mean = 0.2860, stddev = 0.3530; ///< input = (pixel / 255 - mean) / stddev
};

struct ExploreOptions {
  CompileOptions base; ///< model, target, budgets, training flags
  std::vector<double> densities{1.0};
  /// Cuts to sweep, as `odlc cuts` numbers them or by tensor name; empty = every cut.
  std::vector<std::string> cuts;
  std::string outDir = "explore";
  DataOptions data;
  /// With --data: one line per measured point on stderr, when stderr is a terminal (a sweep
  /// takes minutes; pipes and tests keep odlc's one-line error contract).
  bool progress = false;
};

/// Checks the --data flags (dataset name, counts) before any work: a diagnostic otherwise.
void checkDataOptions(const DataOptions &data);

/// compile's option checks, for the options every point shares (--p sets each one's --sparse).
void validateExploreOptions(const ExploreOptions &options);
/// Every cut x density, in cuts order then density order.
std::vector<ExplorePoint> explore(const Graph &pristine, const ExploreOptions &options);
/// explore.json and explore.svg.
FileSet exploreReport(const std::vector<ExplorePoint> &points, const ExploreOptions &options);

} // namespace odlc
