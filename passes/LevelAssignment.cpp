#include "LevelAssignment.h"

#include "ir/OpTable.h"

#include <algorithm>

namespace odlc {

namespace {

constexpr int64_t kProbeBudget = 2000; ///< search nodes per fit check: greedy is enough here

/// Every tensor sharing root's buffer (the root and its aliases).
bool sharesBuffer(const Graph &g, TensorId t, TensorId root) {
  if (t == root)
    return true;
  const Tensor &tensor = g.tensor(t);
  return tensor.attrs.getString("alias", "") == g.tensor(root).name;
}

bool fits(std::vector<PlanBuffer> buffers, int64_t capacity) {
  if (planLowerBound(buffers) > capacity)
    return false;
  PlanOptions options;
  options.capacity = capacity;
  options.searchBudget = kProbeBudget;
  return planBuffers(buffers, options).ok;
}

} // namespace

double accessesPerByte(const Graph &g, TensorId root) {
  double accesses = 0;
  for (const Node &n : g.nodes) {
    if (n.dead)
      continue;
    double macs = double(opInfo(n.op).macs(g, n));
    for (TensorId in : n.inputs)
      if (in != kNoTensor && sharesBuffer(g, in, root))
        accesses += std::max(macs, double(g.tensor(in).elements()));
    for (TensorId out : n.outputs)
      if (sharesBuffer(g, out, root))
        accesses += double(g.tensor(out).elements());
  }
  return accesses / double(std::max<int64_t>(1, g.tensor(root).bytes()));
}

std::set<int64_t> chooseFastBuffers(const Graph &g, const std::vector<PlanBuffer> &buffers,
                                    int64_t capacity) {
  std::vector<std::pair<double, size_t>> order;
  for (size_t i = 0; i < buffers.size(); ++i)
    if (buffers[i].size <= capacity)
      order.push_back({accessesPerByte(g, TensorId(buffers[i].id)), i});
  std::stable_sort(order.begin(), order.end(),
                   [](const auto &a, const auto &b) { return a.first > b.first; });
  std::vector<PlanBuffer> chosen;
  std::set<int64_t> ids;
  for (const auto &[heat, i] : order) {
    chosen.push_back(buffers[i]);
    if (!fits(chosen, capacity)) {
      chosen.pop_back();
      continue;
    }
    ids.insert(buffers[i].id);
  }
  return ids;
}

} // namespace odlc
