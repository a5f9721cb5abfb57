// Shape and cost rules of the training ops (loss, backward, fused updates).
#include "ir/OpRules.h"

#include "Diagnostics.h"
#include "ir/OpTable.h"

#include <algorithm>

namespace odlc {

namespace rules {

namespace {

const Shape &in(const Graph &g, const Node &n, size_t i) { return g.tensor(n.inputs.at(i)).shape; }

} // namespace

std::vector<Shape> xentShape(const Graph &g, const Node &n) {
  const Shape &z = in(g, n, 0), &labels = in(g, n, 1);
  if (z.size() != 2 || labels != Shape{z[0]})
    fail("node '{}' (SoftmaxCrossEntropy): logits {} and labels {} do not match", n.name,
         formatShape(z), formatShape(labels));
  return {z, {}};
}

std::vector<Shape> noOutputs(const Graph &, const Node &) { return {}; }

/// Backward ops whose result has the forward input's shape, kept as attribute `input_shape`.
std::vector<Shape> inputShapeAttr(const Graph &, const Node &n) {
  return {n.attrs.getInts("input_shape")};
}

std::vector<Shape> secondOperandShape(const Graph &g, const Node &n) { return {in(g, n, 1)}; }

std::vector<Shape> gemmGradAShape(const Graph &g, const Node &n) {
  const Shape &dy = in(g, n, 0), &b = in(g, n, 1);
  int64_t k = n.attrs.getInt("transB") ? b[1] : b[0];
  return {{dy[0], k}};
}

namespace {

/// Checks that every index of attribute `key` lies in [0, extent).
void checkIndices(const Node &n, const char *key, int64_t extent) {
  for (int64_t i : n.attrs.getInts(key))
    if (i < 0 || i >= extent)
      fail("node '{}' ({}): {} index {} is outside [0, {})", n.name, opName(n.op), key, i, extent);
}

} // namespace

/// x[rows][channels]: `rows` indexes axis 0 and `channels` axis 1; an absent list keeps the axis.
std::vector<Shape> channelGatherShape(const Graph &g, const Node &n) {
  Shape s = in(g, n, 0);
  if (s.size() < 2)
    fail("node '{}' (ChannelGather): input {} has no channel axis", n.name, formatShape(s));
  if (n.attrs.has("rows")) {
    checkIndices(n, "rows", s[0]);
    s[0] = int64_t(n.attrs.getInts("rows").size());
  }
  if (n.attrs.has("channels")) {
    checkIndices(n, "channels", s[1]);
    s[1] = int64_t(n.attrs.getInts("channels").size());
  }
  return {s};
}

/// The inverse placement: a tensor of attribute `shape`, zero outside channels (axis 1).
std::vector<Shape> channelScatterShape(const Graph &g, const Node &n) {
  Shape s = n.attrs.getInts("shape");
  Shape x = in(g, n, 0);
  checkIndices(n, "channels", s.size() < 2 ? 0 : s[1]);
  x[1] = s[1];
  if (x != s)
    fail("node '{}' (ChannelScatter): input {} does not fit {}", n.name, formatShape(in(g, n, 0)),
         formatShape(s));
  return {s};
}

/// Input channels each compact output channel of a sparse layer reads (depthwise: one).
int64_t sparseInPerOut(const Node &n) {
  return n.attrs.getInt("group", 1) > 1 ? 1
                                         : int64_t(n.attrs.getInts("sparse.in_channels").size());
}

int64_t convGradInputBlockScratch(const Graph &g, const Node &n) {
  const Shape &w = in(g, n, 1);
  int64_t taps = numElements(w) / (w[0] * w[1]);
  int64_t out = int64_t(n.attrs.getInts("sparse.out_channels").size());
  int64_t inPerOut = sparseInPerOut(n);
  return inPerOut == 1 ? std::min<int64_t>(4, out) * taps
                       : out * std::min<int64_t>(4, inPerOut) * taps;
}

/// dx[:, I] of a sparse Conv from dy[:, O] and the full weight (attribute input_shape), and the
/// scratch that holds a chunk of W[O, I].
std::vector<Shape> convGradInputBlockShape(const Graph &g, const Node &n) {
  return {n.attrs.getInts("input_shape"), {convGradInputBlockScratch(g, n)}};
}

int64_t convGradInputBlockMacs(const Graph &g, const Node &n) {
  const Shape &w = in(g, n, 1);
  return numElements(in(g, n, 0)) * sparseInPerOut(n) * (numElements(w) / (w[0] * w[1]));
}

/// da[:, I] of a sparse Gemm from dy[:, O] and the full B.
std::vector<Shape> gemmGradABlockShape(const Graph &g, const Node &n) {
  return {{in(g, n, 0)[0], int64_t(n.attrs.getInts("sparse.in_channels").size())}};
}

int64_t gemmGradABlockMacs(const Graph &g, const Node &n) {
  return numElements(in(g, n, 0)) * int64_t(n.attrs.getInts("sparse.in_channels").size());
}

int64_t convGradInputMacs(const Graph &g, const Node &n) {
  const Shape &w = in(g, n, 1);
  return numElements(in(g, n, 0)) * w[1] * w[2] * w[3];
}

int64_t convUpdateMacs(const Graph &g, const Node &n) {
  const Shape &w = in(g, n, 2);
  // A sparse update reads the kept input channels only (depthwise: one per output channel).
  int64_t inPerGroup = n.attrs.has("sparse.in_channels") && w[1] > 1 ? in(g, n, 0)[1] : w[1];
  return numElements(in(g, n, 1)) * inPerGroup * w[2] * w[3];
}

int64_t gemmGradAMacs(const Graph &g, const Node &n) {
  const Shape &b = in(g, n, 1);
  return numElements(in(g, n, 0)) * (n.attrs.getInt("transB") ? b[1] : b[0]);
}

int64_t gemmUpdateMacs(const Graph &g, const Node &n) {
  return numElements(in(g, n, 1)) * in(g, n, 0)[1];
}

} // namespace rules

} // namespace odlc
