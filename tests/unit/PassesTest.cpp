// Passes: each rewrite does what it says, and every transforming pass keeps numbers equal (the
// reference interpreter gives the same outputs before and after it).
#include "Diagnostics.h"
#include "Interpreter.h"
#include "LevelAssignment.h"
#include "PassManager.h"
#include "Storage.h"
#include "TestUtils.h"
#include "ir/Printer.h"
#include "solvers/BufferPlanner.h"

#include <gtest/gtest.h>

using namespace odlc;
using namespace odlc::test;

namespace {

/// Runs the passes before `pass`, then `pass`; expects a change and equal numbers.
Graph checkPass(OnnxBuilder &b, const std::string &pass) {
  Graph g = importModel(b);
  runPassesBefore(g, pass);
  Graph before = g;
  EXPECT_TRUE(runPasses(g, {pass})) << pass << " changed nothing:\n" << printGraph(g);
  EXPECT_LT(equivalenceError(before, g), 1e-6) << pass << " changed the numbers";
  return g;
}

void addBatchNorm(OnnxBuilder &b, const std::string &in, const std::string &out, int64_t c) {
  size_t n = size_t(c);
  std::vector<float> scale(n), bias(n), mean(n), var(n);
  for (int64_t i = 0; i < c; ++i) {
    scale[size_t(i)] = 0.5f + 0.1f * float(i);
    bias[size_t(i)] = -0.2f + 0.05f * float(i);
    mean[size_t(i)] = 0.3f - 0.07f * float(i);
    var[size_t(i)] = 0.6f + 0.2f * float(i);
  }
  b.initializer(out + "_s", {c}, scale).initializer(out + "_b", {c}, bias);
  b.initializer(out + "_m", {c}, mean).initializer(out + "_v", {c}, var);
  b.node("BatchNormalization", {in, out + "_s", out + "_b", out + "_m", out + "_v"}, {out});
}

} // namespace

TEST(FoldBatchNorm, FoldsIntoConvAndGemm) {
  OnnxBuilder b;
  b.input("x", {1, 2, 5, 5}).initializer("w", {3, 2, 3, 3}, ramp(54)).output("y");
  b.initializer("cb", {3}, {0.1f, -0.2f, 0.3f});
  b.node("Conv", {"x", "w", "cb"}, {"c"});
  addBatchNorm(b, "c", "bn", 3);
  b.node("Flatten", {"bn"}, {"f"});
  b.initializer("fw", {27, 4}, ramp(108)).node("Gemm", {"f", "fw"}, {"g"});
  addBatchNorm(b, "g", "y", 4);
  Graph g = checkPass(b, "fold-batchnorm");
  EXPECT_EQ(countOps(g, OpKind::BatchNormalization), 0);
  EXPECT_EQ(countOps(g, OpKind::ChannelAffine), 0);
}

TEST(FoldBatchNorm, KeepsSharedOrUnfoldableAsChannelAffine) {
  OnnxBuilder b;
  b.input("x", {1, 3, 4, 4}).output("y").output("z");
  b.node("Relu", {"x"}, {"r"});
  addBatchNorm(b, "r", "y", 3); // after Relu: nothing to fold into
  b.node("Sigmoid", {"r"}, {"z"});
  Graph g = checkPass(b, "fold-batchnorm");
  EXPECT_EQ(countOps(g, OpKind::ChannelAffine), 1);
}

TEST(RemoveIdentity, DropsIdentityAndDropout) {
  OnnxBuilder b;
  b.input("x", {1, 4}).output("y");
  b.node("Identity", {"x"}, {"i"});
  b.node("Relu", {"i"}, {"r"});
  b.node("Dropout", {"r"}, {"y"});
  Graph g = checkPass(b, "remove-identity");
  EXPECT_EQ(g.nodes.size(), 1u);
}

TEST(CanonicalizeClip, Relu6AndReluAndKeepsOthers) {
  OnnxBuilder b(11);
  b.input("x", {1, 8}).output("a").output("c").output("d");
  b.initializer("zero", {}, {0.f}).initializer("six", {}, {6.f}).initializer("one", {}, {1.f});
  b.node("Clip", {"x", "zero", "six"}, {"a"});
  b.node("Clip", {"x", "zero"}, {"c"});
  b.node("Clip", {"x", "zero", "one"}, {"d"});
  Graph g = checkPass(b, "canonicalize-clip");
  EXPECT_EQ(countOps(g, OpKind::Relu6), 1);
  EXPECT_EQ(countOps(g, OpKind::Relu), 1);
  EXPECT_EQ(countOps(g, OpKind::Clip), 1);
}

