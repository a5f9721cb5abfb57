/// \file Memory levels: which arena buffers go to a small fast memory (Cortex-M7 DTCM, an RV32
/// L1 scratchpad). The hottest buffers (most kernel accesses per byte) go first, as long as the
/// fast level's buffers still plan within its capacity. A plain function over the planner's
/// structs, with the access counts from the graph.
#pragma once

#include "ir/Graph.h"
#include "solvers/BufferPlanner.h"

#include <set>
#include <vector>

namespace odlc {

/// Kernel element accesses per byte of each buffer's tensor (reads weighted by the reading
/// op's MACs, so a convolution's input counts once per MAC).
double accessesPerByte(const Graph &graph, TensorId root);

/// Ids of `buffers` to place in the fast level, hottest first, within `capacity` bytes.
std::set<int64_t> chooseFastBuffers(const Graph &graph, const std::vector<PlanBuffer> &buffers,
                                    int64_t capacity);

} // namespace odlc
