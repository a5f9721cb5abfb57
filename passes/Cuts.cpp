#include "Cuts.h"

#include "ir/OpTable.h"

#include <set>

namespace odlc {

namespace {

/// Can data flow from the graph inputs to any graph output without passing through `blocked`?
bool outputsReachableAvoiding(const Graph &g, TensorId blocked) {
  std::vector<bool> reached(g.tensors.size(), false);
  for (TensorId in : g.inputs)
    reached[size_t(in)] = in != blocked;
  for (const Node &n : g.nodes) {
    if (n.dead || n.fn != 0)
      continue;
    bool any = false;
    for (TensorId in : n.inputs)
      any = any || (in != kNoTensor && reached[size_t(in)]);
    for (TensorId out : n.outputs)
      reached[size_t(out)] = any && out != blocked;
  }
  for (TensorId out : g.outputs)
    if (reached[size_t(out)])
      return true;
  return false;
}

/// Tensors computed from `cut` (including it).
std::vector<bool> downstreamOf(const Graph &g, TensorId cut) {
  std::vector<bool> down(g.tensors.size(), false);
  down[size_t(cut)] = true;
  for (const Node &n : g.nodes) {
    if (n.dead || n.fn != 0)
      continue;
    bool any = false;
    for (TensorId in : n.inputs)
      any = any || (in != kNoTensor && down[size_t(in)]);
    for (TensorId out : n.outputs)
      down[size_t(out)] = down[size_t(out)] || any;
  }
  return down;
}

CutInfo costOf(const Graph &g, TensorId cut, int64_t batch) {
  CutInfo info;
  info.tensor = cut;
  info.name = g.tensor(cut).name;
  info.latentElements = g.tensor(cut).elements();
  std::vector<bool> needsGrad(g.tensors.size(), false);
  int64_t keptActivations = 0, weightElements = 0;
  for (NodeId id : tailNodes(g, cut)) {
    const Node &n = g.nodes[size_t(id)];
    int64_t macs = opInfo(n.op).macs(g, n);
    info.forwardMacs += macs;
    bool inputNeedsGrad = needsGrad[size_t(n.inputs[0])];
    std::vector<TensorId> weights = layerWeights(g, n);
    bool trains = !weights.empty();
    if (trains) {
      ++info.trainableLayers;
      for (TensorId w : weights)
        weightElements += g.tensor(w).elements();
      keptActivations += g.tensor(n.inputs[0]).elements();
      info.backwardMacs += macs + (inputNeedsGrad ? macs : 0); // weight grad (+ input grad)
    }
    bool any = trains;
    for (TensorId in : n.inputs)
      any = any || (in != kNoTensor && needsGrad[size_t(in)]);
    for (TensorId out : n.outputs)
      needsGrad[size_t(out)] = any;
  }
  info.trainableParams = weightElements;
  info.keptElements = keptActivations;
  info.trainingBytes = 4 * (2 * weightElements + batch * keptActivations);
  return info;
}

} // namespace

bool hasTrainableWeights(OpKind op) {
  return op == OpKind::Conv || op == OpKind::Gemm || op == OpKind::MatMul;
}

std::vector<TensorId> layerWeights(const Graph &g, const Node &n) {
  std::vector<TensorId> weights;
  if (!hasTrainableWeights(n.op))
    return weights;
  for (size_t i = 1; i < n.inputs.size() && i < 3; ++i) {
    TensorId t = n.inputs[i];
    if (i == 2 && n.op == OpKind::Gemm && n.attrs.getFloat("beta") == 0.0)
      continue; // a Gemm bias scaled by 0 has no gradient: nothing to train
    if (t != kNoTensor && g.tensor(t).isConstant() && g.tensor(t).dtype == DType::F32)
      weights.push_back(t);
  }
  return weights;
}

std::vector<NodeId> tailNodes(const Graph &g, TensorId cut) {
  std::vector<bool> down = downstreamOf(g, cut);
  std::vector<NodeId> tail;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node &n = g.nodes[i];
    if (n.dead || n.fn != 0)
      continue;
    for (TensorId in : n.inputs)
      if (in != kNoTensor && down[size_t(in)]) {
        tail.push_back(NodeId(i));
        break;
      }
  }
  return tail;
}

std::vector<CutInfo> findCuts(const Graph &g, int64_t batch) {
  std::vector<CutInfo> cuts;
  std::vector<TensorId> candidates(g.inputs.size() == 1 ? g.inputs : std::vector<TensorId>{});
  for (const Node &n : g.nodes)
    if (!n.dead && n.fn == 0)
      for (TensorId out : n.outputs)
        candidates.push_back(out);
  for (TensorId t : candidates) {
    if (outputsReachableAvoiding(g, t))
      continue;
    CutInfo info = costOf(g, t, batch);
    if (info.trainableLayers > 0) // a cut after the last layer leaves nothing to learn
      cuts.push_back(info);
  }
  return cuts;
}

} // namespace odlc
