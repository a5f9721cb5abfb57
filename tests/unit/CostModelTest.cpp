// The cost model per target (targets/CostModel.h): stored tables, node classification and the
// instruction prediction. The check against fresh measurements is the qemu ctest
// cost_model_check_rv32imafc (bench/cost_model).
#include "targets/CostModel.h"

#include <gtest/gtest.h>

using namespace odlc;

namespace {

/// Conv x[1,c,s,s] * w[m, c/group, k, k] -> y[1,m,s,s] ("same" padding, stride 1).
struct ConvCase {
  Graph g;
  NodeId node;
};

ConvCase convCase(int64_t c, int64_t m, int64_t k, int64_t group, int64_t s = 8) {
  ConvCase t;
  TensorId x = t.g.addValue("x", {1, c, s, s});
  TensorId w = t.g.addConstant("w", {m, c / group, k, k},
                               std::vector<float>(size_t(m * (c / group) * k * k), 0.f));
  TensorId y = t.g.addValue("y", {1, m, s, s});
  Node n;
  n.name = "conv";
  n.op = OpKind::Conv;
  n.inputs = {x, w};
  n.outputs = {y};
  int64_t pad = k / 2;
  n.attrs.set("strides", std::vector<int64_t>{1, 1});
  n.attrs.set("dilations", std::vector<int64_t>{1, 1});
  n.attrs.set("pads", std::vector<int64_t>{pad, pad, pad, pad});
  n.attrs.set("group", group);
  t.node = t.g.addNode(n);
  return t;
}

std::vector<const TargetInfo *> mcuTargets() {
  std::vector<const TargetInfo *> mcus;
  for (const TargetInfo &t : allTargets())
    if (!t.isHost)
      mcus.push_back(&t);
  return mcus;
}

} // namespace

TEST(CostModel, EveryMcuTargetHasAPlausibleCostForEveryKind) {
  ASSERT_GE(mcuTargets().size(), 3u);
  for (const TargetInfo *t : mcuTargets()) {
    for (int i = 0; i < numKernelKinds(); ++i) {
      const KernelCost *cost = kernelCost(*t, KernelKind(i), Precision::Fp32);
      ASSERT_NE(cost, nullptr) << t->name << " " << kernelKindName(KernelKind(i));
      // Elementwise kinds cost a few instructions per element, softmax-xent ~100 per logit
      // (exp, log); MAC kinds 1 to 50.
      double most = KernelKind(i) == KernelKind::SoftmaxXent ? 300 : 50;
      EXPECT_GT(cost->perMac, 1.0) << t->name << " " << kernelKindName(KernelKind(i));
      EXPECT_LT(cost->perMac, most) << t->name << " " << kernelKindName(KernelKind(i));
    }
  }
}

TEST(CostModel, HostHasNoCostModelAndFallsBackToMacs) {
  const TargetInfo *host = findTarget("host");
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(kernelCost(*host, KernelKind::Conv, Precision::Fp32), nullptr);
  ConvCase c = convCase(4, 8, 3, 1);
  EXPECT_EQ(instructionsOf(c.g, c.g.nodes[c.node], *host), 8 * 8 * 8 * 4 * 9);
}

TEST(CostModel, KindNamesRoundTrip) {
  for (int i = 0; i < numKernelKinds(); ++i) {
    KernelKind back;
    ASSERT_TRUE(kernelKindFromName(kernelKindName(KernelKind(i)), back));
    EXPECT_EQ(int(back), i);
  }
  KernelKind unused;
  EXPECT_FALSE(kernelKindFromName("conv3d", unused));
}

TEST(CostModel, ConvNodesClassifyLikeTheRuntimeDispatch) {
  ConvCase standard = convCase(4, 8, 3, 1);
  ConvCase depthwise = convCase(8, 8, 3, 8);
  ConvCase pointwise = convCase(8, 16, 1, 1);
  ConvCase multiplier = convCase(4, 8, 3, 4); // group == c but 2 outputs per group
  EXPECT_EQ(classifyNode(standard.g, standard.g.nodes[standard.node]), KernelKind::Conv);
  EXPECT_EQ(classifyNode(depthwise.g, depthwise.g.nodes[depthwise.node]),
            KernelKind::ConvDepthwise);
  EXPECT_EQ(classifyNode(pointwise.g, pointwise.g.nodes[pointwise.node]),
            KernelKind::ConvPointwise);
  EXPECT_EQ(classifyNode(multiplier.g, multiplier.g.nodes[multiplier.node]), KernelKind::Conv);
}

TEST(CostModel, BackwardAndElementwiseNodesClassify) {
  ConvCase c = convCase(8, 8, 3, 8);
  Graph &g = c.g;
  const Node &conv = g.nodes[c.node];
  Node gradInput;
  gradInput.op = OpKind::ConvGradInput;
  gradInput.inputs = {conv.outputs[0], conv.inputs[1]};
  gradInput.outputs = {g.addValue("dx", {1, 8, 8, 8})};
  gradInput.attrs = conv.attrs;
  gradInput.attrs.set("input_shape", std::vector<int64_t>{1, 8, 8, 8});
  Node update;
  update.op = OpKind::ConvUpdate;
  update.inputs = {conv.inputs[0], conv.outputs[0], conv.inputs[1]};
  update.attrs = conv.attrs;
  Node relu;
  relu.op = OpKind::Relu;
  relu.inputs = {conv.outputs[0]};
  relu.outputs = {g.addValue("r", {1, 8, 8, 8})};
  Node flatten;
  flatten.op = OpKind::Flatten;
  EXPECT_EQ(classifyNode(g, gradInput), KernelKind::ConvDepthwiseGradInput);
  EXPECT_EQ(classifyNode(g, update), KernelKind::ConvDepthwiseUpdate);
  EXPECT_EQ(classifyNode(g, relu), KernelKind::Unary);
  EXPECT_EQ(costUnits(g, relu, KernelKind::Unary), 512);
  EXPECT_EQ(classifyNode(g, flatten), KernelKind::None);
  EXPECT_EQ(costUnits(g, update, KernelKind::ConvDepthwiseUpdate), 8 * 64 * 9);
}

TEST(CostModel, InstructionsArePerCallPlusPerMacTimesMacs) {
  const TargetInfo *rv32 = findTarget("rv32imafc");
  ASSERT_NE(rv32, nullptr);
  ConvCase c = convCase(16, 32, 3, 1, 14);
  const Node &n = c.g.nodes[c.node];
  const KernelCost *cost = kernelCost(*rv32, KernelKind::Conv, Precision::Fp32);
  ASSERT_NE(cost, nullptr);
  const double macs = 32.0 * 14 * 14 * 16 * 9;
  EXPECT_DOUBLE_EQ(instructionsOf(c.g, n, *rv32), cost->perCall + cost->perMac * macs);
}
