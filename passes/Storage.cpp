#include "Storage.h"

#include "ir/OpTable.h"

#include <algorithm>

namespace odlc {

namespace {

class StorageAnalysis {
public:
  explicit StorageAnalysis(const Graph &g) : g_(g) {
    size_t n = g.tensors.size();
    info_.root.resize(n);
    info_.kind.assign(n, StorageKind::Arena);
    info_.outputIndex.assign(n, -1);
    info_.outputFn.assign(n, -1);
    info_.first.assign(n, 0);
    info_.last.assign(n, 0);
    info_.inPlaceOperand.assign(g.nodes.size(), -1);
    lastUse_.assign(n, -1);
    for (size_t t = 0; t < n; ++t) {
      info_.root[t] = TensorId(t);
      if (g.tensors[t].kind == TensorKind::Input)
        info_.kind[t] = StorageKind::Input;
      if (g.tensors[t].isConstant())
        info_.kind[t] = StorageKind::Constant;
    }
  }

  StorageInfo run() {
    computeFunctionSpans();
    computeLastUses();
    for (size_t i = 0; i < g_.nodes.size(); ++i)
      assignNode(int(i));
    assignOutputs();
    computeLifetimes();
    return info_;
  }

private:
  /// First and last step of every function (nodes of a function are contiguous).
  void computeFunctionSpans() {
    size_t count = g_.functions.size() + 1;
    fnFirst_.assign(count, -1);
    fnLast_.assign(count, -1);
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      size_t fn = size_t(g_.nodes[i].fn);
      if (fnFirst_[fn] < 0)
        fnFirst_[fn] = int(i);
      fnLast_[fn] = int(i);
    }
  }

  void computeLastUses() {
    for (size_t i = 0; i < g_.nodes.size(); ++i)
      for (TensorId in : g_.nodes[i].inputs)
        if (in != kNoTensor)
          lastUse_[size_t(in)] = int(i);
    for (int fn = 0; fn <= int(g_.functions.size()); ++fn)
      for (TensorId out : g_.functionOutputs(fn))
        lastUse_[size_t(out)] = std::max(lastUse_[size_t(out)], fnLast_[size_t(fn)] + 1);
  }

  /// Last step any tensor sharing `root`'s buffer is read.
  int classLastUse(TensorId root) const {
    int last = -1;
    for (size_t t = 0; t < info_.root.size(); ++t)
      if (info_.root[t] == root)
        last = std::max(last, lastUse_[t]);
    return last;
  }

  bool canOverwrite(int step, TensorId operand, TensorId result) const {
    TensorId root = info_.root[size_t(operand)];
    if (info_.kind[size_t(root)] != StorageKind::Arena)
      return false;
    if (g_.tensor(operand).shape != g_.tensor(result).shape)
      return false; // a broadcast operand is read more than once per output element
    return classLastUse(root) == step;
  }

  void assignNode(int step) {
    const Node &node = g_.nodes[size_t(step)];
    const OpInfo &info = opInfo(node.op);
    if (info.isView) {
      info_.root[size_t(node.outputs[0])] = info_.root[size_t(node.inputs[0])];
      return;
    }
    if (!info.inPlace)
      return;
    size_t candidates = node.inputs.size() == 2 && info.maxInputs == 2 ? 2 : 1;
    for (size_t i = 0; i < candidates; ++i) {
      TensorId operand = node.inputs[i];
      if (operand == kNoTensor || !canOverwrite(step, operand, node.outputs[0]))
        continue;
      info_.root[size_t(node.outputs[0])] = info_.root[size_t(operand)];
      info_.inPlaceOperand[size_t(step)] = int(i);
      return;
    }
  }

  /// A function output computed into the arena is computed straight into the caller's buffer
  /// (except arena inputs of another function, which must stay where that function reads them).
  void assignOutputs() {
    for (int fn = 0; fn <= int(g_.functions.size()); ++fn) {
      const std::vector<TensorId> &outs = g_.functionOutputs(fn);
      for (size_t k = 0; k < outs.size(); ++k) {
        TensorId root = info_.root[size_t(outs[k])];
        if (info_.kind[size_t(root)] != StorageKind::Arena)
          continue; // an input or constant: the emitter copies it
        info_.kind[size_t(root)] = StorageKind::Output;
        info_.outputIndex[size_t(root)] = int(k);
        info_.outputFn[size_t(root)] = fn;
      }
    }
  }

  void computeLifetimes() {
    std::vector<int> producedAt(g_.tensors.size(), 0);
    for (size_t i = 0; i < g_.nodes.size(); ++i)
      for (TensorId out : g_.nodes[i].outputs)
        producedAt[size_t(out)] = int(i);
    for (size_t t = 0; t < g_.tensors.size(); ++t) {
      if (info_.root[t] != TensorId(t))
        continue;
      info_.first[t] = producedAt[t];
      info_.last[t] = std::max(producedAt[t], classLastUse(TensorId(t)));
    }
    // An arena input of a function is live from its first step, or from the first step of the
    // function that fills it (the training batch, filled sample by sample by the prefix).
    for (int fn = 1; fn <= int(g_.functions.size()); ++fn) {
      for (TensorId in : g_.functionInputs(fn)) {
        if (g_.tensor(in).kind != TensorKind::Value)
          continue;
        int filler = g_.findFunction(g_.tensor(in).attrs.getString("filled_by", ""));
        bool fills = filler > 0 && fnFirst_[size_t(filler)] >= 0;
        int from = fills ? fnFirst_[size_t(filler)] : fnFirst_[size_t(fn)];
        info_.first[size_t(in)] = std::max(0, from);
        info_.last[size_t(in)] = std::max(info_.last[size_t(in)], info_.first[size_t(in)]);
      }
    }
  }

  const Graph &g_;
  StorageInfo info_;
  std::vector<int> lastUse_;
  std::vector<int> fnFirst_, fnLast_;
};

} // namespace

StorageInfo analyzeStorage(const Graph &graph) { return StorageAnalysis(graph).run(); }

int64_t arenaLowerBound(const Graph &g, int64_t alignment) {
  StorageInfo s = analyzeStorage(g);
  std::vector<int64_t> delta(g.nodes.size() + 2, 0);
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    if (s.root[t] != TensorId(t) || s.kind[t] != StorageKind::Arena ||
        g.tensors[t].kind != TensorKind::Value)
      continue;
    int64_t bytes = (g.tensors[t].bytes() + alignment - 1) / alignment * alignment;
    delta[size_t(s.first[t])] += bytes;
    delta[size_t(s.last[t]) + 1] -= bytes;
  }
  int64_t live = 0, peak = 0;
  for (int64_t d : delta) {
    live += d;
    peak = std::max(peak, live);
  }
  return peak;
}

} // namespace odlc
