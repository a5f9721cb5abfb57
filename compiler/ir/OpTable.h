/// \file The op table: every IR op defined once, with its arity, shape rule, cost and
/// properties. Autodiff (the gradient rule), the planner (in-place, views) and the cost model
/// all read it.
#pragma once

#include "ir/Graph.h"

#include <string>
#include <vector>

namespace odlc {

/// Output shapes of a node from its input shapes and attributes; throws a diagnostic naming the
/// node when the operands do not fit.
using ShapeRule = std::vector<Shape> (*)(const Graph &, const Node &);
/// Multiply-accumulates of one forward execution (0 for ops without MACs).
using MacsRule = int64_t (*)(const Graph &, const Node &);

class GradBuilder;
/// Emits the backward nodes of one forward node (see GradBuilder.h); nullptr: not
/// differentiable, an error when the node is in the trainable tail.
using GradRule = void (*)(GradBuilder &, const Node &);

struct OpInfo {
  const char *name;
  int minInputs;
  int maxInputs;
  int numOutputs; ///< -1: variable (Split)
  ShapeRule inferShapes;
  MacsRule macs;
  bool inPlace; ///< output may take the buffer of input 0 when input 0 dies here
  bool isView;  ///< output is input 0 reinterpreted: no data moves
  GradRule gradient = nullptr;
  std::vector<int> mutates = {}; ///< operands the op updates in place (weights, velocities)
};

const OpInfo &opInfo(OpKind kind);
const char *opName(OpKind kind);
int numOps();
/// Looks up an IR op by its printed name; false when there is none.
bool opKindFromName(const std::string &name, OpKind &kind);

} // namespace odlc
