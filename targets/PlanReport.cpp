#include "targets/PlanReport.h"

#include "ir/OpTable.h"
#include "targets/StaticMemory.h"
#include "targets/TargetInfo.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

namespace odlc {

namespace {

using Json = nlohmann::ordered_json;

Json nullableBytes(int64_t bytes) { return bytes > 0 ? Json(bytes) : Json(nullptr); }

/// The weight a backward node of a layer reads or updates, or kNoTensor for other nodes.
TensorId layerWeightOf(const Node &n) {
  if (n.op == OpKind::ConvGradInput || n.op == OpKind::GemmGradA ||
      n.op == OpKind::ConvGradInputBlock || n.op == OpKind::GemmGradABlock)
    return n.inputs[1];
  if (n.op == OpKind::ConvUpdate || n.op == OpKind::GemmUpdate)
    return n.inputs[2];
  return kNoTensor;
}

/// Layers with weights, in inference order, with what training them keeps in memory and
/// costs in the backward pass (from the train function's nodes).
void collectLayers(const Graph &g, PlanSummary &p) {
  std::map<TensorId, int64_t> kept, backwardMacs;
  int train = g.findFunction("train");
  for (const Node &n : g.nodes) {
    if (n.dead || train <= 0 || n.fn != train)
      continue;
    TensorId w = layerWeightOf(n);
    if (w == kNoTensor)
      continue;
    backwardMacs[w] += opInfo(n.op).macs(g, n);
    if (n.op == OpKind::ConvUpdate || n.op == OpKind::GemmUpdate)
      kept[w] = g.tensor(n.inputs[0]).bytes(); // x, or the channels a sparse update keeps
  }
  for (const Node &n : g.nodes) {
    if (n.dead || n.fn != 0)
      continue;
    if (n.op != OpKind::Conv && n.op != OpKind::Gemm && n.op != OpKind::MatMul)
      continue;
    LayerRow row;
    row.name = n.name;
    row.op = opName(n.op);
    row.weight = g.tensor(n.inputs[1]).name;
    for (size_t i = 1; i < n.inputs.size(); ++i) {
      const Tensor &w = g.tensor(n.inputs[i]);
      if (!w.isConstant())
        continue;
      row.paramBytes += w.bytes();
      row.trainable = row.trainable || w.attrs.getInt("trainable", 0) != 0;
    }
    if (row.trainable && kept.count(n.inputs[1]))
      row.keptBytes = kept[n.inputs[1]];
    if (backwardMacs.count(n.inputs[1]))
      row.backwardMacs = backwardMacs[n.inputs[1]];
    if (n.attrs.has("sparse.out_channels")) {
      row.outChannels = n.attrs.getInts("sparse.out_channels");
      row.inChannels = n.attrs.getInts("sparse.in_channels");
    }
    p.layers.push_back(row);
  }
  p.sparse = g.attrs.getString("train.sparse", "");
  p.channelPolicy = g.attrs.getString("train.channel_policy", "");
  if (g.attrs.has("train.sparse_densities"))
    p.sparseDensities = g.attrs.getFloats("train.sparse_densities");
  p.sparseReason = g.attrs.getString("train.sparse_reason", "");
}

} // namespace

PlanSummary summarizePlan(const Graph &g, const TargetInfo &target, int64_t ramBudget,
                          int64_t flashBudget) {
  PlanSummary p;
  p.target = target.name;
  p.ramBudget = ramBudget > 0 ? ramBudget : target.ramBytes();
  p.flashBudget = flashBudget > 0 ? flashBudget : target.flashBytes();
  p.arenaBytes = g.attrs.getInt("arena_bytes", 0);
  p.lowerBoundBytes = g.attrs.getInt("lower_bound_bytes", 0);
  p.boundBeforeSchedule = g.attrs.getInt("schedule.bound_before", p.lowerBoundBytes);
  p.boundAfterSchedule = g.attrs.getInt("schedule.bound_after", p.lowerBoundBytes);
  p.fastLevel = g.attrs.getString("fast_level", "");
  p.fastArenaBytes = g.attrs.getInt("fast_arena_bytes", 0);
  p.fastLowerBoundBytes = g.attrs.getInt("fast_lower_bound_bytes", 0);
  p.fastPolicy = g.attrs.getString("fast_policy", "hottest");
  for (const MemoryRegion &m : target.memories)
    if (m.name == p.fastLevel)
      p.fastCapacity = int64_t(m.size);
  p.steps = int64_t(g.nodes.size());
  int64_t end = std::max<int64_t>(0, p.steps - 1);
  for (const Tensor &t : g.tensors) {
    if (t.attrs.getString("mem", "") != "arena")
      continue;
    std::string role = t.attrs.getString("role", "");
    std::string kind = role == "gradient" || role == "scratch" ? role : "activation";
    p.buffers.push_back({t.name, kind, t.attrs.getString("level", "ram"), t.attrs.getInt("offset"),
                         t.bytes(), t.attrs.getInt("first"), t.attrs.getInt("last")});
  }
  // Static RAM sits after the (main level's) arena and lives for the whole program.
  int64_t ramOffset = p.arenaBytes - p.fastArenaBytes;
  std::vector<StaticBuffer> flashStatics;
  for (const StaticBuffer &b : staticBuffers(g)) {
    if (b.level == "flash") {
      flashStatics.push_back(b);
      continue;
    }
    p.buffers.push_back({b.name, b.kind, b.level, ramOffset, b.bytes, 0, end});
    ramOffset += b.bytes;
    p.staticRamBytes += b.bytes;
    if (b.kind == "replay")
      p.replayRamBytes += b.bytes;
  }
  for (int fn = 0; fn <= int(g.functions.size()); ++fn) {
    for (size_t i = 0; i < g.nodes.size(); ++i)
      if (g.nodes[i].fn == fn) {
        p.functionStarts.push_back({g.functionName(fn), int64_t(i)});
        break;
      }
    int64_t macs = 0;
    for (const Node &n : g.nodes)
      if (!n.dead && n.fn == fn)
        macs += opInfo(n.op).macs(g, n);
    p.macs.push_back({g.functionName(fn), macs});
  }
  p.cut = g.attrs.getString("train.cut", "");
  p.cutReason = g.attrs.getString("train.cut_reason", "");
  p.runnerUp = g.attrs.getString("train.runner_up", "");
  p.deeperRejected = g.attrs.getString("train.deeper_rejected", "");
  p.batch = g.attrs.getInt("train.batch", 0);
  collectLayers(g, p);
  for (const Tensor &t : g.tensors)
    if (t.isConstant() && t.attrs.getInt("trainable", 0) != 0)
      p.trainable.push_back(t.name);
  int64_t offset = 0;
  for (const Tensor &t : g.tensors) {
    if (!t.isConstant() || t.attrs.has("state"))
      continue;
    p.buffers.push_back({t.name, "weight", "flash", offset, t.bytes(), 0, end});
    offset += t.bytes();
  }
  p.weightBytes = offset;
  for (const StaticBuffer &b : flashStatics) { // after the weights, as odlc_memory.ld places it
    p.buffers.push_back({b.name, b.kind, b.level, offset, b.bytes, 0, end});
    offset += b.bytes;
    p.replayFlashBytes += b.bytes;
  }
  return p;
}

std::string planJson(const PlanSummary &p) {
  Json j;
  j["target"] = p.target;
  j["budget"] = {{"ram_bytes", nullableBytes(p.ramBudget)},
                 {"flash_bytes", nullableBytes(p.flashBudget)}};
  j["ram"] = {{"arena_bytes", p.arenaBytes},
              {"lower_bound_bytes", p.lowerBoundBytes},
              {"lower_bound_before_schedule_bytes", p.boundBeforeSchedule},
              {"lower_bound_after_schedule_bytes", p.boundAfterSchedule},
              {"replay_bytes", p.replayRamBytes},
              {"total_bytes", p.arenaBytes + p.staticRamBytes}};
  if (!p.fastLevel.empty())
    j["levels"] = {{p.fastLevel,
                    {{"arena_bytes", p.fastArenaBytes},
                     {"lower_bound_bytes", p.fastLowerBoundBytes},
                     {"capacity_bytes", p.fastCapacity},
                     {"policy", p.fastPolicy}}},
                   {"ram",
                    {{"arena_bytes", p.arenaBytes - p.fastArenaBytes},
                     {"lower_bound_bytes", p.lowerBoundBytes - p.fastLowerBoundBytes}}}};
  j["flash"] = {{"weights_bytes", p.weightBytes},
                {"replay_bytes", p.replayFlashBytes},
                {"total_bytes", p.weightBytes + p.replayFlashBytes}};
  j["train"] = {{"cut", p.cut.empty() ? Json(nullptr) : Json(p.cut)},
                {"trainable", p.trainable},
                {"sparse", Json::object()},
                {"bits", Json::object()}};
  for (const LayerRow &row : p.layers)
    if (!row.outChannels.empty())
      j["train"]["sparse"][row.weight] = {{"out_channels", row.outChannels},
                                          {"in_channels", row.inChannels}};
  if (!p.sparse.empty())
    j["train"]["sparse_mode"] = {{"sparse", p.sparse}, {"channel_policy", p.channelPolicy}};
  if (!p.sparseReason.empty())
    j["train"]["sparse_mode"]["densities"] = p.sparseDensities;
  if (!p.sparseReason.empty())
    j["train"]["sparse_mode"]["reason"] = p.sparseReason;
  if (!p.cutReason.empty())
    j["train"]["cut_reason"] = p.cutReason;
  if (!p.runnerUp.empty())
    j["train"]["runner_up"] = p.runnerUp;
  if (!p.deeperRejected.empty())
    j["train"]["deeper_rejected"] = p.deeperRejected;
  j["macs"] = Json::object();
  for (const auto &[fn, macs] : p.macs)
    j["macs"][fn] = macs;
  if (!p.cut.empty()) {
    j["layers"] = Json::array();
    for (const LayerRow &row : p.layers)
      j["layers"].push_back({{"name", row.name},
                             {"op", row.op},
                             {"weight", row.weight},
                             {"trainable", row.trainable},
                             {"kept_bytes", row.keptBytes},
                             {"backward_macs", row.backwardMacs}});
  }
  j["buffers"] = Json::array();
  for (const PlanEntry &b : p.buffers)
    j["buffers"].push_back({{"name", b.name},
                            {"kind", b.kind},
                            {"level", b.level},
                            {"offset", b.offset},
                            {"size", b.size},
                            {"first", b.first},
                            {"last", b.last}});
  return j.dump(2) + "\n";
}

void writePlanReport(FileSet &files, const PlanSummary &plan) {
  files["memory_plan.json"] = planJson(plan);
  files["memory_plan.md"] = planMarkdown(plan);
  files["memory_plan.svg"] = planSvg(plan);
}

std::string largestThree(std::vector<std::pair<int64_t, std::string>> sizes) {
  std::stable_sort(sizes.begin(), sizes.end(),
                   [](const auto &a, const auto &b) { return a.first > b.first; });
  std::string text;
  for (size_t i = 0; i < sizes.size() && i < 3; ++i)
    text += fmt::format("{}'{}' ({} B)", i ? ", " : "", sizes[i].second, sizes[i].first);
  return text;
}

} // namespace odlc
