/// \file Small predicates the rewrite passes share.
#pragma once

#include "ir/Graph.h"

namespace odlc {

/// A constant with exactly one element equal to `value` (within float rounding).
bool isScalarConst(const Graph &g, TensorId id, double value);
/// Read by exactly one live node and not a graph output: safe to fold into that reader.
bool hasSingleUse(const Graph &g, TensorId id);
/// The live node producing `id` if it has op `op`, else nullptr.
Node *producerWithOp(Graph &g, TensorId id, OpKind op);
/// The operand of a binary node that is not `id` (kNoTensor if `id` is neither).
TensorId otherOperand(const Node &binary, TensorId id);

} // namespace odlc