TEST(FuseHardSwish, AllThreeDecomposedForms) {
  OnnxBuilder b(13);
  b.input("x", {1, 16}).output("h1").output("h2").output("h3").output("gate");
  auto &hs = b.node("HardSigmoid", {"x"}, {"s"});
  setAttr(hs, "alpha", 1.0f / 6.0f);
  b.node("Mul", {"x", "s"}, {"h1"});
  b.initializer("three", {}, {3.f}).initializer("zero", {}, {0.f}).initializer("six", {}, {6.f});
  for (std::string k : {"2", "3"}) {
    b.node("Add", {"x", "three"}, {"p" + k});
    b.node("Clip", {"p" + k, "zero", "six"}, {"r" + k});
  }
  b.node("Mul", {"x", "r2"}, {"m2"});
  b.node("Div", {"m2", "six"}, {"h2"});
  b.node("Div", {"r3", "six"}, {"d3"});
  b.node("Mul", {"x", "d3"}, {"h3"});
  // Squeeze-excite gating multiplies *another* tensor by a hard sigmoid: not a hard-swish.
  auto &se = b.node("HardSigmoid", {"x"}, {"g"});
  setAttr(se, "alpha", 1.0f / 6.0f);
  b.node("Mul", {"g", "three"}, {"gate"});
  Graph g = checkPass(b, "fuse-hardswish");
  EXPECT_EQ(countOps(g, OpKind::HardSwish), 3) << printGraph(g);
  EXPECT_EQ(countOps(g, OpKind::HardSigmoid), 1);
}

TEST(LowerViews, ReshapeFamilyBecomesViews) {
  OnnxBuilder b(13);
  b.input("x", {1, 2, 3, 1}).output("y");
  b.initializerInts("ax", {1}, {3}).initializerInts("ax0", {1}, {0});
  b.node("Squeeze", {"x", "ax"}, {"s"});
  b.node("Unsqueeze", {"s", "ax0"}, {"u"});
  b.node("Flatten", {"u"}, {"f"});
  b.initializerInts("shape", {2}, {3, -1}).node("Reshape", {"f", "shape"}, {"y"});
  Graph g = checkPass(b, "lower-views");
  EXPECT_EQ(countOps(g, OpKind::View), 4);
}

TEST(MemoryPlan, InPlaceViewsOutputsAndNoOverlap) {
  OnnxBuilder b;
  b.input("x", {1, 2, 6, 6}).initializer("w", {4, 2, 3, 3}, ramp(72)).output("y");
  b.node("Conv", {"x", "w"}, {"c"});
  b.node("Relu", {"c"}, {"r"});
  b.initializer("w2", {4, 4, 1, 1}, ramp(16)).node("Conv", {"r", "w2"}, {"c2"});
  b.node("Add", {"c2", "r"}, {"a"});
  b.node("Flatten", {"a"}, {"y"});
  Graph g = checkPass(b, "memory-plan");
  const Node &relu = g.nodes[1];
  EXPECT_EQ(relu.attrs.getInt("inplace"), 0); // conv output dies at the relu
  const Node &add = g.nodes[3];
  EXPECT_EQ(add.attrs.getInt("inplace"), 0); // c2 dies at the Add and has the output's shape
  // The Add's result flows (through a view) into the graph output, so the whole chain from the
  // second Conv on is computed in the caller's output array.
  EXPECT_EQ(g.tensor(g.findTensor("c2")).attrs.getString("mem"), "output");
  EXPECT_EQ(g.tensor(g.findTensor("a")).attrs.getString("alias"), "c2");
  EXPECT_EQ(g.tensor(g.findTensor("y")).attrs.getString("alias"), "c2");
  // Every arena buffer pair live at once is disjoint.
  std::vector<PlanBuffer> buffers;
  for (const Tensor &t : g.tensors)
    if (t.attrs.getString("mem", "") == "arena")
      buffers.push_back({0, t.attrs.getInt("first"), t.attrs.getInt("last") + 1, t.bytes(), 8,
                         t.attrs.getInt("offset")});
  EXPECT_EQ(verifyPlan(buffers), "");
  EXPECT_EQ(g.attrs.getInt("arena_bytes"), planLowerBound(buffers));
}

TEST(MemoryPlan, BudgetIsAnError) {
  OnnxBuilder b;
  b.input("x", {1, 64, 32, 32}).output("y");
  b.node("Relu", {"x"}, {"r"}); // r cannot live in the input or output arrays
  setAttr(b.node("Transpose", {"r"}, {"y"}), "perm", std::vector<int64_t>{0, 2, 3, 1});
  Graph g = importModel(b);
  PassContext context;
  context.ramBudget = 1024;
  std::string m = errorOf([&] { runPipeline(g, context); });
  EXPECT_NE(m.find("the activation arena needs 262144 bytes but the RAM budget is 1024 bytes"),
            std::string::npos)
      << m;
}

