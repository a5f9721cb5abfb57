/// \file Compile-time evaluation of IR nodes whose inputs are all constants (shape arithmetic,
/// weight transposes, index tables). Only cheap data-movement and elementwise ops fold; anything
/// else stays a run-time node, which is always correct.
#pragma once

#include "import/ConstValue.h"
#include "ir/Graph.h"

#include <vector>

namespace odlc {

/// The values of `value` broadcast (numpy rules) to `shape`, row-major.
std::vector<double> broadcastValues(const ConstValue &value, const Shape &shape);

/// True when `op` can be evaluated by foldNode().
bool isFoldable(OpKind op);

/// Evaluates `node` on `inputs` (one per node input, nullptr for an absent optional input).
std::vector<ConstValue> foldNode(const Node &node, const std::vector<const ConstValue *> &inputs,
                                 const std::vector<Shape> &outShapes);

} // namespace odlc
