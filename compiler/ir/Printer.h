/// \file Text form of the IR (`--print-ir-after`): one line per tensor declaration and per node,
/// attributes sorted, so golden FileCheck tests are stable.
#pragma once

#include "ir/Graph.h"

#include <string>

namespace odlc {

std::string printGraph(const Graph &graph);

} // namespace odlc