TEST(Pipeline, WholePipelineKeepsNumbers) {
  OnnxBuilder b(11);
  b.input("x", {1, 3, 8, 8}).initializer("w", {6, 3, 3, 3}, ramp(162)).output("y");
  setAttr(b.node("Conv", {"x", "w"}, {"c"}), "pads", std::vector<int64_t>{1, 1, 1, 1});
  addBatchNorm(b, "c", "bn", 6);
  b.initializer("zero", {}, {0.f}).initializer("six", {}, {6.f});
  b.node("Clip", {"bn", "zero", "six"}, {"r6"});
  auto &mp = b.node("MaxPool", {"r6"}, {"p"});
  setAttr(mp, "kernel_shape", std::vector<int64_t>{3, 3});
  setAttr(mp, "strides", std::vector<int64_t>{2, 2});
  setAttr(mp, "ceil_mode", int64_t(1));
  b.node("GlobalAveragePool", {"p"}, {"gap"});
  b.node("Flatten", {"gap"}, {"f"});
  b.initializer("fw", {5, 6}, ramp(30)).initializer("fb", {5}, ramp(5));
  setAttr(b.node("Gemm", {"f", "fw", "fb"}, {"logits"}), "transB", int64_t(1));
  setAttr(b.node("Softmax", {"logits"}, {"y"}), "axis", int64_t(1));
  Graph g = importModel(b);
  Graph before = g;
  PassContext context;
  runPipeline(g, context);
  EXPECT_LT(equivalenceError(before, g), 1e-6);
}

namespace {

/// Four tensors of equal heat (a chain of Relus), as ids for made-up buffers: the fast level's
/// order is then the buffers' order.
std::vector<TensorId> equalHeatTensors(Graph &g) {
  OnnxBuilder b;
  b.input("x", {1, 4}).output("y");
  b.node("Relu", {"x"}, {"t1"});
  b.node("Relu", {"t1"}, {"t2"});
  b.node("Relu", {"t2"}, {"t3"});
  b.node("Relu", {"t3"}, {"t4"});
  b.node("Relu", {"t4"}, {"y"});
  g = importModel(b);
  return {g.findTensor("t1"), g.findTensor("t2"), g.findTensor("t3"), g.findTensor("t4")};
}

PlanBuffer madeUp(TensorId id, int64_t lower, int64_t upper, int64_t size) {
  PlanBuffer b;
  b.id = int64_t(id);
  b.lower = lower;
  b.upper = upper;
  b.size = size;
  return b;
}

} // namespace

TEST(LevelAssignment, FastLevelFollowsTheBudget) {
  Graph g;
  std::vector<TensorId> t = equalHeatTensors(g);
  // Steps 0-1: P (80 B) and Q (200 B), the peak of 280; steps 2-3: H1 and H2 (60 B each).
  std::vector<PlanBuffer> buffers = {madeUp(t[0], 0, 2, 80), madeUp(t[1], 0, 2, 200),
                                     madeUp(t[2], 2, 4, 60), madeUp(t[3], 2, 4, 60)};
  const int64_t capacity = 150;
  // No budget: every buffer that fits goes fast; the two levels then need 200 + 120 bytes.
  FastChoice free = chooseFastLevel(g, buffers, capacity, 0);
  EXPECT_EQ(free.policy, "hottest");
  EXPECT_EQ(free.ids, (std::set<int64_t>{t[0], t[2], t[3]}));
  EXPECT_EQ(chooseFastLevel(g, buffers, capacity, 320).policy, "hottest");
  // 300 bytes: P leaves the peak (200 + 80), then H1 still fits the budget, H2 does not.
  FastChoice peak = chooseFastLevel(g, buffers, capacity, 300);
  EXPECT_EQ(peak.policy, "peak");
  EXPECT_EQ(peak.ids, (std::set<int64_t>{t[0], t[2]}));
  // With P grown to 200 B, neither buffer at the peak fits the fast level: the hottest that fit
  // the budget ("fill"), or nothing.
  buffers[0].size = 200;
  FastChoice fill = chooseFastLevel(g, buffers, capacity, 460);
  EXPECT_EQ(fill.policy, "fill");
  EXPECT_EQ(fill.ids, (std::set<int64_t>{t[2]}));
  FastChoice none = chooseFastLevel(g, buffers, capacity, 400);
  EXPECT_EQ(none.policy, "none");
  EXPECT_TRUE(none.ids.empty());
  // Below one level's need nothing fits: the choice needing least, which is no split.
  EXPECT_EQ(chooseFastLevel(g, buffers, capacity, 399).policy, "none");
}
