// Importers for linear, elementwise, normalization and reduction ops.
#include "import/OnnxOpImporters.h"

#include "Diagnostics.h"
#include "ir/OpTable.h"

#include <algorithm>
#include <cfloat>

namespace odlc {

void importGemm(NodeImporter &n) {
  AttrMap attrs;
  attrs.set("alpha", double(n.attrFloat("alpha", 1.0f)));
  attrs.set("beta", double(n.attrFloat("beta", 1.0f)));
  attrs.set("transA", n.attrInt("transA", 0));
  attrs.set("transB", n.attrInt("transB", 0));
  n.emit(OpKind::Gemm, {n.input(0), n.input(1), n.optionalInput(2)}, attrs);
}

void importMatMul(NodeImporter &n) { n.emit(OpKind::MatMul, {n.input(0), n.input(1)}, {}); }

void importUnary(NodeImporter &n) {
  const std::string &type = n.proto().op_type();
  OpKind op;
  if (!opKindFromName(type, op))
    fail("{}: no IR op for {}", n.where(), type);
  AttrMap attrs;
  if (op == OpKind::LeakyRelu)
    attrs.set("alpha", double(n.attrFloat("alpha", 0.01f)));
  if (op == OpKind::HardSigmoid) {
    attrs.set("alpha", double(n.attrFloat("alpha", 0.2f)));
    attrs.set("beta", double(n.attrFloat("beta", 0.5f)));
  }
  n.emit(op, {n.input(0)}, attrs);
}

void importClip(NodeImporter &n) {
  double lo = -FLT_MAX, hi = FLT_MAX;
  if (n.opset() < 11) {
    lo = n.attrFloat("min", -FLT_MAX);
    hi = n.attrFloat("max", FLT_MAX);
  } else {
    if (n.hasInput(1))
      lo = n.constant(1, "the minimum").values.at(0);
    if (n.hasInput(2))
      hi = n.constant(2, "the maximum").values.at(0);
  }
  AttrMap attrs;
  attrs.set("min", lo);
  attrs.set("max", hi);
  n.emit(OpKind::Clip, {n.input(0)}, attrs);
}

void importBinary(NodeImporter &n) {
  OpKind op;
  opKindFromName(n.proto().op_type(), op);
  TensorId b = n.input(1);
  // Before opset 7, broadcasting was opt-in and aligned B at `axis` instead of at the end.
  if (n.opset() < 7 && n.attrInt("broadcast", 0) != 0 && n.hasAttr("axis")) {
    Shape a = n.shape(0);
    Shape bs = n.shape(1);
    int64_t axis = n.axis(n.attrInt("axis", 0), int64_t(a.size()));
    while (int64_t(bs.size()) < int64_t(a.size()) - axis)
      bs.push_back(1);
    b = n.reshape(b, bs);
  }
  n.emit(op, {n.input(0), b}, {});
}

void importBatchNorm(NodeImporter &n) {
  if (n.attrInt("training_mode", 0) != 0 || n.outputUsed(1) || n.outputUsed(2))
    n.rejectAttr("training_mode", "BatchNormalization in training mode is not supported");
  if (n.attrInt("spatial", 1) == 0)
    n.rejectAttr("spatial", "per-activation BatchNormalization (spatial=0) is not supported");
  Shape x = n.shape(0);
  if (x.size() < 2)
    fail("{}: input must have a channel dimension", n.where());
  static const char *names[] = {"", "the scale", "the bias", "the mean", "the variance"};
  for (size_t i = 1; i < 5; ++i) {
    n.constant(i, names[i]);
    if (n.shape(i) != Shape{x[1]})
      fail("{}: {} must have shape [{}]", n.where(), names[i], x[1]);
  }
  AttrMap attrs;
  attrs.set("epsilon", double(n.attrFloat("epsilon", 1e-5f)));
  n.emit(OpKind::BatchNormalization, {n.input(0), n.input(1), n.input(2), n.input(3), n.input(4)},
         attrs);
}

void importGlobalAveragePool(NodeImporter &n) {
  n.emit(OpKind::GlobalAveragePool, {n.input(0)}, {});
}

void importSoftmax(NodeImporter &n) {
  Shape x = n.shape(0);
  int64_t rank = int64_t(x.size());
  int64_t axis = n.axis(n.attrInt("axis", n.opset() < 13 ? 1 : -1), rank);
  AttrMap attrs;
  if (n.opset() >= 13 || axis == rank - 1) {
    attrs.set("axis", axis);
    n.emit(OpKind::Softmax, {n.input(0)}, attrs);
    return;
  }
  // Before opset 13, Softmax normalizes over all dimensions from `axis` on, flattened.
  Shape outer(x.begin(), x.begin() + axis), inner(x.begin() + axis, x.end());
  TensorId flat = n.reshape(n.input(0), {numElements(outer), numElements(inner)});
  attrs.set("axis", int64_t(1));
  TensorId y = n.emit(OpKind::Softmax, {flat}, attrs, -1);
  n.reshape(y, x, 0);
}

void importReduceMean(NodeImporter &n) {
  int64_t rank = int64_t(n.shape(0).size());
  std::vector<int64_t> axes = n.attrInts("axes", {});
  if (axes.empty())
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  for (int64_t &a : axes)
    a = n.axis(a, rank);
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  AttrMap attrs;
  attrs.set("axes", axes);
  attrs.set("keepdims", n.attrInt("keepdims", 1) != 0 ? int64_t(1) : int64_t(0));
  n.emit(OpKind::ReduceMean, {n.input(0)}, attrs);
}

} // namespace odlc
