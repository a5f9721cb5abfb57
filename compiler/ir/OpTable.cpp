#include "ir/OpTable.h"

#include "Diagnostics.h"
#include "ir/GradBuilder.h"
#include "ir/OpRules.h"

#include <cstring>

namespace odlc {

namespace {

using namespace rules;

constexpr int kAny = 64;

// Keep this list in the order of Ops.def (checked by opInfo()).
const OpInfo kOpTable[] = {
    // name, min in, max in, outputs, shape rule, MACs, in place, view, gradient, mutates
    {"Conv", 2, 3, 1, convShape, convMacs, false, false, grads::conv},
    {"Gemm", 2, 3, 1, gemmShape, gemmMacs, false, false, grads::gemm},
    {"MatMul", 2, 2, 1, matMulShape, matMulMacs, false, false, grads::matMul},
    {"Relu", 1, 1, 1, sameShape, noMacs, true, false, grads::unary},
    {"Relu6", 1, 1, 1, sameShape, noMacs, true, false, grads::unary},
    {"Clip", 1, 1, 1, sameShape, noMacs, true, false, grads::unary},
    {"LeakyRelu", 1, 1, 1, sameShape, noMacs, true, false, grads::unary},
    {"Sigmoid", 1, 1, 1, sameShape, noMacs, true, false, grads::unary},
    {"HardSigmoid", 1, 1, 1, sameShape, noMacs, true, false, grads::unary},
    {"HardSwish", 1, 1, 1, sameShape, noMacs, true, false, grads::unary},
    {"Tanh", 1, 1, 1, sameShape, noMacs, true, false, grads::unary},
    {"Neg", 1, 1, 1, sameShape, noMacs, true, false},
    {"Exp", 1, 1, 1, sameShape, noMacs, true, false},
    {"Sqrt", 1, 1, 1, sameShape, noMacs, true, false},
    {"Abs", 1, 1, 1, sameShape, noMacs, true, false},
    {"Add", 2, 2, 1, broadcastShape, noMacs, true, false, grads::binary},
    {"Sub", 2, 2, 1, broadcastShape, noMacs, true, false, grads::binary},
    {"Mul", 2, 2, 1, broadcastShape, noMacs, true, false, grads::binary},
    {"Div", 2, 2, 1, broadcastShape, noMacs, true, false, grads::binary},
    {"GlobalAveragePool", 1, 1, 1, globalPoolShape, noMacs, false, false, grads::globalAveragePool},
    {"AveragePool", 1, 1, 1, poolShape, noMacs, false, false, grads::pool},
    {"MaxPool", 1, 1, 1, poolShape, noMacs, false, false, grads::pool},
    {"BatchNormalization", 5, 5, 1, sameShape, noMacs, true, false},
    {"ChannelAffine", 3, 3, 1, sameShape, noMacs, true, false, grads::channelAffine},
    {"Softmax", 1, 1, 1, sameShape, noMacs, true, false},
    {"ReduceMean", 1, 1, 1, reduceShape, noMacs, false, false, grads::reduceMean},
    {"Flatten", 1, 1, 1, flattenShape, noMacs, false, true, grads::view},
    {"Reshape", 1, 1, 1, reshapeShape, noMacs, false, true, grads::view},
    {"Squeeze", 1, 1, 1, squeezeShape, noMacs, false, true, grads::view},
    {"Unsqueeze", 1, 1, 1, unsqueezeShape, noMacs, false, true, grads::view},
    {"View", 1, 1, 1, reshapeShape, noMacs, false, true, grads::view},
    {"Transpose", 1, 1, 1, transposeShape, noMacs, false, false, grads::transpose},
    {"Concat", 1, kAny, 1, concatShape, noMacs, false, false, grads::concat},
    {"Split", 1, 1, -1, splitShape, noMacs, false, false, grads::split},
    {"Slice", 1, 1, 1, sliceShape, noMacs, false, false, grads::slice},
    {"Gather", 1, 1, 1, gatherShape, noMacs, false, false},
    {"Pad", 1, 1, 1, padShape, noMacs, false, false, grads::pad},
    {"Identity", 1, 1, 1, sameShape, noMacs, false, true},
    {"Dropout", 1, 1, 1, sameShape, noMacs, false, true},
    // training ops: inputs are listed in OpGradients.cpp where they are built
    {"SoftmaxCrossEntropy", 2, 2, 2, xentShape, noMacs, false, false},
    {"ConvGradInput", 2, 2, 1, inputShapeAttr, convGradInputMacs, false, false},
    {"ConvUpdate", 3, 6, 0, noOutputs, convUpdateMacs, false, false, nullptr, {2, 3, 4, 5}},
    {"GemmGradA", 2, 2, 1, gemmGradAShape, gemmGradAMacs, false, false},
    {"GemmUpdate", 3, 6, 0, noOutputs, gemmUpdateMacs, false, false, nullptr, {2, 3, 4, 5}},
    {"UnaryGrad", 2, 2, 1, secondOperandShape, noMacs, true, false},
    {"ReduceSum", 1, 1, 1, reduceShape, noMacs, false, false},
    {"MaxPoolGrad", 2, 2, 1, sameShape, noMacs, false, false},
    {"AvgPoolGrad", 1, 1, 1, inputShapeAttr, noMacs, false, false},
    {"GlobalAveragePoolGrad", 1, 1, 1, inputShapeAttr, noMacs, false, false},
    {"SliceGrad", 1, 1, 1, inputShapeAttr, noMacs, false, false},
    {"ChannelGather", 1, 1, 1, channelGatherShape, noMacs, false, false},
    {"ChannelScatter", 1, 1, 1, channelScatterShape, noMacs, false, false},
    {"BiasUpdate", 2, 3, 0, noOutputs, noMacs, false, false, nullptr, {1, 2}},
    {"ConvGradInputBlock", 2, 2, 2, convGradInputBlockShape, convGradInputBlockMacs, false, false},
    {"GemmGradABlock", 2, 2, 1, gemmGradABlockShape, gemmGradABlockMacs, false, false},
};

const char *const kOpNames[] = {
#define ODLC_OP(kind, name) name,
#include "ir/Ops.def"
};

static_assert(sizeof(kOpTable) / sizeof(kOpTable[0]) == sizeof(kOpNames) / sizeof(kOpNames[0]),
              "Ops.def and kOpTable differ in length");

} // namespace

const OpInfo &opInfo(OpKind kind) {
  const OpInfo &info = kOpTable[size_t(kind)];
  ODLC_ASSERT(std::strcmp(info.name, kOpNames[size_t(kind)]) == 0,
              "op table row {} is '{}' but Ops.def says '{}'", size_t(kind), info.name,
              kOpNames[size_t(kind)]);
  return info;
}

const char *opName(OpKind kind) { return kOpNames[size_t(kind)]; }

int numOps() { return int(sizeof(kOpNames) / sizeof(kOpNames[0])); }

bool opKindFromName(const std::string &name, OpKind &kind) {
  for (size_t i = 0; i < sizeof(kOpNames) / sizeof(kOpNames[0]); ++i) {
    if (name == kOpNames[i]) {
      kind = OpKind(i);
      return true;
    }
  }
  return false;
}

} // namespace odlc
