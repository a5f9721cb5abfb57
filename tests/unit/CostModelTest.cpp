// The cost model per target (targets/CostModel.h): stored tables, node classification and the
// instruction prediction. The check against fresh measurements is the qemu ctest
// cost_model_check_rv32imafc (bench/cost_model).
#include "targets/CostModel.h"
#include "targets/costs/CostTerms.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

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

/// The fused weight-gradient + SGD node of `conv`, as autodiff builds it.
Node updateOf(const Node &conv) {
  Node update;
  update.op = OpKind::ConvUpdate;
  update.inputs = {conv.inputs[0], conv.outputs[0], conv.inputs[1]};
  update.attrs = conv.attrs;
  return update;
}

} // namespace

TEST(CostModel, EveryMcuTargetHasAPlausibleCostForEveryKind) {
  ASSERT_GE(mcuTargets().size(), 3u);
  for (const TargetInfo *t : mcuTargets()) {
    for (int i = 0; i < numKernelKinds(); ++i) {
      const KernelCost *cost = kernelCost(*t, KernelKind(i), Precision::Fp32);
      ASSERT_NE(cost, nullptr) << t->name << " " << kernelKindName(KernelKind(i));
      // Non-negative least squares: every term costs something or nothing (c0, the call,
      // absorbs what the terms overcount at size 0 and may be negative); some term costs.
      double most = 0;
      for (int k = 1; k < kCostTerms; ++k) {
        EXPECT_GE(cost->c[k], 0.0) << t->name << " " << kernelKindName(KernelKind(i)) << " c" << k;
        most = std::max(most, cost->c[k]);
      }
      EXPECT_GT(most, 1.0) << t->name << " " << kernelKindName(KernelKind(i));
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
  Node update = updateOf(conv);
  Node relu;
  relu.op = OpKind::Relu;
  relu.inputs = {conv.outputs[0]};
  relu.outputs = {g.addValue("r", {1, 8, 8, 8})};
  Node flatten;
  flatten.op = OpKind::Flatten;
  EXPECT_EQ(classifyNode(g, gradInput), KernelKind::ConvDepthwiseGradInput);
  Node strided = gradInput;
  strided.attrs.set("strides", std::vector<int64_t>{2, 2});
  EXPECT_EQ(classifyNode(g, strided), KernelKind::ConvDepthwiseGradInputStrided);
  EXPECT_EQ(classifyNode(g, update), KernelKind::ConvDepthwiseUpdate);
  EXPECT_EQ(classifyNode(g, relu), KernelKind::Unary);
  EXPECT_EQ(costUnits(g, relu, KernelKind::Unary), 512);
  EXPECT_EQ(classifyNode(g, flatten), KernelKind::None);
  EXPECT_EQ(costUnits(g, update, KernelKind::ConvDepthwiseUpdate), 8 * 64 * 9);
}

TEST(CostModel, UpdatesAndSparsePiecesClassifyLikeTheRuntimeDispatch) {
  // bwd_weight_sgd: 4 x 4 channel blocks with >= 4 channels per group on both sides, else
  // weight by weight (the first layer's 1 or 3 input channels).
  for (auto [c, m, k, kind] :
       {std::tuple{8, 16, 3, KernelKind::ConvUpdate}, std::tuple{3, 16, 3, KernelKind::ConvUpdateNarrow},
        std::tuple{16, 8, 1, KernelKind::ConvPointwiseUpdate},
        std::tuple{16, 2, 1, KernelKind::ConvUpdateNarrow}}) {
    ConvCase t = convCase(c, m, k, 1);
    const Node &conv = t.g.nodes[t.node];
    EXPECT_EQ(classifyNode(t.g, updateOf(conv)), kind) << c << " -> " << m << " k" << k;
  }
  ConvCase c = convCase(8, 8, 3, 1);
  Graph &g = c.g;
  const Node &conv = g.nodes[c.node];
  Node gather;
  gather.op = OpKind::ChannelGather;
  gather.inputs = {conv.outputs[0]};
  gather.outputs = {g.addValue("kept", {1, 4, 8, 8})};
  Node scatter;
  scatter.op = OpKind::ChannelScatter;
  scatter.inputs = {gather.outputs[0]};
  scatter.outputs = {g.addValue("full", {1, 8, 8, 8})};
  Node bias;
  bias.op = OpKind::BiasUpdate;
  bias.inputs = {conv.outputs[0]};
  Node relu6;
  relu6.op = OpKind::Relu6;
  relu6.inputs = {conv.outputs[0]};
  relu6.outputs = {g.addValue("r6", {1, 8, 8, 8})};
  EXPECT_EQ(classifyNode(g, gather), KernelKind::ChannelGather);
  EXPECT_EQ(classifyNode(g, scatter), KernelKind::ChannelScatter);
  EXPECT_EQ(classifyNode(g, bias), KernelKind::BiasUpdate);
  EXPECT_EQ(classifyNode(g, relu6), KernelKind::UnaryClip);
  // The gather's terms: 4 kept channels of 64 elements copied, 4 planes, 1 row.
  double terms[kCostTerms];
  costTerms(g, gather, KernelKind::ChannelGather, terms);
  EXPECT_EQ(terms[0], 1);
  EXPECT_EQ(terms[1], 4 * 64);
  EXPECT_EQ(terms[2], 4);
  EXPECT_EQ(terms[3], 1);
}

TEST(CostModel, InstructionsAreTheCoefficientsTimesTheFirmwaresTerms) {
  // The compiler computes a node's terms from its geometry with the very function the
  // measuring firmware (bench/cost_model/cost_bench.c) uses for its shapes.
  const TargetInfo *rv32 = findTarget("rv32imafc");
  ASSERT_NE(rv32, nullptr);
  ConvCase c = convCase(16, 32, 3, 1, 14);
  const Node &n = c.g.nodes[c.node];
  const KernelCost *cost = kernelCost(*rv32, KernelKind::Conv, Precision::Fp32);
  ASSERT_NE(cost, nullptr);
  odlc_cost_geom geom = {1, 16, 14, 14, 32, 14, 14, 3, 3, 1, 1, 1, 1, 1, 0};
  double firmware[ODLC_COST_TERMS];
  odlc_cost_terms(ODLC_COST_Conv, &geom, firmware);
  double terms[kCostTerms];
  costTerms(c.g, n, KernelKind::Conv, terms);
  double expected = 0;
  for (int i = 0; i < kCostTerms; ++i) {
    EXPECT_DOUBLE_EQ(terms[i], firmware[i]) << "T" << i;
    expected += cost->c[i] * firmware[i];
  }
  EXPECT_DOUBLE_EQ(instructionsOf(c.g, n, *rv32), expected);
  // The blocked 3x3 conv retires a few instructions per MAC.
  const double macs = 32.0 * 14 * 14 * 16 * 9;
  EXPECT_GT(expected / macs, 2.0);
  EXPECT_LT(expected / macs, 8.0);
}
