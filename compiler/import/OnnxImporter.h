/// \file ONNX import: parse, check and shape-infer with libonnx, then lower every node into the
/// IR, folding shape and constant subgraphs on the way.
#pragma once

#include "ir/Graph.h"

#include <map>
#include <string>
#include <vector>

namespace onnx {
class ModelProto;
}

namespace odlc {

struct ImportOptions {
  /// Static shapes for inputs with dynamic dimensions (`--input-shape`); key "" means "the only
  /// input".
  std::map<std::string, Shape> inputShapes;
};

/// Reads and imports a model file; every problem is a diagnostic (odlc::Error).
Graph importOnnxFile(const std::string &path, const ImportOptions &options = {});
/// Imports a model already in memory; `displayName` names it in diagnostics.
Graph importOnnxModel(onnx::ModelProto &model, const std::string &displayName,
                      const ImportOptions &options = {});

/// ONNX op types odlc imports (run-time ops and ops folded at compile time), sorted.
std::vector<std::string> supportedOnnxOps();

/// Lowest and highest default-domain opset the importer accepts.
constexpr int kMinOpset = 6;
constexpr int kMaxOpset = 17;

} // namespace odlc
