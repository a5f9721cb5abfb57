#include "ir/OpRules.h"

#include "Diagnostics.h"
#include "ir/OpTable.h"

#include <algorithm>

namespace odlc {

namespace {

const Shape &inShape(const Graph &g, const Node &n, size_t i) {
  return g.tensor(n.inputs.at(i)).shape;
}

std::string where(const Node &n) { return fmt::format("node '{}' ({})", n.name, opName(n.op)); }

template <typename... Args>
void check(bool ok, const Node &n, fmt::format_string<Args...> format, Args &&...args) {
  if (!ok)
    fail("{}: {}", where(n), fmt::format(format, std::forward<Args>(args)...));
}

} // namespace

Shape broadcastShapes(const Shape &a, const Shape &b, const std::string &at) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      fail("{}: shapes {} and {} do not broadcast", at, formatShape(a), formatShape(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::vector<int64_t> denseStrides(const Shape &shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;)
    strides[i - 1] = strides[i] * shape[i];
  return strides;
}

int64_t windowOutput(int64_t in, int64_t padBegin, int64_t padEnd, int64_t kernel,
                     int64_t stride, int64_t dilation, bool ceilMode) {
  int64_t span = (kernel - 1) * dilation + 1;
  int64_t room = in + padBegin + padEnd - span;
  if (room < 0)
    return 0;
  return (ceilMode ? (room + stride - 1) / stride : room / stride) + 1;
}

namespace rules {

std::vector<Shape> sameShape(const Graph &g, const Node &n) { return {inShape(g, n, 0)}; }

std::vector<Shape> broadcastShape(const Graph &g, const Node &n) {
  return {broadcastShapes(inShape(g, n, 0), inShape(g, n, 1), where(n))};
}

std::vector<Shape> convShape(const Graph &g, const Node &n) {
  const Shape &x = inShape(g, n, 0);
  const Shape &w = inShape(g, n, 1);
  check(x.size() == 4 && w.size() == 4, n, "expects 4-D input and weight, got {} and {}",
        formatShape(x), formatShape(w));
  int64_t group = n.attrs.getInt("group");
  const auto &pads = n.attrs.getInts("pads");
  const auto &strides = n.attrs.getInts("strides");
  const auto &dil = n.attrs.getInts("dilations");
  check(group >= 1 && x[1] == w[1] * group && w[0] % group == 0, n,
        "input {} and weight {} do not match group {}", formatShape(x), formatShape(w), group);
  if (n.input(2) != kNoTensor)
    check(inShape(g, n, 2) == Shape{w[0]}, n, "bias must have shape [{}]", w[0]);
  int64_t oh = windowOutput(x[2], pads[0], pads[2], w[2], strides[0], dil[0], false);
  int64_t ow = windowOutput(x[3], pads[1], pads[3], w[3], strides[1], dil[1], false);
  check(oh > 0 && ow > 0, n, "kernel larger than padded input");
  return {{x[0], w[0], oh, ow}};
}

std::vector<Shape> gemmShape(const Graph &g, const Node &n) {
  const Shape &a = inShape(g, n, 0);
  const Shape &b = inShape(g, n, 1);
  check(a.size() == 2 && b.size() == 2, n, "expects 2-D operands");
  bool ta = n.attrs.getInt("transA") != 0;
  bool tb = n.attrs.getInt("transB") != 0;
  int64_t m = ta ? a[1] : a[0], k = ta ? a[0] : a[1];
  int64_t kb = tb ? b[1] : b[0], nn = tb ? b[0] : b[1];
  check(k == kb, n, "inner dimensions differ: {} vs {}", k, kb);
  if (n.input(2) != kNoTensor)
    check(broadcastShapes(inShape(g, n, 2), {m, nn}, where(n)) == Shape{m, nn}, n,
          "C does not broadcast to [{},{}]", m, nn);
  return {{m, nn}};
}

std::vector<Shape> matMulShape(const Graph &g, const Node &n) {
  Shape a = inShape(g, n, 0), b = inShape(g, n, 1);
  check(!a.empty() && !b.empty(), n, "scalar operands");
  bool vecA = a.size() == 1, vecB = b.size() == 1;
  if (vecA)
    a.insert(a.begin(), 1);
  if (vecB)
    b.push_back(1);
  check(a.back() == b[b.size() - 2], n, "inner dimensions differ: {} and {}", formatShape(a),
        formatShape(b));
  Shape batchA(a.begin(), a.end() - 2), batchB(b.begin(), b.end() - 2);
  Shape out = broadcastShapes(batchA, batchB, where(n));
  if (!vecA)
    out.push_back(a[a.size() - 2]);
  if (!vecB)
    out.push_back(b.back());
  return {out};
}

std::vector<Shape> globalPoolShape(const Graph &g, const Node &n) {
  Shape x = inShape(g, n, 0);
  check(x.size() >= 3, n, "expects N x C x spatial input");
  std::fill(x.begin() + 2, x.end(), 1);
  return {x};
}

std::vector<Shape> poolShape(const Graph &g, const Node &n) {
  const Shape &x = inShape(g, n, 0);
  check(x.size() == 4, n, "expects a 4-D input");
  const auto &k = n.attrs.getInts("kernel_shape");
  const auto &pads = n.attrs.getInts("pads");
  const auto &strides = n.attrs.getInts("strides");
  auto dil = n.attrs.getInts("dilations", {1, 1});
  bool ceil = n.attrs.getInt("ceil_mode", 0) != 0;
  int64_t oh = windowOutput(x[2], pads[0], pads[2], k[0], strides[0], dil[0], ceil);
  int64_t ow = windowOutput(x[3], pads[1], pads[3], k[1], strides[1], dil[1], ceil);
  check(oh > 0 && ow > 0, n, "window larger than padded input");
  return {{x[0], x[1], oh, ow}};
}

std::vector<Shape> reduceShape(const Graph &g, const Node &n) {
  const Shape &x = inShape(g, n, 0);
  const auto &axes = n.attrs.getInts("axes");
  bool keep = n.attrs.getInt("keepdims") != 0;
  Shape out;
  for (size_t i = 0; i < x.size(); ++i) {
    bool reduced = std::find(axes.begin(), axes.end(), int64_t(i)) != axes.end();
    if (!reduced)
      out.push_back(x[i]);
    else if (keep)
      out.push_back(1);
  }
  return {out};
}

std::vector<Shape> flattenShape(const Graph &g, const Node &n) {
  const Shape &x = inShape(g, n, 0);
  int64_t axis = n.attrs.getInt("axis");
  check(axis >= 0 && axis <= int64_t(x.size()), n, "axis {} out of range", axis);
  Shape outer(x.begin(), x.begin() + axis), inner(x.begin() + axis, x.end());
  return {{numElements(outer), numElements(inner)}};
}

std::vector<Shape> reshapeShape(const Graph &g, const Node &n) {
  Shape out = n.attrs.getInts("shape");
  check(numElements(out) == numElements(inShape(g, n, 0)), n, "cannot reshape {} to {}",
        formatShape(inShape(g, n, 0)), formatShape(out));
  return {out};
}

std::vector<Shape> squeezeShape(const Graph &g, const Node &n) {
  const Shape &x = inShape(g, n, 0);
  const auto &axes = n.attrs.getInts("axes");
  Shape out;
  for (size_t i = 0; i < x.size(); ++i) {
    bool drop = std::find(axes.begin(), axes.end(), int64_t(i)) != axes.end();
    check(!drop || x[i] == 1, n, "cannot squeeze dimension {} of size {}", i, x[i]);
    if (!drop)
      out.push_back(x[i]);
  }
  return {out};
}

std::vector<Shape> unsqueezeShape(const Graph &g, const Node &n) {
  const Shape &x = inShape(g, n, 0);
  const auto &axes = n.attrs.getInts("axes");
  size_t rank = x.size() + axes.size();
  Shape out;
  size_t next = 0;
  for (size_t i = 0; i < rank; ++i) {
    bool inserted = std::find(axes.begin(), axes.end(), int64_t(i)) != axes.end();
    if (inserted) {
      out.push_back(1);
      continue;
    }
    check(next < x.size(), n, "axes out of range");
    out.push_back(x[next++]);
  }
  return {out};
}

std::vector<Shape> transposeShape(const Graph &g, const Node &n) {
  const Shape &x = inShape(g, n, 0);
  const auto &perm = n.attrs.getInts("perm");
  check(perm.size() == x.size(), n, "perm has {} entries for rank {}", perm.size(), x.size());
  Shape out;
  for (int64_t p : perm) {
    check(p >= 0 && p < int64_t(x.size()), n, "perm entry {} out of range", p);
    out.push_back(x[size_t(p)]);
  }
  return {out};
}

std::vector<Shape> concatShape(const Graph &g, const Node &n) {
  Shape out = inShape(g, n, 0);
  int64_t axis = n.attrs.getInt("axis");
  check(axis >= 0 && axis < int64_t(out.size()), n, "axis {} out of range", axis);
  for (size_t i = 1; i < n.inputs.size(); ++i) {
    const Shape &s = inShape(g, n, i);
    check(s.size() == out.size(), n, "inputs differ in rank");
    for (size_t d = 0; d < s.size(); ++d)
      check(int64_t(d) == axis || s[d] == out[d], n, "inputs differ off the concat axis");
    out[size_t(axis)] += s[size_t(axis)];
  }
  return {out};
}

std::vector<Shape> splitShape(const Graph &g, const Node &n) {
  const Shape &x = inShape(g, n, 0);
  int64_t axis = n.attrs.getInt("axis");
  const auto &split = n.attrs.getInts("split");
  check(axis >= 0 && axis < int64_t(x.size()), n, "axis {} out of range", axis);
  int64_t total = 0;
  std::vector<Shape> outs;
  for (int64_t part : split) {
    Shape s = x;
    s[size_t(axis)] = part;
    outs.push_back(s);
    total += part;
  }
  check(total == x[size_t(axis)], n, "split sizes sum to {}, dimension is {}", total,
        x[size_t(axis)]);
  return outs;
}

std::vector<Shape> sliceShape(const Graph &g, const Node &n) {
  const Shape &x = inShape(g, n, 0);
  const auto &starts = n.attrs.getInts("starts");
  const auto &steps = n.attrs.getInts("steps");
  const auto &sizes = n.attrs.getInts("sizes");
  check(starts.size() == x.size() && steps.size() == x.size() && sizes.size() == x.size(), n,
        "starts/steps/sizes must cover every dimension");
  for (size_t d = 0; d < x.size(); ++d) {
    if (sizes[d] == 0)
      continue;
    int64_t last = starts[d] + (sizes[d] - 1) * steps[d];
    check(steps[d] != 0 && starts[d] >= 0 && starts[d] < x[d] && last >= 0 && last < x[d], n,
          "slice of dimension {} leaves the input", d);
  }
  return {Shape(sizes.begin(), sizes.end())};
}

std::vector<Shape> gatherShape(const Graph &g, const Node &n) {
  const Shape &x = inShape(g, n, 0);
  int64_t axis = n.attrs.getInt("axis");
  check(axis >= 0 && axis < int64_t(x.size()), n, "axis {} out of range", axis);
  const auto &indices = n.attrs.getInts("indices");
  for (int64_t i : indices)
    check(i >= 0 && i < x[size_t(axis)], n, "index {} out of range", i);
  Shape out(x.begin(), x.begin() + axis);
  for (int64_t d : n.attrs.getInts("indices_shape"))
    out.push_back(d);
  out.insert(out.end(), x.begin() + axis + 1, x.end());
  return {out};
}

std::vector<Shape> padShape(const Graph &g, const Node &n) {
  Shape out = inShape(g, n, 0);
  const auto &pads = n.attrs.getInts("pads");
  check(pads.size() == 2 * out.size(), n, "pads must have 2 x rank entries");
  for (size_t d = 0; d < out.size(); ++d)
    out[d] += pads[d] + pads[d + out.size()];
  for (int64_t dim : out)
    check(dim > 0, n, "padding leaves an empty dimension");
  return {out};
}

int64_t noMacs(const Graph &, const Node &) { return 0; }

int64_t convMacs(const Graph &g, const Node &n) {
  const Shape &w = inShape(g, n, 1);
  const Shape &y = g.tensor(n.outputs[0]).shape;
  return numElements(y) * w[1] * w[2] * w[3];
}

int64_t gemmMacs(const Graph &g, const Node &n) {
  const Shape &a = inShape(g, n, 0);
  const Shape &y = g.tensor(n.outputs[0]).shape;
  return numElements(y) * (n.attrs.getInt("transA") ? a[0] : a[1]);
}

int64_t matMulMacs(const Graph &g, const Node &n) {
  const Shape &a = inShape(g, n, 0);
  return numElements(g.tensor(n.outputs[0]).shape) * a.back();
}

} // namespace rules

} // namespace odlc
