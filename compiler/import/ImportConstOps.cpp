// Importers for ops that only compute constants (shape arithmetic, casts, masks). They fold at
// compile time; on run-time data they are an explained "unsupported".
#include "import/OnnxOpImporters.h"

#include "Diagnostics.h"
#include "import/ConstFold.h"
#include "ir/OpRules.h"

#include <cmath>

namespace odlc {

namespace {

ConstValue known(NodeImporter &n, size_t i) {
  if (!n.isConst(i))
    unsupported("{}: {} is computed from run-time data; odlc only evaluates it at compile time "
                "(shape computations)",
                n.where(), n.proto().op_type());
  return loadConst(n.graph().tensor(n.input(i)));
}

bool isFloatType(int64_t onnxType) {
  return onnxType == onnx::TensorProto::FLOAT || onnxType == onnx::TensorProto::DOUBLE ||
         onnxType == onnx::TensorProto::FLOAT16;
}

ConstValue scalar(bool isFloat, double v) { return {isFloat, {}, {v}}; }

/// Shapes computed at compile time must stay small enough to hold in memory.
Shape checkedShape(NodeImporter &n, const std::vector<double> &dims) {
  Shape shape;
  double elements = 1;
  for (double d : dims) {
    if (d <= 0)
      unsupported("{}: empty tensors are not supported", n.where());
    elements *= d;
    shape.push_back(toInt64(d));
  }
  if (elements > double(1 << 26))
    unsupported("{}: a constant of {:.0f} elements is too large", n.where(), elements);
  return shape;
}

} // namespace

void importConstant(NodeImporter &n) {
  if (const onnx::TensorProto *t = n.attrTensor("value")) {
    n.bindConst(0, decodeTensor(*t, n.where()));
    return;
  }
  for (const auto &attr : n.proto().attribute()) {
    const std::string &key = attr.name();
    if (key == "value_float")
      return n.bindConst(0, scalar(true, attr.f()));
    if (key == "value_int")
      return n.bindConst(0, scalar(false, double(attr.i())));
    if (key == "value_floats")
      return n.bindConst(0, {true, {attr.floats_size()},
                             std::vector<double>(attr.floats().begin(), attr.floats().end())});
    if (key == "value_ints") {
      ConstValue v{false, {attr.ints_size()}, {}};
      for (int64_t x : attr.ints())
        v.values.push_back(double(x));
      return n.bindConst(0, v);
    }
  }
  unsupported("{}: only numeric tensor constants are supported", n.where());
}

void importShape(NodeImporter &n) {
  Shape x = n.shape(0);
  int64_t rank = int64_t(x.size());
  int64_t start = n.attrInt("start", 0), end = n.attrInt("end", rank);
  auto clampDim = [rank](int64_t v) { return std::min(std::max(v < 0 ? v + rank : v, int64_t(0)), rank); };
  start = clampDim(start);
  end = clampDim(end);
  ConstValue v{false, {std::max<int64_t>(0, end - start)}, {}};
  for (int64_t d = start; d < end; ++d)
    v.values.push_back(double(x[size_t(d)]));
  n.bindConst(0, v);
}

void importSize(NodeImporter &n) { n.bindConst(0, scalar(false, double(numElements(n.shape(0))))); }

void importCast(NodeImporter &n) {
  int64_t to = n.attrInt("to", onnx::TensorProto::FLOAT);
  bool toFloat = isFloatType(to);
  const Tensor &x = n.graph().tensor(n.input(0));
  if (!x.isConstant()) {
    if (x.dtype == DType::F32 && to == onnx::TensorProto::FLOAT) {
      n.emit(OpKind::Identity, {n.input(0)}, {});
      return;
    }
    unsupported("{}: casting run-time data to {} is not supported", n.where(), onnxTypeName(to));
  }
  ConstValue v = loadConst(x);
  v.isFloat = toFloat;
  for (double &e : v.values) {
    if (to == onnx::TensorProto::BOOL)
      e = e != 0 ? 1 : 0;
    else if (!toFloat)
      e = std::trunc(e);
    else if (to == onnx::TensorProto::FLOAT)
      e = double(float(e));
  }
  n.bindConst(0, v);
}

void importConstantOfShape(NodeImporter &n) {
  ConstValue shape = known(n, 0);
  ConstValue fill{true, {}, {0.0}};
  if (const onnx::TensorProto *t = n.attrTensor("value"))
    fill = decodeTensor(*t, n.where());
  ConstValue v{fill.isFloat, checkedShape(n, shape.values), {}};
  v.values.assign(size_t(numElements(v.shape)), fill.values.at(0));
  n.bindConst(0, v);
}

void importRange(NodeImporter &n) {
  ConstValue start = known(n, 0), limit = known(n, 1), delta = known(n, 2);
  double s = start.values.at(0), l = limit.values.at(0), d = delta.values.at(0);
  if (d == 0)
    fail("{}: delta is 0", n.where());
  int64_t count = std::max<int64_t>(0, int64_t(std::ceil((l - s) / d)));
  if (count == 0 || count > (int64_t(1) << 24))
    unsupported("{}: a range of {} elements is not supported", n.where(), count);
  ConstValue v{start.isFloat, {count}, {}};
  for (int64_t i = 0; i < count; ++i)
    v.values.push_back(s + double(i) * d);
  n.bindConst(0, v);
}

void importCompare(NodeImporter &n) {
  ConstValue a = known(n, 0), b = known(n, 1);
  Shape shape = broadcastShapes(a.shape, b.shape, n.where());
  std::vector<double> va = broadcastValues(a, shape), vb = broadcastValues(b, shape);
  const std::string &type = n.proto().op_type();
  ConstValue v{false, shape, {}};
  for (size_t i = 0; i < va.size(); ++i) {
    bool r = type == "Equal" ? va[i] == vb[i] : type == "Less" ? va[i] < vb[i] : va[i] > vb[i];
    v.values.push_back(r ? 1 : 0);
  }
  n.bindConst(0, v);
}

void importWhere(NodeImporter &n) {
  ConstValue c = known(n, 0), a = known(n, 1), b = known(n, 2);
  Shape shape = broadcastShapes(broadcastShapes(c.shape, a.shape, n.where()), b.shape, n.where());
  std::vector<double> vc = broadcastValues(c, shape), va = broadcastValues(a, shape),
                      vb = broadcastValues(b, shape);
  ConstValue v{a.isFloat, shape, {}};
  for (size_t i = 0; i < vc.size(); ++i)
    v.values.push_back(vc[i] != 0 ? va[i] : vb[i]);
  n.bindConst(0, v);
}

void importNot(NodeImporter &n) {
  ConstValue v = known(n, 0);
  for (double &e : v.values)
    e = e != 0 ? 0 : 1;
  n.bindConst(0, v);
}

void importRounding(NodeImporter &n) {
  ConstValue v = known(n, 0);
  bool floor = n.proto().op_type() == "Floor";
  for (double &e : v.values)
    e = floor ? std::floor(e) : std::ceil(e);
  n.bindConst(0, v);
}

void importExpand(NodeImporter &n) {
  ConstValue x = known(n, 0);
  ConstValue target = known(n, 1);
  Shape shape = broadcastShapes(x.shape, checkedShape(n, target.values), n.where());
  checkedShape(n, std::vector<double>(shape.begin(), shape.end()));
  n.bindConst(0, {x.isFloat, shape, broadcastValues(x, shape)});
}

} // namespace odlc
