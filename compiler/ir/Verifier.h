/// \file Structural and shape invariants of the IR, checked after import and after every pass.
#pragma once

#include "ir/Graph.h"

#include <string>

namespace odlc {

/// Empty when the graph is well formed; otherwise one line naming the first problem.
std::string verifyGraph(const Graph &graph);

} // namespace odlc
