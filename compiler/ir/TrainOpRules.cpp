// Shape and cost rules of the training ops (loss, backward, fused updates).
#include "ir/OpRules.h"

#include "Diagnostics.h"
#include "ir/OpTable.h"

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

int64_t convGradInputMacs(const Graph &g, const Node &n) {
  const Shape &w = in(g, n, 1);
  return numElements(in(g, n, 0)) * w[1] * w[2] * w[3];
}

int64_t convUpdateMacs(const Graph &g, const Node &n) {
  const Shape &w = in(g, n, 2);
  return numElements(in(g, n, 1)) * w[1] * w[2] * w[3];
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
