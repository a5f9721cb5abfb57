#include "targets/CSymbols.h"

#include "Diagnostics.h"

#include <fmt/format.h>

namespace odlc {

bool isTrainable(const Tensor &t) { return t.attrs.getInt("trainable", 0) != 0; }

bool isState(const Tensor &t) { return t.attrs.has("state"); }

Symbols::Symbols(const Graph &g, const std::string &prefix) : g_(g) {
  std::set<std::string> used;
  auto unique = [&](const std::string &base) {
    std::string name = base;
    for (int i = 1; used.count(name); ++i)
      name = fmt::format("{}_{}", base, i);
    used.insert(name);
    return name;
  };
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const Tensor &tensor = g.tensors[t];
    if (!tensor.isConstant())
      continue;
    std::string id = cIdentifier(tensor.name);
    if (!isState(tensor))
      weights_[TensorId(t)] = unique(prefix + "_w_" + id);
    if (isTrainable(tensor) || isState(tensor))
      ram_[TensorId(t)] = unique(prefix + (isState(tensor) ? "_s_" : "_p_") + id);
  }
  int64_t offset = 0;
  for (TensorId in : g.inputs) {
    inputOffset_[in] = offset;
    offset += g.tensor(in).elements();
  }
  for (const Node &n : g.nodes)
    for (TensorId out : n.outputs)
      producerFn_[out] = n.fn;
}

TensorId Symbols::root(TensorId id) const {
  const Tensor &t = g_.tensor(id);
  if (!t.attrs.has("alias"))
    return id;
  TensorId r = g_.findTensor(t.attrs.getString("alias"));
  ODLC_ASSERT(r != kNoTensor, "alias of '{}' names no tensor", t.name);
  return r;
}

static std::string offsetExpr(const char *base, int64_t floats) {
  return floats == 0 ? std::string(base) : fmt::format("{} + {}", base, floats);
}

std::string Symbols::ref(TensorId id) const {
  TensorId r = root(id);
  const Tensor &t = g_.tensor(r);
  if (t.kind == TensorKind::Input) {
    if (t.dtype == DType::I32)
      return "labels";
    return offsetExpr("input", inputOffset_.at(r));
  }
  if (t.isConstant()) {
    auto it = ram_.find(r);
    return it != ram_.end() ? it->second : weights_.at(r);
  }
  ODLC_ASSERT(t.attrs.has("mem"), "tensor '{}' was not planned", t.name);
  int64_t floats = t.attrs.getInt("offset") / 4;
  if (t.attrs.getString("mem") == "output")
    return offsetExpr("output", floats);
  return offsetExpr(t.attrs.has("level") ? "arena_fast.f" : "arena.f", floats);
}

bool Symbols::computedInOutput(TensorId id, int fn, int k) const {
  TensorId r = root(id);
  const Tensor &t = g_.tensor(r);
  auto producer = producerFn_.find(r);
  return t.attrs.getString("mem", "") == "output" && t.attrs.getInt("output_index", -1) == k &&
         producer != producerFn_.end() && producer->second == fn;
}

} // namespace odlc
