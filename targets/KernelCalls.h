/// \file Lowering of one IR node to a call of a runtime kernel: the static parameter struct and
/// the call statement. Shared by the C emitter for every op; views emit nothing.
#pragma once

#include "ir/Graph.h"

#include <functional>
#include <string>
#include <vector>

namespace odlc {

struct KernelCall {
  std::vector<std::string> declarations; ///< static const definitions (parameters, index tables)
  std::vector<std::string> statements;   ///< the call(s)
  std::string runtimeFile;               ///< runtime source the kernel lives in
};

/// C expression of a tensor's data pointer.
using TensorRef = std::function<std::string(TensorId)>;

/// Lowers `node`; `symbol` prefixes the names of the static declarations it needs.
KernelCall lowerToKernel(const Graph &g, const Node &node, const std::string &symbol,
                         const TensorRef &ref);

/// A C float literal that reads back to exactly `value` as float (`1.5f`, `-0.0f`, `INFINITY`).
std::string cFloat(double value);

} // namespace odlc
