/// \file Shape and cost rules referenced by the op table, plus shape helpers that importer,
/// passes and emitter share.
#pragma once

#include "ir/Graph.h"

#include <vector>

namespace odlc {

/// numpy/ONNX multidirectional broadcasting; throws a diagnostic when incompatible.
Shape broadcastShapes(const Shape &a, const Shape &b, const std::string &where);
/// Row-major strides of a dense tensor.
std::vector<int64_t> denseStrides(const Shape &shape);
/// Output extent of a sliding window (ONNX Conv/Pool formula).
int64_t windowOutput(int64_t in, int64_t padBegin, int64_t padEnd, int64_t kernel,
                     int64_t stride, int64_t dilation, bool ceilMode);

namespace rules {
std::vector<Shape> sameShape(const Graph &, const Node &);
std::vector<Shape> broadcastShape(const Graph &, const Node &);
std::vector<Shape> convShape(const Graph &, const Node &);
std::vector<Shape> gemmShape(const Graph &, const Node &);
std::vector<Shape> matMulShape(const Graph &, const Node &);
std::vector<Shape> globalPoolShape(const Graph &, const Node &);
std::vector<Shape> poolShape(const Graph &, const Node &);
std::vector<Shape> reduceShape(const Graph &, const Node &);
std::vector<Shape> flattenShape(const Graph &, const Node &);
std::vector<Shape> reshapeShape(const Graph &, const Node &);
std::vector<Shape> squeezeShape(const Graph &, const Node &);
std::vector<Shape> unsqueezeShape(const Graph &, const Node &);
std::vector<Shape> transposeShape(const Graph &, const Node &);
std::vector<Shape> concatShape(const Graph &, const Node &);
std::vector<Shape> splitShape(const Graph &, const Node &);
std::vector<Shape> sliceShape(const Graph &, const Node &);
std::vector<Shape> gatherShape(const Graph &, const Node &);
std::vector<Shape> padShape(const Graph &, const Node &);

// Training ops (TrainOpRules.cpp)
std::vector<Shape> xentShape(const Graph &, const Node &);
std::vector<Shape> noOutputs(const Graph &, const Node &);
std::vector<Shape> inputShapeAttr(const Graph &, const Node &);
std::vector<Shape> secondOperandShape(const Graph &, const Node &);
std::vector<Shape> gemmGradAShape(const Graph &, const Node &);
std::vector<Shape> channelGatherShape(const Graph &, const Node &);
std::vector<Shape> channelScatterShape(const Graph &, const Node &);
std::vector<Shape> convGradInputBlockShape(const Graph &, const Node &);
std::vector<Shape> gemmGradABlockShape(const Graph &, const Node &);
int64_t convGradInputBlockMacs(const Graph &, const Node &);
int64_t gemmGradABlockMacs(const Graph &, const Node &);
/// Floats of the weight chunk ConvGradInputBlock gathers: four input channels of W[O, :]
/// (depthwise: four channels) at a time.
int64_t convGradInputBlockScratch(const Graph &, const Node &);
int64_t convGradInputMacs(const Graph &, const Node &);
int64_t convUpdateMacs(const Graph &, const Node &);
int64_t gemmGradAMacs(const Graph &, const Node &);
int64_t gemmUpdateMacs(const Graph &, const Node &);

int64_t noMacs(const Graph &, const Node &);
int64_t convMacs(const Graph &, const Node &);
int64_t gemmMacs(const Graph &, const Node &);
int64_t matMulMacs(const Graph &, const Node &);
} // namespace rules

} // namespace odlc
