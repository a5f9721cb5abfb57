// fold-batchnorm: inference BatchNormalization y = (x - mean) / sqrt(var + eps) * scale + bias
// is a per-channel affine a * x + c. When x comes straight from a Conv (or a Gemm over features)
// with constant weights and nothing else reads x, a and c fold into that layer's weights and
// bias. Otherwise the BN becomes a ChannelAffine node with precomputed a and c.
#include "Pass.h"
#include "PatternUtils.h"

#include <cmath>
#include <memory>

namespace odlc {

namespace {

struct Affine {
  std::vector<double> scale, shift;
};

Affine affineOf(const Graph &g, const Node &bn) {
  const auto &s = g.tensor(bn.inputs[1]).floats, &b = g.tensor(bn.inputs[2]).floats;
  const auto &mean = g.tensor(bn.inputs[3]).floats, &var = g.tensor(bn.inputs[4]).floats;
  double eps = bn.attrs.getFloat("epsilon");
  Affine a;
  for (size_t c = 0; c < s.size(); ++c) {
    double k = double(s[c]) / std::sqrt(double(var[c]) + eps);
    a.scale.push_back(k);
    a.shift.push_back(double(b[c]) - double(mean[c]) * k);
  }
  return a;
}

bool isFloatConst(const Graph &g, TensorId id) {
  return id != kNoTensor && g.tensor(id).isConstant() && g.tensor(id).dtype == DType::F32;
}

/// New bias = old bias (or 0) * scale + shift, as a fresh constant.
TensorId foldedBias(Graph &g, TensorId oldBias, const Affine &a, double oldScale,
                    const std::string &name) {
  std::vector<float> bias(a.scale.size());
  for (size_t c = 0; c < bias.size(); ++c) {
    double old = oldBias == kNoTensor ? 0.0 : double(g.tensor(oldBias).floats[c]) * oldScale;
    bias[c] = float(old * a.scale[c] + a.shift[c]);
  }
  return g.addConstant(name, {int64_t(bias.size())}, bias);
}

bool foldIntoConv(Graph &g, Node &conv, const Affine &a) {
  TensorId w = conv.inputs[1], b = conv.input(2);
  if (!isFloatConst(g, w) || (b != kNoTensor && !isFloatConst(g, b)))
    return false;
  const Tensor &wt = g.tensor(w);
  std::vector<float> weights = wt.floats;
  int64_t perChannel = wt.elements() / wt.shape[0];
  for (size_t i = 0; i < weights.size(); ++i)
    weights[i] = float(double(weights[i]) * a.scale[i / size_t(perChannel)]);
  Shape shape = wt.shape;
  std::string base = wt.name;
  conv.inputs[1] = g.addConstant(base + "_bnfold", shape, weights);
  TensorId bias = foldedBias(g, b, a, 1.0, base + "_bnfold_bias");
  if (conv.inputs.size() < 3)
    conv.inputs.resize(3, kNoTensor);
  conv.inputs[2] = bias;
  return true;
}

/// Gemm output [M, N] normalized over N (BatchNorm1d after Linear).
bool foldIntoGemm(Graph &g, Node &gemm, const Affine &a) {
  TensorId w = gemm.inputs[1], c = gemm.input(2);
  if (!isFloatConst(g, w) || (c != kNoTensor && !isFloatConst(g, c)))
    return false;
  size_t n = a.scale.size();
  if (c != kNoTensor && g.tensor(c).elements() != int64_t(n))
    return false; // C varies along M: not a per-feature bias
  const Tensor &wt = g.tensor(w);
  bool transB = gemm.attrs.getInt("transB") != 0;
  std::vector<float> weights = wt.floats;
  for (size_t i = 0; i < weights.size(); ++i) {
    size_t col = transB ? i / size_t(wt.shape[1]) : i % size_t(wt.shape[1]);
    weights[i] = float(double(weights[i]) * a.scale[col]);
  }
  std::string base = wt.name;
  gemm.inputs[1] = g.addConstant(base + "_bnfold", wt.shape, weights);
  double beta = gemm.attrs.getFloat("beta");
  if (gemm.inputs.size() < 3)
    gemm.inputs.resize(3, kNoTensor);
  gemm.inputs[2] = foldedBias(g, c, a, beta, base + "_bnfold_bias");
  gemm.attrs.set("beta", 1.0);
  return true;
}

bool tryFold(Graph &g, Node &bn, const Affine &a) {
  TensorId x = bn.inputs[0];
  if (!hasSingleUse(g, x))
    return false;
  NodeId p = g.producer(x);
  if (p < 0)
    return false;
  Node &producer = g.nodes[size_t(p)];
  const Shape &xs = g.tensor(x).shape;
  if (producer.op == OpKind::Conv)
    return foldIntoConv(g, producer, a);
  if (producer.op == OpKind::Gemm && xs.size() == 2)
    return foldIntoGemm(g, producer, a);
  return false;
}

void toChannelAffine(Graph &g, Node &bn, const Affine &a) {
  std::vector<float> scale(a.scale.begin(), a.scale.end()), shift(a.shift.begin(), a.shift.end());
  int64_t c = int64_t(scale.size());
  TensorId s = g.addConstant(bn.name + "_scale", {c}, scale);
  TensorId t = g.addConstant(bn.name + "_shift", {c}, shift);
  bn.op = OpKind::ChannelAffine;
  bn.inputs = {bn.inputs[0], s, t};
  bn.attrs = AttrMap();
}

class FoldBatchNormPass : public Pass {
public:
  const char *name() const override { return "fold-batchnorm"; }

  PassResult run(Graph &g, PassContext &) override {
    bool changed = false;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      Node &bn = g.nodes[i];
      if (bn.dead || bn.op != OpKind::BatchNormalization)
        continue;
      changed = true;
      Affine a = affineOf(g, bn);
      if (!tryFold(g, g.nodes[i], a)) {
        toChannelAffine(g, g.nodes[i], a);
        continue;
      }
      Node &folded = g.nodes[i];
      g.replaceAllUses(folded.outputs[0], folded.inputs[0]);
      folded.dead = true;
      // The producer's result now is the normalized value: give it the BN output's name, so
      // names users know from the ONNX file (e.g. a --train-from cut) still resolve.
      Tensor &gone = g.tensor(folded.outputs[0]);
      std::string name = gone.name;
      gone.name = g.uniqueTensorName(name + "_folded");
      g.tensor(folded.inputs[0]).name = name;
    }
    return changed ? PassResult::Changed : PassResult::Unchanged;
  }
};

} // namespace

std::unique_ptr<Pass> createFoldBatchNormPass() { return std::make_unique<FoldBatchNormPass>(); }

} // namespace odlc
