// ONNX import: attribute normalization, constant folding of shape subgraphs, opset differences
// and diagnostics for bad input.
#include "Diagnostics.h"
#include "Interpreter.h"
#include "TestUtils.h"
#include "import/OnnxImporter.h"
#include "ir/Printer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <limits>

using namespace odlc;
using namespace odlc::test;

namespace {

const Node &onlyNode(const Graph &g, OpKind op) {
  for (const Node &n : g.nodes)
    if (n.op == op)
      return n;
  throw std::runtime_error(std::string("no node ") + "in graph:\n" + printGraph(g));
}

/// x[1,2,5,5] -> Conv(w[3,2,3,3]) with the given auto_pad and stride 2.
OnnxBuilder convModel(const std::string &autoPad) {
  OnnxBuilder b;
  b.input("x", {1, 2, 5, 5}).initializer("w", {3, 2, 3, 3}, ramp(54)).output("y");
  auto &n = b.node("Conv", {"x", "w"}, {"y"});
  setAttr(n, "auto_pad", autoPad);
  setAttr(n, "strides", std::vector<int64_t>{2, 2});
  return b;
}

std::string writeTemp(const std::string &name, const std::string &bytes) {
  std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

} // namespace

TEST(Importer, AutoPadSameUpperAndLower) {
  OnnxBuilder upper = convModel("SAME_UPPER"), lower = convModel("SAME_LOWER");
  // in 5, stride 2 -> out 3; total padding (3-1)*2+3-5 = 2 -> 1 + 1 for both.
  EXPECT_EQ(onlyNode(importModel(upper), OpKind::Conv).attrs.getInts("pads"),
            (std::vector<int64_t>{1, 1, 1, 1}));
  OnnxBuilder odd;
  odd.input("x", {1, 1, 4, 4}).initializer("w", {1, 1, 2, 2}, ramp(4)).output("y");
  setAttr(odd.node("Conv", {"x", "w"}, {"y"}), "auto_pad", std::string("SAME_LOWER"));
  // in 4, stride 1, kernel 2 -> total 1: SAME_LOWER puts the extra pad at the beginning.
  EXPECT_EQ(onlyNode(importModel(odd), OpKind::Conv).attrs.getInts("pads"),
            (std::vector<int64_t>{1, 1, 0, 0}));
  EXPECT_EQ(importModel(lower).tensor(importModel(lower).outputs[0]).shape,
            (Shape{1, 3, 3, 3}));
}

TEST(Importer, FoldsShapeSubgraphIntoStaticReshape) {
  // y = Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])): a flatten as exporters emit.
  OnnxBuilder b(13);
  b.input("x", {2, 3, 4}).output("y", {2, 12});
  b.initializerInts("zero", {}, {0}).initializerInts("axes", {1}, {0});
  b.initializerInts("minus1", {1}, {-1});
  b.node("Shape", {"x"}, {"s"});
  b.node("Gather", {"s", "zero"}, {"n"});
  b.node("Unsqueeze", {"n", "axes"}, {"n1"});
  setAttr(b.node("Concat", {"n1", "minus1"}, {"shape"}), "axis", int64_t(0));
  b.node("Reshape", {"x", "shape"}, {"y"});
  Graph g = importModel(b);
  ASSERT_EQ(g.nodes.size(), 1u) << printGraph(g);
  EXPECT_EQ(g.nodes[0].op, OpKind::Reshape);
  EXPECT_EQ(g.nodes[0].attrs.getInts("shape"), (std::vector<int64_t>{2, 12}));
}

TEST(Importer, Conv1dBecomes2dBetweenViews) {
  OnnxBuilder b;
  b.input("x", {1, 2, 7}).initializer("w", {3, 2, 3}, ramp(18)).output("y");
  setAttr(b.node("Conv", {"x", "w"}, {"y"}), "pads", std::vector<int64_t>{1, 1});
  Graph g = importModel(b);
  EXPECT_EQ(countOps(g, OpKind::Conv), 1);
  EXPECT_EQ(g.tensor(g.outputs[0]).shape, (Shape{1, 3, 7}));
  // Check one output against a direct 1-D convolution.
  Buffer x = randomBuffer(14, 3);
  Buffer y = interpret(g, {x})[0];
  std::vector<float> w = ramp(18);
  double expected = 0; // channel 1, position 0 (reads x[-1..1], x[-1] is padding)
  for (int c = 0; c < 2; ++c)
    for (int k = 1; k < 3; ++k)
      expected += x[size_t(c * 7 + k - 1)] * double(w[size_t((1 * 2 + c) * 3 + k)]);
  EXPECT_NEAR(y[7], expected, 1e-6);
}

TEST(Importer, SliceNormalizesNegativeAndClampedBounds) {
  OnnxBuilder b(13);
  b.input("x", {4, 6}).output("y");
  int64_t big = std::numeric_limits<int64_t>::max();
  b.initializerInts("starts", {2}, {-1, 1}).initializerInts("ends", {2}, {-big, big});
  b.initializerInts("axes", {2}, {0, 1}).initializerInts("steps", {2}, {-2, 2});
  b.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"y"});
  Graph g = importModel(b);
  const Node &s = onlyNode(g, OpKind::Slice);
  EXPECT_EQ(s.attrs.getInts("starts"), (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(s.attrs.getInts("steps"), (std::vector<int64_t>{-2, 2}));
  EXPECT_EQ(s.attrs.getInts("sizes"), (std::vector<int64_t>{2, 3})); // rows 3,1; cols 1,3,5
}

TEST(Importer, OldSoftmaxCoercesTo2d) {
  OnnxBuilder b(11);
  b.input("x", {2, 3, 4}).output("y");
  setAttr(b.node("Softmax", {"x"}, {"y"}), "axis", int64_t(1));
  Graph g = importModel(b);
  Buffer y = interpret(g, {randomBuffer(24, 5)})[0];
  double sum = 0;
  for (int i = 0; i < 12; ++i) // normalized over the 12 values of each batch row
    sum += y[size_t(i)];
  EXPECT_NEAR(sum, 1.0, 1e-9);
}

TEST(Importer, LegacyBroadcastAlignsAtAxis) {
  OnnxBuilder b(6);
  b.input("x", {1, 3, 2, 2}).initializer("bias", {3}, {1.f, 2.f, 3.f}).output("y");
  auto &add = b.node("Add", {"x", "bias"}, {"y"});
  setAttr(add, "broadcast", int64_t(1));
  setAttr(add, "axis", int64_t(1));
  Graph g = importModel(b);
  Buffer y = interpret(g, {Buffer(12, 0.0)})[0];
  EXPECT_EQ(y[0], 1.0);
  EXPECT_EQ(y[4], 2.0);
  EXPECT_EQ(y[11], 3.0);
}

TEST(Importer, GatherNormalizesNegativeIndices) {
  OnnxBuilder b;
  b.input("x", {5, 2}).initializerInts("i", {2}, {-1, 0}).output("y");
  b.node("Gather", {"x", "i"}, {"y"});
  Graph g = importModel(b);
  EXPECT_EQ(onlyNode(g, OpKind::Gather).attrs.getInts("indices"), (std::vector<int64_t>{4, 0}));
}

TEST(ImporterErrors, UnsupportedOpNamesOpNodeAndSupportedList) {
  OnnxBuilder b;
  b.input("x", {1, 4}).output("y");
  b.node("Erf", {"x"}, {"y"}, "my_erf");
  try {
    importModel(b);
    FAIL() << "no error";
  } catch (const Error &e) {
    std::string m = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
    EXPECT_NE(m.find("node 'my_erf' (Erf): op Erf is not supported"), std::string::npos) << m;
    EXPECT_NE(m.find("supported ops: Abs, Add,"), std::string::npos) << m;
  }
}

TEST(ImporterErrors, DynamicDimensionSuggestsInputShape) {
  OnnxBuilder b;
  b.input("x", {-1, 4}).output("y");
  b.node("Relu", {"x"}, {"y"});
  std::string m = errorOf([&] { importModel(b); });
  EXPECT_NE(m.find("input 'x' has a dynamic dimension 0 ('batch')"), std::string::npos) << m;
  EXPECT_NE(m.find("--input-shape x="), std::string::npos) << m;
  onnx::ModelProto model = b.finish();
  ImportOptions options;
  options.inputShapes["x"] = {2, 4};
  EXPECT_EQ(importOnnxModel(model, "m", options).tensor(0).shape, (Shape{2, 4}));
  options.inputShapes.clear();
  options.inputShapes["nope"] = {2, 4};
  onnx::ModelProto again = b.finish();
  EXPECT_NE(errorOf([&] { importOnnxModel(again, "m", options); }).find("not an input"),
            std::string::npos);
}

TEST(ImporterErrors, OpsetOutOfRange) {
  OnnxBuilder b(5);
  b.input("x", {1, 4}).output("y");
  b.node("Relu", {"x"}, {"y"});
  EXPECT_NE(errorOf([&] { importModel(b); }).find("uses ONNX opset 5; odlc imports opsets 6 to 17"),
            std::string::npos);
}

TEST(ImporterErrors, MissingGarbageAndEveryTruncationAreDiagnostics) {
  EXPECT_NE(errorOf([] { importOnnxFile("/nonexistent/model.onnx"); }).find("cannot open model"),
            std::string::npos);
  std::string garbage = writeTemp("garbage.onnx", "this is not a model\n");
  EXPECT_NE(errorOf([&] { importOnnxFile(garbage); }).find("is not an ONNX model"),
            std::string::npos);
  OnnxBuilder b = convModel("NOTSET");
  std::string bytes = b.bytes();
  for (size_t cut = 0; cut < bytes.size(); cut += 7) {
    std::string path = writeTemp("trunc.onnx", bytes.substr(0, cut));
    try {
      importOnnxFile(path);
    } catch (const Error &e) {
      EXPECT_NE(e.kind(), ErrorKind::Internal) << "cut " << cut << ": " << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
      continue;
    }
    // A prefix that happens to be a complete model is fine; it must then verify.
  }
  std::remove(garbage.c_str());
}
