/// \file Helpers shared by the unit tests: import an in-memory ONNX model, run passes, count
/// ops.
#pragma once

#include "OnnxBuilder.h"

#include "Pass.h"
#include "ir/Graph.h"

#include <string>
#include <vector>

namespace odlc::test {

/// Imports the builder's model; diagnostics propagate as odlc::Error.
Graph importModel(OnnxBuilder &builder);
/// Runs the named passes in order (each verified); returns whether any changed the graph.
bool runPasses(Graph &graph, const std::vector<std::string> &names);
/// Runs every pipeline pass that comes before `pass`.
void runPassesBefore(Graph &graph, const std::string &pass);
int countOps(const Graph &graph, OpKind op);
/// The diagnostic text thrown by fn(), or "" when it does not throw.
template <typename Fn> std::string errorOf(Fn fn) {
  try {
    fn();
  } catch (const std::exception &e) {
    return e.what();
  }
  return "";
}

} // namespace odlc::test
