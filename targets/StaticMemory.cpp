#include "targets/StaticMemory.h"

#include "Diagnostics.h"

namespace odlc {

int64_t replaySlotBytes(int64_t elements, int64_t bits) {
  return bits == 8 ? elements + 8 : 4 * elements;
}

namespace {

/// --channel-policy velocity (TrainEmitter's velocityState): per dynamic layer the selection
/// (and its initial copy), two signatures of probes x channels, phi and velocity per channel;
/// the probe index of each batch row.
void velocityBuffers(const Graph &g, int64_t batch, std::vector<StaticBuffer> &buffers) {
  if (!g.attrs.has("train.velocity_layers"))
    return;
  int64_t probes = g.attrs.getInt("train.velocity_probes"), bytes = 4 * batch;
  for (const Node *n : velocityLayers(g)) {
    int64_t channels = g.tensor(n->outputs[0]).shape[1];
    int64_t selected = int64_t(n->attrs.getInts("sparse.out_channels").size());
    bytes += 4 * (2 * selected + 2 * probes * channels + 2 * channels);
  }
  buffers.push_back({"velocity.state", "scratch", "ram", bytes});
}

} // namespace

std::vector<const Node *> velocityLayers(const Graph &g) {
  std::vector<const Node *> layers(size_t(g.attrs.getInt("train.velocity_layers", 0)), nullptr);
  int train = g.findFunction("train");
  for (const Node &n : g.nodes)
    if (!n.dead && n.fn == train && (n.op == OpKind::Conv || n.op == OpKind::Gemm) &&
        n.attrs.has("sparse.dynamic"))
      layers[size_t(n.attrs.getInt("sparse.dynamic"))] = &n;
  for (const Node *n : layers)
    ODLC_ASSERT(n != nullptr, "a velocity layer has no forward node in the train function");
  return layers;
}

std::vector<StaticBuffer> staticBuffers(const Graph &g) {
  std::vector<StaticBuffer> buffers;
  for (const Tensor &t : g.tensors) {
    if (!t.isConstant())
      continue;
    if (t.attrs.getInt("trainable", 0) != 0)
      buffers.push_back({t.name, "weight", "ram", t.bytes()});
    else if (t.attrs.has("state"))
      buffers.push_back({t.name, "gradient", "ram", t.bytes()});
  }
  int train = g.findFunction("train");
  if (train <= 0)
    return buffers;
  int64_t batch = g.attrs.getInt("train.batch");
  int64_t latent = g.tensor(g.functions[size_t(train - 1)].inputs[0]).elements() / batch;
  int64_t slots = std::max<int64_t>(1, g.attrs.getInt("train.replay_samples"));
  int64_t bits = g.attrs.getInt("train.replay_bits");
  const Shape &out = g.tensor(g.outputs[0]).shape;
  int64_t classes = out.empty() ? 1 : out.back();
  bool inFlash = g.attrs.getString("train.replay_in", "ram") == "flash";
  buffers.push_back({"replay.latents", "replay", inFlash ? "flash" : "ram",
                     slots * latent * (bits == 8 ? 1 : 4)});
  if (inFlash && bits == 8)
    buffers.push_back({"replay.stage", "scratch", "ram", latent});
  // labels, per-class counters and, for uint8, each slot's scale and offset
  buffers.push_back({"replay.labels", "replay", "ram",
                     4 * slots + 8 * classes + (bits == 8 ? 8 * slots : 0)});
  buffers.push_back({"train.batch_labels", "scratch", "ram", 4 * batch + 8 * classes});
  velocityBuffers(g, batch, buffers);
  int64_t cache = g.attrs.getInt("train.learn_cache", 0);
  if (cache > 0)
    buffers.push_back({"learn.latent_cache", "scratch", "ram", 4 * cache * latent});
  return buffers;
}

} // namespace odlc
