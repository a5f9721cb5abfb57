#include "PatternUtils.h"

#include <cmath>

namespace odlc {

bool isScalarConst(const Graph &g, TensorId id, double value) {
  if (id == kNoTensor)
    return false;
  const Tensor &t = g.tensor(id);
  if (!t.isConstant() || t.elements() != 1)
    return false;
  double v = t.dtype == DType::F32 ? double(t.floats[0]) : double(t.ints[0]);
  return std::fabs(v - value) <= 1e-6 * std::fabs(value) + 1e-12;
}

bool hasSingleUse(const Graph &g, TensorId id) {
  if (g.isGraphOutput(id))
    return false;
  std::vector<NodeId> users = g.users(id);
  if (users.size() != 1)
    return false;
  int reads = 0;
  for (TensorId in : g.nodes[size_t(users[0])].inputs)
    reads += in == id;
  return reads == 1;
}

Node *producerWithOp(Graph &g, TensorId id, OpKind op) {
  NodeId p = g.producer(id);
  if (p < 0 || g.nodes[size_t(p)].op != op)
    return nullptr;
  return &g.nodes[size_t(p)];
}

TensorId otherOperand(const Node &binary, TensorId id) {
  if (binary.inputs.size() != 2)
    return kNoTensor;
  if (binary.inputs[0] == id)
    return binary.inputs[1];
  if (binary.inputs[1] == id)
    return binary.inputs[0];
  return kNoTensor;
}

} // namespace odlc
