#include "import/OnnxOpImporters.h"

#include <cstring>

namespace odlc {

namespace {

struct OnnxOp {
  const char *name;
  OpImporter importer;
};

// Sorted by name: the supported-op list in diagnostics and the README comes from here.
const OnnxOp kOnnxOps[] = {
    {"Abs", importUnary},
    {"Add", importBinary},
    {"AveragePool", importAveragePool},
    {"BatchNormalization", importBatchNorm},
    {"Cast", importCast},
    {"Ceil", importRounding},
    {"Clip", importClip},
    {"Concat", importConcat},
    {"Constant", importConstant},
    {"ConstantOfShape", importConstantOfShape},
    {"Conv", importConv},
    {"Div", importBinary},
    {"Dropout", importDropout},
    {"Equal", importCompare},
    {"Exp", importUnary},
    {"Expand", importExpand},
    {"Flatten", importFlatten},
    {"Floor", importRounding},
    {"Gather", importGather},
    {"Gemm", importGemm},
    {"GlobalAveragePool", importGlobalAveragePool},
    {"Greater", importCompare},
    {"HardSigmoid", importUnary},
    {"HardSwish", importUnary},
    {"Identity", importIdentity},
    {"LeakyRelu", importUnary},
    {"Less", importCompare},
    {"MatMul", importMatMul},
    {"MaxPool", importMaxPool},
    {"Mul", importBinary},
    {"Neg", importUnary},
    {"Not", importNot},
    {"Pad", importPad},
    {"Range", importRange},
    {"ReduceMean", importReduceMean},
    {"Relu", importUnary},
    {"Reshape", importReshape},
    {"Shape", importShape},
    {"Sigmoid", importUnary},
    {"Size", importSize},
    {"Slice", importSlice},
    {"Softmax", importSoftmax},
    {"Split", importSplit},
    {"Sqrt", importUnary},
    {"Squeeze", importSqueeze},
    {"Sub", importBinary},
    {"Tanh", importUnary},
    {"Transpose", importTranspose},
    {"Unsqueeze", importUnsqueeze},
    {"Where", importWhere},
};

} // namespace

OpImporter findOpImporter(const std::string &opType) {
  for (const OnnxOp &op : kOnnxOps)
    if (opType == op.name)
      return op.importer;
  return nullptr;
}

std::vector<std::string> onnxOpNames() {
  std::vector<std::string> names;
  for (const OnnxOp &op : kOnnxOps)
    names.push_back(op.name);
  return names;
}

} // namespace odlc
