#include "targets/PlanReport.h"

#include "ir/OpTable.h"
#include "targets/StaticMemory.h"
#include "targets/TargetInfo.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace odlc {

namespace {

using Json = nlohmann::ordered_json;

Json nullableBytes(int64_t bytes) { return bytes > 0 ? Json(bytes) : Json(nullptr); }

std::string kib(int64_t bytes) { return fmt::format("{:.1f} KiB", double(bytes) / 1024.0); }

std::string bar(int64_t used, int64_t budget) {
  if (budget <= 0)
    return "(no budget)";
  int filled = int(std::min<int64_t>(30, (used * 30 + budget - 1) / budget));
  return "`" + std::string(size_t(filled), '#') + std::string(size_t(30 - filled), '.') +
         fmt::format("` {:.1f} %", 100.0 * double(used) / double(budget));
}

std::string markdown(const PlanSummary &p) {
  std::string md = fmt::format("# Memory plan ({})\n\n", p.target);
  md += "| memory | used | budget | use |\n|---|---:|---:|---|\n";
  int64_t ram = p.arenaBytes + p.staticRamBytes;
  md += fmt::format("| RAM (arena + static) | {} | {} | {} |\n", kib(ram),
                    p.ramBudget ? kib(p.ramBudget) : "-", bar(ram, p.ramBudget));
  md += fmt::format("| flash (weights) | {} | {} | {} |\n\n", kib(p.weightBytes),
                    p.flashBudget ? kib(p.flashBudget) : "-", bar(p.weightBytes, p.flashBudget));
  md += fmt::format("Arena {} bytes; lower bound for this schedule {} bytes ({:.1f} % over).\n\n",
                    p.arenaBytes, p.lowerBoundBytes,
                    p.lowerBoundBytes ? 100.0 * double(p.arenaBytes - p.lowerBoundBytes) /
                                            double(p.lowerBoundBytes)
                                      : 0.0);
  std::vector<PlanEntry> top = p.buffers;
  std::stable_sort(top.begin(), top.end(),
                   [](const PlanEntry &a, const PlanEntry &b) { return a.size > b.size; });
  md += "## Largest buffers\n\n| buffer | kind | level | bytes | offset | live steps |\n"
        "|---|---|---|---:|---:|---|\n";
  for (size_t i = 0; i < top.size() && i < 10; ++i)
    md += fmt::format("| `{}` | {} | {} | {} | {} | {}..{} |\n", top[i].name, top[i].kind,
                      top[i].level, top[i].size, top[i].offset, top[i].first, top[i].last);
  return md;
}

/// The arena over time: x = schedule step, y = offset; one rectangle per activation buffer.
std::string svg(const PlanSummary &p) {
  const double width = 800, height = 400, left = 60, top = 20;
  double steps = double(std::max<int64_t>(1, p.steps));
  double bytes = double(std::max<int64_t>(1, std::max(p.arenaBytes, p.lowerBoundBytes)));
  auto x = [&](double step) { return left + step / steps * (width - left - 20); };
  auto y = [&](double offset) { return top + (1.0 - offset / bytes) * (height - top - 40); };
  std::string s = fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" "
                              "height=\"{}\" font-family=\"sans-serif\" font-size=\"11\">\n",
                              width, height);
  s += fmt::format("<text x=\"{}\" y=\"14\">arena over the schedule ({}): {} bytes, lower bound "
                   "{} bytes</text>\n",
                   left, p.target, p.arenaBytes, p.lowerBoundBytes);
  for (const PlanEntry &b : p.buffers) {
    if (b.level != "ram")
      continue;
    s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                     "fill=\"#4e79a7\" fill-opacity=\"0.7\" stroke=\"#1f3b5a\"><title>{} "
                     "({} B, steps {}..{})</title></rect>\n",
                     x(double(b.first)), y(double(b.offset + b.size)),
                     x(double(b.last + 1)) - x(double(b.first)),
                     y(double(b.offset)) - y(double(b.offset + b.size)), b.name, b.size, b.first,
                     b.last);
  }
  s += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#e15759\" "
                   "stroke-dasharray=\"4 3\"/><text x=\"{1}\" y=\"{3:.1f}\" text-anchor=\"end\" "
                   "fill=\"#e15759\">lower bound</text>\n",
                   left, width - 20, y(double(p.lowerBoundBytes)),
                   y(double(p.lowerBoundBytes)) - 3);
  s += fmt::format("<text x=\"{}\" y=\"{}\">schedule step</text>\n", width / 2, height - 10);
  return s + "</svg>\n";
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
  p.steps = int64_t(g.nodes.size());
  int64_t end = std::max<int64_t>(0, p.steps - 1);
  for (const Tensor &t : g.tensors) {
    if (t.attrs.getString("mem", "") != "arena")
      continue;
    std::string kind = t.attrs.getString("role", "") == "gradient" ? "gradient" : "activation";
    p.buffers.push_back({t.name, kind, "ram", t.attrs.getInt("offset"), t.bytes(),
                         t.attrs.getInt("first"), t.attrs.getInt("last")});
  }
  // Static RAM sits after the arena and lives for the whole program.
  int64_t ramOffset = p.arenaBytes;
  for (const StaticBuffer &b : staticRamBuffers(g)) {
    p.buffers.push_back({b.name, b.kind, b.level, ramOffset, b.bytes, 0, end});
    ramOffset += b.bytes;
    p.staticRamBytes += b.bytes;
    if (b.kind == "replay")
      p.replayRamBytes += b.bytes;
  }
  for (int fn = 0; fn <= int(g.functions.size()); ++fn) {
    int64_t macs = 0;
    for (const Node &n : g.nodes)
      if (!n.dead && n.fn == fn)
        macs += opInfo(n.op).macs(g, n);
    p.macs.push_back({g.functionName(fn), macs});
  }
  p.cut = g.attrs.getString("train.cut", "");
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
  return p;
}

std::string planJson(const PlanSummary &p) {
  Json j;
  j["target"] = p.target;
  j["budget"] = {{"ram_bytes", nullableBytes(p.ramBudget)},
                 {"flash_bytes", nullableBytes(p.flashBudget)}};
  j["ram"] = {{"arena_bytes", p.arenaBytes},
              {"lower_bound_bytes", p.lowerBoundBytes},
              {"replay_bytes", p.replayRamBytes},
              {"total_bytes", p.arenaBytes + p.staticRamBytes}};
  j["flash"] = {{"weights_bytes", p.weightBytes}, {"replay_bytes", 0},
                {"total_bytes", p.weightBytes}};
  j["train"] = {{"cut", p.cut.empty() ? Json(nullptr) : Json(p.cut)},
                {"trainable", p.trainable},
                {"sparse", Json::object()},
                {"bits", Json::object()}};
  j["macs"] = Json::object();
  for (const auto &[fn, macs] : p.macs)
    j["macs"][fn] = macs;
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
  files["memory_plan.md"] = markdown(plan);
  files["memory_plan.svg"] = svg(plan);
}

} // namespace odlc
