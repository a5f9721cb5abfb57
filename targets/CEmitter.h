/// \file The C emitter: turns a planned graph into the self-contained sources of OUT/ (the
/// model's header and code, its weights, and the runtime kernels it calls).
#pragma once

#include "ir/Graph.h"

#include <map>
#include <string>

namespace odlc {

struct TargetInfo;

struct EmitOptions {
  std::string name = "model"; ///< prefix of every public symbol and file name
  std::string source;         ///< model file name, for the header comment
  const TargetInfo *target = nullptr;
};

/// File name -> contents; ordered, so output is deterministic.
using FileSet = std::map<std::string, std::string>;

/// Requires the memory-plan pass to have run.
FileSet emitC(const Graph &graph, const EmitOptions &options);

/// `conv1.weight` -> `conv1_weight`: a C identifier fragment.
std::string cIdentifier(const std::string &name);

/// `model` -> `MODEL`: the prefix of the generated macros.
std::string upperCase(std::string text);

} // namespace odlc
