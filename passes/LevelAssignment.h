/// \file Memory levels: which arena buffers go to a small fast memory (Cortex-M7 DTCM, an RV32
/// L1 scratchpad). The hottest buffers (most kernel accesses per byte) go first, as long as the
/// fast level's buffers still plan within its capacity. When that split does not fit the RAM
/// budget, buffers live at the main level's peak go there instead (it lowers the peak), and
/// failing that the fast level stays empty. Plain functions over the planner's structs, with
/// the access counts from the graph.
#pragma once

#include "ir/Graph.h"
#include "solvers/BufferPlanner.h"

#include <set>
#include <string>
#include <vector>

namespace odlc {

/// Kernel element accesses per byte of each buffer's tensor (reads weighted by the reading
/// op's MACs, so a convolution's input counts once per MAC).
double accessesPerByte(const Graph &graph, TensorId root);

/// Ids of `buffers` to place in the fast level, hottest first, within `capacity` bytes.
std::set<int64_t> chooseFastBuffers(const Graph &graph, const std::vector<PlanBuffer> &buffers,
                                    int64_t capacity);

/// The fast level's buffers and why: "hottest" (speed first), "peak" (buffers live at the main
/// level's peak, to fit the budget, then the hottest others the budget leaves room for),
/// "fill" (no buffer at the peak fits the fast level: only the hottest that keep the budget)
/// or "none" (the budget fits only without the split).
struct FastChoice {
  std::set<int64_t> ids;
  std::string policy;
};

/// The hottest split when both levels' arenas together fit `arenaBudget` bytes (0: no
/// budget); otherwise the first of "peak" (or "fill"), the peak's buffers alone and "none"
/// that fits, or the one needing least.
FastChoice chooseFastLevel(const Graph &graph, const std::vector<PlanBuffer> &buffers,
                           int64_t capacity, int64_t arenaBudget);

} // namespace odlc
