#include "import/ConstFold.h"

#include "Diagnostics.h"
#include "ir/OpRules.h"

#include <cmath>

namespace odlc {

namespace {

/// out[i] = in[offset + sum idx_d * stride_d] over the dense index space of `shape`.
std::vector<double> stridedRead(const std::vector<double> &in, const Shape &shape,
                                int64_t offset, const std::vector<int64_t> &strides) {
  std::vector<double> out(size_t(numElements(shape)));
  std::vector<int64_t> idx(shape.size(), 0);
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t pos = offset;
    for (size_t d = 0; d < shape.size(); ++d)
      pos += idx[d] * strides[d];
    out[i] = in[size_t(pos)];
    for (size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
    }
  }
  return out;
}

/// Strides of `from` read as if broadcast to `to` (0 along broadcast dimensions).
std::vector<int64_t> broadcastStrides(const Shape &from, const Shape &to) {
  std::vector<int64_t> dense = denseStrides(from), strides(to.size(), 0);
  size_t lead = to.size() - from.size();
  for (size_t d = 0; d < from.size(); ++d)
    strides[lead + d] = from[d] == 1 ? 0 : dense[d];
  return strides;
}

double applyBinary(OpKind op, double a, double b, bool isFloat) {
  switch (op) {
  case OpKind::Add: return a + b;
  case OpKind::Sub: return a - b;
  case OpKind::Mul: return a * b;
  default:
    if (isFloat)
      return a / b;
    if (b == 0)
      fail("integer division by zero in a constant expression");
    return std::trunc(a / b);
  }
}

double applyUnary(OpKind op, double x) {
  switch (op) {
  case OpKind::Neg: return -x;
  case OpKind::Sqrt: return std::sqrt(x);
  case OpKind::Exp: return std::exp(x);
  case OpKind::Abs: return std::fabs(x);
  default: return x > 0 ? x : 0; // Relu
  }
}

/// Rounds float results to f32 so folding matches what the run-time kernel would store.
double roundTo(bool isFloat, double v) { return isFloat ? double(float(v)) : v; }

std::vector<ConstValue> foldBinary(const Node &n, const ConstValue &a, const ConstValue &b,
                                   const Shape &out) {
  bool isFloat = a.isFloat || b.isFloat;
  std::vector<double> va = stridedRead(a.values, out, 0, broadcastStrides(a.shape, out));
  std::vector<double> vb = stridedRead(b.values, out, 0, broadcastStrides(b.shape, out));
  ConstValue r{isFloat, out, {}};
  for (size_t i = 0; i < va.size(); ++i)
    r.values.push_back(roundTo(isFloat, applyBinary(n.op, va[i], vb[i], isFloat)));
  return {r};
}

std::vector<ConstValue> foldTranspose(const Node &n, const ConstValue &x, const Shape &out) {
  std::vector<int64_t> dense = denseStrides(x.shape), strides;
  for (int64_t p : n.attrs.getInts("perm"))
    strides.push_back(dense[size_t(p)]);
  return {{x.isFloat, out, stridedRead(x.values, out, 0, strides)}};
}

std::vector<ConstValue> foldSlice(const Node &n, const ConstValue &x, const Shape &out) {
  std::vector<int64_t> dense = denseStrides(x.shape), strides;
  const auto &starts = n.attrs.getInts("starts");
  const auto &steps = n.attrs.getInts("steps");
  int64_t offset = 0;
  for (size_t d = 0; d < dense.size(); ++d) {
    offset += starts[d] * dense[d];
    strides.push_back(steps[d] * dense[d]);
  }
  return {{x.isFloat, out, numElements(out) ? stridedRead(x.values, out, offset, strides)
                                            : std::vector<double>{}}};
}

std::vector<ConstValue> foldGather(const Node &n, const ConstValue &x, const Shape &out) {
  int64_t axis = n.attrs.getInt("axis");
  int64_t outer = numElements(Shape(x.shape.begin(), x.shape.begin() + axis));
  int64_t inner = numElements(Shape(x.shape.begin() + axis + 1, x.shape.end()));
  int64_t dim = x.shape[size_t(axis)];
  ConstValue r{x.isFloat, out, {}};
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t index : n.attrs.getInts("indices"))
      for (int64_t i = 0; i < inner; ++i)
        r.values.push_back(x.values[size_t((o * dim + index) * inner + i)]);
  return {r};
}

