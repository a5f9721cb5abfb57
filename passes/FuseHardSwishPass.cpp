// fuse-hardswish: recognizes the decomposed hard-swish that exporters emit before opset 14,
//   x * HardSigmoid(x; alpha = 1/6, beta = 0.5)
//   x * Relu6(x + 3) / 6      (also as x * (Relu6(x + 3) / 6) and with * (1/6))
// and replaces it with one HardSwish node.
#include "Pass.h"
#include "PatternUtils.h"

#include <memory>

namespace odlc {

namespace {

bool isHardSigmoidOf(Graph &g, TensorId gate, TensorId x) {
  Node *hs = producerWithOp(g, gate, OpKind::HardSigmoid);
  return hs && hs->inputs[0] == x && hasSingleUse(g, gate) &&
         float(hs->attrs.getFloat("alpha")) == float(1.0 / 6.0) &&
         hs->attrs.getFloat("beta") == 0.5;
}

/// `r` is Relu6(x + 3) read only by the pattern; returns x or kNoTensor.
TensorId relu6PlusThreeInput(Graph &g, TensorId r) {
  Node *relu6 = producerWithOp(g, r, OpKind::Relu6);
  if (!relu6 || !hasSingleUse(g, r))
    return kNoTensor;
  TensorId sum = relu6->inputs[0];
  Node *add = producerWithOp(g, sum, OpKind::Add);
  if (!add || !hasSingleUse(g, sum))
    return kNoTensor;
  for (int i = 0; i < 2; ++i)
    if (isScalarConst(g, add->inputs[size_t(1 - i)], 3.0))
      return add->inputs[size_t(i)];
  return kNoTensor;
}

/// `node` divides by 6 or multiplies by 1/6; returns the other operand or kNoTensor.
TensorId sixthOf(Graph &g, const Node &node) {
  if (node.op == OpKind::Div && isScalarConst(g, node.inputs[1], 6.0))
    return node.inputs[0];
  if (node.op != OpKind::Mul)
    return kNoTensor;
  for (int i = 0; i < 2; ++i)
    if (isScalarConst(g, node.inputs[size_t(1 - i)], 1.0 / 6.0))
      return node.inputs[size_t(i)];
  return kNoTensor;
}

/// Marks the Relu6 producing `r` and the Add feeding it dead.
void killRelu6PlusThree(Graph &g, TensorId r) {
  Node &relu6 = g.nodes[size_t(g.producer(r))];
  g.nodes[size_t(g.producer(relu6.inputs[0]))].dead = true;
  relu6.dead = true;
}

void becomeHardSwish(Node &node, TensorId x) {
  node.op = OpKind::HardSwish;
  node.inputs = {x};
  node.attrs = AttrMap();
}

/// x * HardSigmoid(x)
bool matchHardSigmoidForm(Graph &g, Node &mul) {
  for (int i = 0; i < 2; ++i) {
    TensorId x = mul.inputs[size_t(i)], gate = mul.inputs[size_t(1 - i)];
    if (!isHardSigmoidOf(g, gate, x))
      continue;
    g.nodes[size_t(g.producer(gate))].dead = true;
    becomeHardSwish(mul, x);
    return true;
  }
  return false;
}

/// (x * Relu6(x + 3)) / 6
bool matchProductThenSixth(Graph &g, Node &outer) {
  TensorId product = sixthOf(g, outer);
  Node *mul = product == kNoTensor ? nullptr : producerWithOp(g, product, OpKind::Mul);
  if (!mul || !hasSingleUse(g, product))
    return false;
  for (int i = 0; i < 2; ++i) {
    TensorId x = mul->inputs[size_t(i)], r = mul->inputs[size_t(1 - i)];
    if (relu6PlusThreeInput(g, r) != x)
      continue;
    killRelu6PlusThree(g, r);
    mul->dead = true;
    becomeHardSwish(outer, x);
    return true;
  }
  return false;
}

/// x * (Relu6(x + 3) / 6)
bool matchSixthThenProduct(Graph &g, Node &mul) {
  for (int i = 0; i < 2; ++i) {
    TensorId x = mul.inputs[size_t(i)], scaled = mul.inputs[size_t(1 - i)];
    NodeId p = g.producer(scaled);
    if (p < 0 || !hasSingleUse(g, scaled))
      continue;
    Node &sixth = g.nodes[size_t(p)];
    TensorId r = sixthOf(g, sixth);
    if (r == kNoTensor || relu6PlusThreeInput(g, r) != x)
      continue;
    killRelu6PlusThree(g, r);
    sixth.dead = true;
    becomeHardSwish(mul, x);
    return true;
  }
  return false;
}

class FuseHardSwishPass : public Pass {
public:
  const char *name() const override { return "fuse-hardswish"; }

  PassResult run(Graph &g, PassContext &) override {
    bool changed = false;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      Node &node = g.nodes[i];
      if (node.dead)
        continue;
      if (node.op == OpKind::Mul &&
          (matchHardSigmoidForm(g, node) || matchSixthThenProduct(g, node))) {
        changed = true;
        continue;
      }
      if ((node.op == OpKind::Div || node.op == OpKind::Mul) && matchProductThenSixth(g, node))
        changed = true;
    }
    return changed ? PassResult::Changed : PassResult::Unchanged;
  }
};

} // namespace

std::unique_ptr<Pass> createFuseHardSwishPass() { return std::make_unique<FuseHardSwishPass>(); }

} // namespace odlc
