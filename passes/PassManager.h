/// \file Runs the pipeline of Passes.def: verifies the IR after every pass, prints it when asked.
#pragma once

#include "Pass.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace odlc {

/// Names of all passes in pipeline order.
std::vector<std::string> passNames();
/// A fresh instance of the named pass, or nullptr.
std::unique_ptr<Pass> createPass(const std::string &name);

struct PassManagerOptions {
  /// Pass names after which to print the IR ("all" prints after every pass).
  std::vector<std::string> printAfter;
  /// Run the pipeline only up to and including this pass ("" = all).
  std::string stopAfter;
  /// Where the printed IR goes.
  std::function<void(const std::string &)> print;
};

/// Runs every pass of the pipeline. Throws a diagnostic when a pass fails or leaves the IR
/// malformed.
void runPipeline(Graph &graph, PassContext &context, const PassManagerOptions &options = {});
/// Runs one pass, then compacts and verifies.
PassResult runPass(Pass &pass, Graph &graph, PassContext &context);

} // namespace odlc
