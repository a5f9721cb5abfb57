#include "ir/OpTable.h"

#include "Diagnostics.h"
#include "ir/OpRules.h"

#include <cstring>

namespace odlc {

namespace {

using namespace rules;

constexpr int kAny = 64;

// Keep this list in the order of Ops.def (checked by opInfo()).
const OpInfo kOpTable[] = {
    // name, min in, max in, outputs, shape rule, MACs, in place, view
    {"Conv", 2, 3, 1, convShape, convMacs, false, false},
    {"Gemm", 2, 3, 1, gemmShape, gemmMacs, false, false},
    {"MatMul", 2, 2, 1, matMulShape, matMulMacs, false, false},
    {"Relu", 1, 1, 1, sameShape, noMacs, true, false},
    {"Relu6", 1, 1, 1, sameShape, noMacs, true, false},
    {"Clip", 1, 1, 1, sameShape, noMacs, true, false},
    {"LeakyRelu", 1, 1, 1, sameShape, noMacs, true, false},
    {"Sigmoid", 1, 1, 1, sameShape, noMacs, true, false},
    {"HardSigmoid", 1, 1, 1, sameShape, noMacs, true, false},
    {"HardSwish", 1, 1, 1, sameShape, noMacs, true, false},
    {"Tanh", 1, 1, 1, sameShape, noMacs, true, false},
    {"Neg", 1, 1, 1, sameShape, noMacs, true, false},
    {"Exp", 1, 1, 1, sameShape, noMacs, true, false},
    {"Sqrt", 1, 1, 1, sameShape, noMacs, true, false},
    {"Abs", 1, 1, 1, sameShape, noMacs, true, false},
    {"Add", 2, 2, 1, broadcastShape, noMacs, true, false},
    {"Sub", 2, 2, 1, broadcastShape, noMacs, true, false},
    {"Mul", 2, 2, 1, broadcastShape, noMacs, true, false},
    {"Div", 2, 2, 1, broadcastShape, noMacs, true, false},
    {"GlobalAveragePool", 1, 1, 1, globalPoolShape, noMacs, false, false},
    {"AveragePool", 1, 1, 1, poolShape, noMacs, false, false},
    {"MaxPool", 1, 1, 1, poolShape, noMacs, false, false},
    {"BatchNormalization", 5, 5, 1, sameShape, noMacs, true, false},
    {"ChannelAffine", 3, 3, 1, sameShape, noMacs, true, false},
    {"Softmax", 1, 1, 1, sameShape, noMacs, true, false},
    {"ReduceMean", 1, 1, 1, reduceShape, noMacs, false, false},
    {"Flatten", 1, 1, 1, flattenShape, noMacs, false, true},
    {"Reshape", 1, 1, 1, reshapeShape, noMacs, false, true},
    {"Squeeze", 1, 1, 1, squeezeShape, noMacs, false, true},
    {"Unsqueeze", 1, 1, 1, unsqueezeShape, noMacs, false, true},
    {"View", 1, 1, 1, reshapeShape, noMacs, false, true},
    {"Transpose", 1, 1, 1, transposeShape, noMacs, false, false},
    {"Concat", 1, kAny, 1, concatShape, noMacs, false, false},
    {"Split", 1, 1, -1, splitShape, noMacs, false, false},
    {"Slice", 1, 1, 1, sliceShape, noMacs, false, false},
    {"Gather", 1, 1, 1, gatherShape, noMacs, false, false},
    {"Pad", 1, 1, 1, padShape, noMacs, false, false},
    {"Identity", 1, 1, 1, sameShape, noMacs, false, true},
    {"Dropout", 1, 1, 1, sameShape, noMacs, false, true},
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
