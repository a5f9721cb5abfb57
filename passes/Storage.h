/// \file Storage analysis for the memory planner: which tensors share a buffer (views, in-place
/// ops), where each buffer lives (caller's input/output, flash, arena) and when it is live.
/// Plain structs over the graph; the memory-plan pass turns the result into IR attributes.
#pragma once

#include "ir/Graph.h"

#include <vector>

namespace odlc {

enum class StorageKind { Input, Constant, Output, Arena };

struct StorageInfo {
  /// Per tensor: the tensor whose buffer it uses (itself for roots).
  std::vector<TensorId> root;
  /// Per root tensor: where its buffer lives.
  std::vector<StorageKind> kind;
  /// Per root: index among its function's outputs whose caller buffer it is (Output kind),
  /// else -1.
  std::vector<int> outputIndex;
  std::vector<int> outputFn; ///< per Output root: the function whose output it is
  /// Per root: first and last schedule step (node index) the buffer is live, inclusive.
  std::vector<int> first, last;
  /// Per node: operand index whose buffer the node overwrites in place, or -1.
  std::vector<int> inPlaceOperand;
};

StorageInfo analyzeStorage(const Graph &graph);

/// Largest sum of arena buffer sizes (rounded up to `alignment`) live at one step: what any
/// offset assignment needs at least for this schedule.
int64_t arenaLowerBound(const Graph &graph, int64_t alignment);

} // namespace odlc
