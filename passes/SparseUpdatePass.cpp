// sparse-update (seed 003 sec. 4.4, eq. 7-9): decides, per trainable layer, which channels a
// training step updates (`--sparse P`, `--channel-policy`), or that only biases train
// (`--sparse bias`, TinyTL). Decisions are attributes of the forward node; autodiff and the
// kernels follow them.
//
// Semantics, for every trainable Conv (standard or depthwise) and Gemm except the classifier
// (the last layer with weights, which always trains fully): a set O of output channels and a
// set I of input channels, |O| = max(1, round(p * C_out)), |I| = max(1, round(p * C_in))
// (depthwise: one set, I = O). A step equals PyTorch autograd with three masks:
//   (a) the gradient arriving at the layer's output is zero outside O,
//   (b) the gradient the layer passes to its input is zero outside I,
//   (c) the weight gradient is zero outside the block [O, I] (the bias gradient outside O);
// then SGD (with momentum) as in the dense case. The forward keeps only x[:, I] for the weight
// gradient; the backward computes dx[:, I] from dy[:, O] and W[O, I] and updates only [O, I].
// Grouped convolutions (other than depthwise), Gemm whose bias is broadcast over rows, and
// MatMul stay dense (attribute sparse.skipped says why).
//
// Attributes: sparse.p, sparse.policy, sparse.out_channels, sparse.in_channels (or
// sparse.skipped) on the node; train.sparse and train.channel_policy on the graph. With
// `--sparse bias` the weights lose `trainable` and the node gets sparse.policy = "bias".
#include "Pass.h"
#include "SparseChannels.h"

#include "Diagnostics.h"

#include <cmath>
#include <memory>

namespace odlc {

namespace {

/// New samples per experience whose outputs sign each channel for the velocity policy: enough
/// for a cosine similarity to mean something, few enough to cost little RAM (2 x probes floats
/// per output channel).
constexpr int64_t kVelocityProbes = 8;

/// The trainable layers of the tail in inference order.
std::vector<NodeId> trainableLayers(const Graph &g) {
  std::vector<NodeId> layers;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node &n = g.nodes[i];
    if (n.dead || n.fn != 0)
      continue;
    if (n.op != OpKind::Conv && n.op != OpKind::Gemm && n.op != OpKind::MatMul)
      continue;
    TensorId w = n.input(1);
    if (w != kNoTensor && g.tensor(w).attrs.getInt("trainable", 0) != 0)
      layers.push_back(NodeId(i));
  }
  return layers;
}

/// A layer's weight as [out][in][taps] with the geometry the channel sets refer to.
struct LayerGeometry {
  int64_t outChannels = 0, inChannels = 0;
  bool depthwise = false;
  std::string unsupported; ///< why the layer stays dense, or empty
};

LayerGeometry geometryOf(const Graph &g, const Node &n) {
  LayerGeometry geo;
  const Shape &w = g.tensor(n.inputs[1]).shape;
  if (n.op == OpKind::MatMul) {
    geo.unsupported = "MatMul trains densely";
    return geo;
  }
  if (n.op == OpKind::Conv) {
    int64_t group = n.attrs.getInt("group", 1), c = g.tensor(n.inputs[0]).shape[1];
    geo.outChannels = w[0];
    geo.inChannels = c;
    geo.depthwise = group > 1 && group == c && w[0] == c;
    if (group != 1 && !geo.depthwise)
      geo.unsupported = "grouped convolution trains densely";
    return geo;
  }
  bool transB = n.attrs.getInt("transB", 0) != 0;
  geo.outChannels = transB ? w[0] : w[1];
  geo.inChannels = transB ? w[1] : w[0];
  if (n.attrs.getInt("transA", 0) != 0)
    geo.unsupported = "Gemm with transA trains densely";
  TensorId c = n.input(2);
  if (c != kNoTensor && g.tensor(c).elements() != geo.outChannels)
    geo.unsupported = "Gemm bias broadcast over rows trains densely";
  return geo;
}

/// L1 magnitude of each output (byOutput) or input channel of the weight.
std::vector<double> channelMagnitudes(const Graph &g, const Node &n, const LayerGeometry &geo,
                                      bool byOutput) {
  const Tensor &w = g.tensor(n.inputs[1]);
  std::vector<double> scores(size_t(byOutput ? geo.outChannels : geo.inChannels), 0.0);
  bool gemmKN = n.op == OpKind::Gemm && n.attrs.getInt("transB", 0) == 0; // W[in][out]
  int64_t rows = w.shape[0], rowSize = w.elements() / rows;
  int64_t taps = n.op == OpKind::Conv ? w.elements() / (w.shape[0] * w.shape[1]) : 1;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t e = 0; e < rowSize; ++e) {
      double v = std::fabs(double(w.floats[size_t(r * rowSize + e)]));
      int64_t col = e / taps;
      int64_t out = gemmKN ? col : r;
      int64_t in = gemmKN ? r : (geo.depthwise ? r : col);
      scores[size_t(byOutput ? out : in)] += v;
    }
  }
  return scores;
}

