/// \file The compile flow behind `odlc compile`: import, run the pass pipeline, emit C and the
/// memory-plan report, write OUT/ atomically. Used by the CLI and by tests.
#pragma once

#include "Cuts.h"
#include "Pass.h"
#include "import/OnnxImporter.h"
#include "targets/CEmitter.h"
#include "targets/PlanReport.h"

#include <string>
#include <vector>

namespace odlc {

struct CompileOptions {
  std::string model;          ///< path to the .onnx file
  std::string outDir;         ///< "" = do not write files
  std::string target = "host";
  std::string name = "model"; ///< C prefix
  ImportOptions import;
  int64_t ramBudget = 0;   ///< bytes, 0 = the target's RAM
  int64_t flashBudget = 0; ///< bytes, 0 = the target's flash
  std::vector<std::string> printAfter;
  std::string stopAfter;
  TrainOptions train;
};

struct CompileResult {
  FileSet files;     ///< empty when the pipeline stopped early
  PlanSummary plan;
  std::string printedIr;
};

/// Checks flags that do not need the model (target, name, pass names).
void validateOptions(const CompileOptions &options);
/// The pass context the options ask for: target, budgets and training flags.
PassContext passContextFor(const CompileOptions &options);
/// What planning the whole program with `options` gives: whether it fits the RAM and flash
/// budgets, the RAM it needs (-1 when it fails for another reason than the RAM budget) and,
/// over the RAM budget, its largest buffers.
struct TrialPlan {
  bool fits = false;
  int64_t ramBytes = -1;
  std::string largest;
};
TrialPlan tryPlan(const Graph &pristine, const CompileOptions &options);
/// Compiles an already imported graph.
CompileResult compileGraph(Graph &graph, const CompileOptions &options);
/// Imports options.model and compiles it.
CompileResult compileModel(const CompileOptions &options);
/// The latent-replay cuts of `graph` after the passes before replay-cut, as `odlc cuts` lists
/// them (graph order, the input first).
std::vector<CutInfo> listCuts(Graph graph, int64_t batch);
/// Writes `files` into `outDir`: all or nothing, never touching a directory odlc did not make.
void writeOutputDir(const FileSet &files, const std::string &outDir);

/// `262144`, `256K`, `256KiB`, `1M`, `1MiB` -> bytes; a diagnostic naming `flag` otherwise.
/// 0 is refused; `leftOut` tells what leaving the flag out means.
int64_t parseSize(const std::string &text, const std::string &flag,
                  const std::string &leftOut = "to use the whole target");
/// `x=1,3,32,32` or `1,3,32,32` -> (name, shape).
std::pair<std::string, Shape> parseInputShape(const std::string &text);

} // namespace odlc
