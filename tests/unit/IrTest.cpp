// IR: graph editing, the op table, shape rules, the verifier and the printer.
#include "Diagnostics.h"
#include "TestUtils.h"
#include "ir/OpRules.h"
#include "ir/OpTable.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <gtest/gtest.h>

using namespace odlc;
using namespace odlc::test;

namespace {

/// x[1,2,4,4] -> Relu -> y
Graph reluGraph() {
  Graph g;
  Tensor x;
  x.name = "x";
  x.kind = TensorKind::Input;
  x.shape = {1, 2, 4, 4};
  TensorId in = g.addTensor(x);
  g.inputs.push_back(in);
  TensorId out = g.addValue("y", {1, 2, 4, 4});
  Node n;
  n.name = "relu";
  n.op = OpKind::Relu;
  n.inputs = {in};
  n.outputs = {out};
  g.addNode(n);
  g.outputs.push_back(out);
  return g;
}

Node convNode(TensorId x, TensorId w, TensorId y) {
  Node n;
  n.name = "conv";
  n.op = OpKind::Conv;
  n.inputs = {x, w};
  n.outputs = {y};
  n.attrs.set("strides", std::vector<int64_t>{2, 2});
  n.attrs.set("dilations", std::vector<int64_t>{1, 1});
  n.attrs.set("pads", std::vector<int64_t>{1, 1, 0, 0});
  n.attrs.set("group", int64_t(1));
  return n;
}

} // namespace

TEST(OpTable, EveryOpHasARowWithItsName) {
  for (int i = 0; i < numOps(); ++i) {
    const OpInfo &info = opInfo(OpKind(i));
    OpKind back;
    ASSERT_TRUE(opKindFromName(info.name, back)) << info.name;
    EXPECT_EQ(int(back), i);
    EXPECT_NE(info.inferShapes, nullptr);
  }
}

TEST(Graph, ReplaceUsesAndCompactRenumber) {
  Graph g = reluGraph();
  TensorId extra = g.addValue("unused", {3});
  EXPECT_EQ(g.findTensor("unused"), extra);
  g.replaceAllUses(g.outputs[0], g.inputs[0]);
  g.nodes[0].dead = true;
  g.compact();
  EXPECT_TRUE(g.nodes.empty());
  EXPECT_EQ(g.tensors.size(), 1u); // only the input survives
  EXPECT_EQ(g.outputs[0], g.inputs[0]);
}

TEST(Graph, UniqueNamesAndUsers) {
  Graph g = reluGraph();
  EXPECT_EQ(g.uniqueTensorName("x"), "x_1");
  EXPECT_EQ(g.uniqueTensorName("z"), "z");
  EXPECT_EQ(g.users(g.inputs[0]), std::vector<NodeId>{0});
  EXPECT_EQ(g.producer(g.outputs[0]), 0);
  EXPECT_EQ(g.producer(g.inputs[0]), -1);
}

TEST(ShapeRules, ConvAndPoolWindows) {
  EXPECT_EQ(windowOutput(32, 1, 1, 3, 1, 1, false), 32);
  EXPECT_EQ(windowOutput(32, 1, 1, 3, 2, 1, false), 16);
  EXPECT_EQ(windowOutput(7, 0, 0, 3, 2, 2, false), 2);  // dilated span 5
  EXPECT_EQ(windowOutput(6, 0, 0, 3, 2, 1, false), 2);
  EXPECT_EQ(windowOutput(6, 0, 0, 3, 2, 1, true), 3);   // ceil_mode keeps the partial window
  Graph g;
  Tensor x;
  x.name = "x";
  x.kind = TensorKind::Input;
  x.shape = {1, 3, 9, 9};
  TensorId in = g.addTensor(x);
  TensorId w = g.addConstant("w", {4, 3, 3, 3}, std::vector<float>(108, 0.f));
  TensorId y = g.addValue("y", {1, 4, 4, 4});
  Node n = convNode(in, w, y);
  EXPECT_EQ(opInfo(OpKind::Conv).inferShapes(g, n)[0], (Shape{1, 4, 4, 4}));
  EXPECT_EQ(opInfo(OpKind::Conv).macs(g, n), 4 * 4 * 4 * 27);
}

TEST(ShapeRules, Broadcasting) {
  EXPECT_EQ(broadcastShapes({2, 1, 4}, {3, 1}, "t"), (Shape{2, 3, 4}));
  EXPECT_EQ(broadcastShapes({}, {5}, "t"), (Shape{5}));
  EXPECT_NE(errorOf([] { broadcastShapes({2, 3}, {4}, "here"); }).find("do not broadcast"),
            std::string::npos);
}

TEST(Verifier, AcceptsWellFormedGraph) { EXPECT_EQ(verifyGraph(reluGraph()), ""); }

TEST(Verifier, CatchesWrongOutputShape) {
  Graph g = reluGraph();
  g.tensor(g.outputs[0]).shape = {1, 2, 4, 5};
  EXPECT_NE(verifyGraph(g).find("has shape [1,2,4,5], the op gives [1,2,4,4]"),
            std::string::npos);
}

TEST(Verifier, CatchesUseBeforeDefinition) {
  Graph g = reluGraph();
  Node second = g.nodes[0];
  second.name = "second";
  second.inputs = {g.outputs[0]};
  second.outputs = {g.addValue("z", {1, 2, 4, 4})};
  g.addNode(second, 0); // now reads y before relu computes it
  EXPECT_NE(verifyGraph(g).find("before it is computed"), std::string::npos);
}

TEST(Verifier, CatchesArityAndDuplicateNames) {
  Graph g = reluGraph();
  g.nodes[0].inputs.push_back(g.inputs[0]);
  EXPECT_NE(verifyGraph(g).find("has 2 inputs"), std::string::npos);
  Graph h = reluGraph();
  h.tensors[1].name = "x";
  EXPECT_NE(verifyGraph(h).find("used twice"), std::string::npos);
}

TEST(Verifier, CatchesIntegerRunTimeTensor) {
  Graph g = reluGraph();
  g.tensor(g.outputs[0]).dtype = DType::I64;
  EXPECT_NE(verifyGraph(g).find("is not f32"), std::string::npos);
}

TEST(Printer, ShowsTypesAttributesAndDecisions) {
  Graph g = reluGraph();
  g.nodes[0].attrs.set("inplace", int64_t(0));
  g.tensor(g.outputs[0]).attrs.set("alias", std::string("x"));
  g.attrs.set("arena_bytes", int64_t(128));
  std::string text = printGraph(g);
  EXPECT_NE(text.find("graph @model(%x: f32[1,2,4,4]) -> (%y) {arena_bytes = 128}"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("%y: f32[1,2,4,4] = Relu(%x) {inplace = 0} [%y: {alias = \"x\"}]  // relu"),
            std::string::npos)
      << text;
  EXPECT_EQ(text, printGraph(g)); // deterministic
}

TEST(Attr, FormatsValues) {
  EXPECT_EQ(formatAttrValue(AttrValue(int64_t(3))), "3");
  EXPECT_EQ(formatAttrValue(AttrValue(1.0)), "1.0");
  EXPECT_EQ(formatAttrValue(AttrValue(std::vector<int64_t>{1, 2})), "[1, 2]");
  EXPECT_EQ(formatAttrValue(AttrValue(std::string("s"))), "\"s\"");
  AttrMap m;
  EXPECT_NE(errorOf([&] { m.getInt("missing"); }).find("missing attribute"), std::string::npos);
}