class SparseUpdatePass : public Pass {
public:
  const char *name() const override { return "sparse-update"; }

  PassResult run(Graph &g, PassContext &context) override {
    const TrainOptions &o = context.train;
    if (o.sparse == "none" || !g.attrs.has("train.cut"))
      return PassResult::Unchanged;
    std::vector<NodeId> layers = trainableLayers(g);
    if (layers.empty())
      return PassResult::Unchanged;
    g.attrs.set("train.sparse", o.sparse);
    g.attrs.set("train.channel_policy", o.channelPolicy);
    NodeId classifier = layers.back();
    g.nodes[size_t(classifier)].attrs.set("sparse.skipped",
                                          std::string("the classifier trains fully"));
    layers.pop_back();
    if (o.sparse == "bias") {
      for (NodeId id : layers)
        biasOnly(g, g.nodes[size_t(id)]);
      return PassResult::Changed;
    }
    ChannelPolicy policy;
    ODLC_ASSERT(channelPolicyFromName(o.channelPolicy, policy), "channel policy not validated: {}",
                o.channelPolicy);
    std::vector<double> densities = layerDensities(g, o, layers.size());
    if (policy == ChannelPolicy::Velocity)
      g.attrs.set("train.velocity_probes", kVelocityProbes);
    for (size_t k = 0; k < layers.size(); ++k) {
      Node &n = g.nodes[size_t(layers[k])];
      if (densities[k] >= 1.0 && o.sparse == "auto")
        n.attrs.set("sparse.skipped", std::string("auto: dense (p = 1)"));
      else
        chooseFor(g, n, densities[k], policy, k);
    }
    return PassResult::Changed;
  }

private:
  /// Each layer's p: the fraction of `--sparse P`, or replay-cut's choice for `--sparse auto`
  /// (graph attribute train.sparse_densities; absent when only the classifier trains).
  static std::vector<double> layerDensities(const Graph &g, const TrainOptions &o, size_t count) {
    if (o.sparse != "auto") {
      std::optional<double> p = sparseFraction(o.sparse);
      ODLC_ASSERT(p.has_value(), "--sparse not validated: {}", o.sparse);
      return std::vector<double>(count, *p);
    }
    if (!g.attrs.has("train.sparse_densities"))
      return std::vector<double>(count, 1.0);
    const std::vector<double> &densities = g.attrs.getFloats("train.sparse_densities");
    ODLC_ASSERT(densities.size() == count, "{} sparse densities for {} layers", densities.size(),
                count);
    return densities;
  }

  /// TinyTL: the weight freezes; a bias that is one value per output channel keeps training.
  static void biasOnly(Graph &g, Node &n) {
    n.attrs.set("sparse.policy", std::string("bias"));
    g.tensor(n.inputs[1]).attrs.set("trainable", int64_t(0));
    TensorId c = n.input(2);
    LayerGeometry geo = geometryOf(g, n);
    if (c != kNoTensor && n.op == OpKind::Gemm && g.tensor(c).elements() != geo.outChannels)
      g.tensor(c).attrs.set("trainable", int64_t(0));
  }

  static void chooseFor(Graph &g, Node &n, double p, ChannelPolicy policy, size_t index) {
    LayerGeometry geo = geometryOf(g, n);
    if (!geo.unsupported.empty()) {
      n.attrs.set("sparse.skipped", geo.unsupported);
      return;
    }
    // A fixed seed per layer and axis: the same model and options give the same channels.
    uint64_t seed = 0x6f646c63ull + 2 * uint64_t(index);
    std::vector<int64_t> out = chooseChannels(
        policy, channelMagnitudes(g, n, geo, true), sparseCount(p, geo.outChannels), seed);
    std::vector<int64_t> in =
        geo.depthwise ? out
                      : chooseChannels(policy, channelMagnitudes(g, n, geo, false),
                                       sparseCount(p, geo.inChannels), seed + 1);
    n.attrs.set("sparse.p", p);
    n.attrs.set("sparse.policy", std::string(channelPolicyName(policy)));
    n.attrs.set("sparse.out_channels", out);
    n.attrs.set("sparse.in_channels", in);
    if (policy != ChannelPolicy::Velocity)
      return;
    // Velocity re-selects O at run time (odlc_learn_velocity.c); a depthwise layer's one set
    // is its input channels too (sparse.dynamic_in), I of a standard layer stays as chosen.
    int64_t layer = g.attrs.getInt("train.velocity_layers", 0);
    n.attrs.set("sparse.dynamic", layer);
    if (geo.depthwise)
      n.attrs.set("sparse.dynamic_in", int64_t(1));
    g.attrs.set("train.velocity_layers", layer + 1);
  }
};

} // namespace

std::unique_ptr<Pass> createSparseUpdatePass() { return std::make_unique<SparseUpdatePass>(); }

} // namespace odlc
