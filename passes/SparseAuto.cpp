#include "SparseAuto.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace odlc {

std::vector<SparseLayer> sparseLayersAfter(const Graph &g, TensorId cut) {
  std::vector<SparseLayer> layers;
  for (NodeId id : tailNodes(g, cut)) {
    const Node &n = g.nodes[size_t(id)];
    std::vector<TensorId> weights = layerWeights(g, n);
    if (weights.empty() || weights[0] != n.inputs[1])
      continue;
    layers.push_back({id, g.tensor(n.inputs[0]).elements(), g.tensor(n.inputs[1]).elements()});
  }
  if (!layers.empty())
    layers.pop_back(); // the classifier
  return layers;
}

std::vector<std::vector<double>> densityLadder(const std::vector<SparseLayer> &layers) {
  static const double kLevels[] = {0.625, 0.75, 0.875, 1.0};
  std::vector<size_t> order(layers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    // kept[a] / params[a] < kept[b] / params[b], without division
    return layers[a].keptElements * layers[b].params < layers[b].keptElements * layers[a].params;
  });
  size_t groups = std::min<size_t>(layers.size(), 4);
  std::vector<double> densities(layers.size(), kAutoMinDensity);
  std::vector<std::vector<double>> ladder{densities};
  for (double level : kLevels)
    for (size_t group = 0; group < groups; ++group) {
      size_t begin = group * layers.size() / groups, end = (group + 1) * layers.size() / groups;
      for (size_t k = begin; k < end; ++k)
        densities[order[k]] = level;
      ladder.push_back(densities);
    }
  return ladder;
}

std::string densityRange(const std::vector<double> &densities) {
  if (densities.empty())
    return "1";
  auto [lo, hi] = std::minmax_element(densities.begin(), densities.end());
  return *lo == *hi ? fmt::format("{:g}", *lo) : fmt::format("{:g} to {:g}", *lo, *hi);
}

} // namespace odlc