std::vector<ConstValue> foldConcat(const Node &n, const std::vector<const ConstValue *> &in,
                                   const Shape &out) {
  int64_t axis = n.attrs.getInt("axis");
  int64_t outer = numElements(Shape(out.begin(), out.begin() + axis));
  ConstValue r{false, out, {}};
  for (const ConstValue *v : in)
    r.isFloat = r.isFloat || v->isFloat;
  for (int64_t o = 0; o < outer; ++o) {
    for (const ConstValue *v : in) {
      int64_t chunk = numElements(Shape(v->shape.begin() + axis, v->shape.end()));
      auto begin = v->values.begin() + o * chunk;
      r.values.insert(r.values.end(), begin, begin + chunk);
    }
  }
  return {r};
}

std::vector<ConstValue> foldSplit(const Node &n, const ConstValue &x,
                                  const std::vector<Shape> &outs) {
  int64_t axis = n.attrs.getInt("axis");
  std::vector<int64_t> dense = denseStrides(x.shape);
  std::vector<ConstValue> result;
  int64_t start = 0;
  for (const Shape &shape : outs) {
    std::vector<int64_t> strides = dense;
    result.push_back({x.isFloat, shape, stridedRead(x.values, shape, start * dense[size_t(axis)],
                                                    strides)});
    start += shape[size_t(axis)];
  }
  return result;
}

} // namespace

std::vector<double> broadcastValues(const ConstValue &value, const Shape &shape) {
  return stridedRead(value.values, shape, 0, broadcastStrides(value.shape, shape));
}

bool isFoldable(OpKind op) {
  switch (op) {
  case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Div:
  case OpKind::Neg: case OpKind::Sqrt: case OpKind::Exp: case OpKind::Abs: case OpKind::Relu:
  case OpKind::Transpose: case OpKind::Slice: case OpKind::Gather: case OpKind::Concat:
  case OpKind::Split: case OpKind::Flatten: case OpKind::Reshape: case OpKind::Squeeze:
  case OpKind::Unsqueeze: case OpKind::View: case OpKind::Identity: case OpKind::Dropout:
    return true;
  default:
    return false;
  }
}

std::vector<ConstValue> foldNode(const Node &n, const std::vector<const ConstValue *> &in,
                                 const std::vector<Shape> &outShapes) {
  ODLC_ASSERT(isFoldable(n.op) && !in.empty() && in[0], "cannot fold node '{}'", n.name);
  const ConstValue &x = *in[0];
  const Shape &out = outShapes[0];
  switch (n.op) {
  case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Div:
    return foldBinary(n, x, *in[1], out);
  case OpKind::Neg: case OpKind::Sqrt: case OpKind::Exp: case OpKind::Abs: case OpKind::Relu: {
    ConstValue r{x.isFloat, out, {}};
    for (double v : x.values)
      r.values.push_back(roundTo(x.isFloat, applyUnary(n.op, v)));
    return {r};
  }
  case OpKind::Transpose: return foldTranspose(n, x, out);
  case OpKind::Slice: return foldSlice(n, x, out);
  case OpKind::Gather: return foldGather(n, x, out);
  case OpKind::Concat: return foldConcat(n, in, out);
  case OpKind::Split: return foldSplit(n, x, outShapes);
  default: // reshape family: same data, new shape
    return {{x.isFloat, out, x.values}};
  }
}

} // namespace odlc
