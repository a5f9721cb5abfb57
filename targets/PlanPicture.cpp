// The human half of the memory-plan report: memory_plan.md (budget use as bars, top consumers
// by kind, the per-layer cost table of seed 002, the largest buffers) and memory_plan.svg (the
// RAM over the schedule: one rectangle per buffer, colored by kind, with the lower bound and
// the budget drawn as lines).
#include "targets/PlanReport.h"
#include "targets/TextEscape.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace odlc {

namespace {

std::string kib(int64_t bytes) { return fmt::format("{:.1f} KiB", double(bytes) / 1024.0); }

/// An axis label: 0, 192 B, 64 KiB, 1.5 MiB.
std::string sizeLabel(int64_t bytes) {
  if (bytes >= 1024 * 1024)
    return fmt::format("{:g} MiB", double(bytes) / (1024.0 * 1024.0));
  if (bytes >= 1024)
    return fmt::format("{:g} KiB", double(bytes) / 1024.0);
  return bytes == 0 ? "0" : fmt::format("{} B", bytes);
}

std::string bar(int64_t used, int64_t budget) {
  if (budget <= 0)
    return "(no budget)";
  int filled = int(std::min<int64_t>(30, (used * 30 + budget - 1) / budget));
  return "`" + std::string(size_t(filled), '#') + std::string(size_t(30 - filled), '.') +
         fmt::format("` {:.1f} %", 100.0 * double(used) / double(budget));
}

const char *colorOf(const std::string &kind) {
  if (kind == "gradient")
    return "#f28e2b";
  if (kind == "weight")
    return "#59a14f";
  if (kind == "replay")
    return "#b07aa1";
  if (kind == "scratch")
    return "#9c755f";
  return "#4e79a7"; // activation
}

/// Why the fast level holds what it holds (LevelAssignment's policies).
const char *fastLevelReason(const std::string &policy) {
  if (policy == "peak")
    return "buffers live at the main arena's peak, so that the plan fits the RAM budget (with "
           "the hottest buffers there it did not), then the hottest others it leaves room for";
  if (policy == "fill")
    return "the hottest buffers the RAM budget leaves room for (none at the main arena's peak "
           "fits there)";
  if (policy == "none")
    return "left empty, because the plan fits the RAM budget only in one level";
  return "the buffers with the most accesses per byte";
}

std::string budgetTable(const PlanSummary &p) {
  int64_t ram = p.arenaBytes + p.staticRamBytes;
  std::string md = "| memory | used | budget | use |\n|---|---:|---:|---|\n";
  md += fmt::format("| RAM | {} | {} | {} |\n", kib(ram), p.ramBudget ? kib(p.ramBudget) : "-",
                    bar(ram, p.ramBudget));
  md += fmt::format("| flash | {} | {} | {} |\n\n", kib(p.weightBytes),
                    p.flashBudget ? kib(p.flashBudget) : "-", bar(p.weightBytes, p.flashBudget));
  double over = p.lowerBoundBytes ? 100.0 * double(p.arenaBytes - p.lowerBoundBytes) /
                                        double(p.lowerBoundBytes)
                                  : 0.0;
  if (p.fastLevel.empty()) {
    md += fmt::format("Arena {} bytes; lower bound for this schedule {} bytes ({:.1f} % over).",
                      p.arenaBytes, p.lowerBoundBytes, over);
    md += fmt::format(" Scheduling took the bound (the largest live set of one function) from "
                      "{} to {} bytes.",
                      p.boundBeforeSchedule, p.boundAfterSchedule);
  } else {
    // Each level is bounded by its own largest live set, so the sum can exceed the one-level
    // bound: say which bound is which.
    md += fmt::format("Arena {} bytes in two levels: {} {} bytes of {} (bound {}), {}, and ram "
                      "{} bytes (bound {}). Lower bound for this split {} bytes ({:.1f} % over).",
                      p.arenaBytes, p.fastLevel, p.fastArenaBytes, p.fastCapacity,
                      p.fastLowerBoundBytes, fastLevelReason(p.fastPolicy),
                      p.arenaBytes - p.fastArenaBytes,
                      p.lowerBoundBytes - p.fastLowerBoundBytes, p.lowerBoundBytes, over);
    md += fmt::format(" Scheduling took the one-level bound (the largest live set of one "
                      "function) from {} to {} bytes{}.",
                      p.boundBeforeSchedule, p.boundAfterSchedule,
                      p.lowerBoundBytes > p.boundAfterSchedule
                          ? "; the split into levels adds the rest"
                          : "");
  }
  if (!p.cut.empty())
    md += fmt::format(" Training from `{}` with batches of {}.", markdownCell(p.cut), p.batch);
  md += "\n\n";
  if (!p.cutReason.empty())
    md += fmt::format("- Why this cut: {}\n", p.cutReason);
  if (!p.deeperRejected.empty())
    md += fmt::format("- Deeper cut rejected: {}\n", p.deeperRejected);
  if (!p.runnerUp.empty())
    md += fmt::format("- Runner-up: {}\n", p.runnerUp);
  if (!p.sparseReason.empty())
    md += fmt::format("- Sparse update: {}\n", p.sparseReason);
  return md + (p.cutReason.empty() ? "" : "\n");
}

/// Bytes a level holds in this plan: its arena, plus the static buffers for the main RAM.
int64_t levelBytes(const PlanSummary &p, const std::string &level) {
  if (level == "flash")
    return p.weightBytes;
  if (!p.fastLevel.empty() && level == p.fastLevel)
    return p.fastArenaBytes;
  return p.arenaBytes - p.fastArenaBytes + p.staticRamBytes;
}

/// Peak bytes of each kind at one step (arena buffers share bytes over time), plus the static
/// buffers, by level: where the memory goes.
std::string consumersTable(const PlanSummary &p) {
  std::map<std::pair<std::string, std::string>, std::map<int64_t, int64_t>> deltas;
  for (const PlanEntry &b : p.buffers) {
    auto &d = deltas[{b.level, b.kind}];
    d[b.first] += b.size;
    d[b.last + 1] -= b.size;
  }
  std::vector<std::pair<int64_t, std::pair<std::string, std::string>>> rows;
  for (const auto &[key, d] : deltas) {
    int64_t live = 0, peak = 0;
    for (const auto &[step, delta] : d) {
      live += delta;
      peak = std::max(peak, live);
    }
    rows.push_back({peak, key});
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto &a, const auto &b) { return a.first > b.first; });
  std::string md = "## Top consumers by kind\n\n| level | kind | peak bytes | share of the level |\n"
                   "|---|---|---:|---|\n";
  for (const auto &[bytes, key] : rows)
    md += fmt::format("| {} | {} | {} | {} |\n", key.first, key.second, bytes,
                      bar(bytes, levelBytes(p, key.first)));
  return md + "\n";
}

/// Seed 002's table per layer with weights: parameters, weight gradients, kept activations.
std::string layerTable(const PlanSummary &p) {
  if (p.layers.empty())
    return "";
  std::string md = "## Layers\n\n| layer | op | trains | parameters | weight gradients | "
                   "activations kept for backward |\n|---|---|---|---:|---:|---:|\n";
  int64_t params = 0, kept = 0;
  for (const LayerRow &row : p.layers) {
    md += fmt::format("| `{}` | {} | {} | {} | {} | {} |\n", markdownCell(row.name), row.op,
                      row.trainable ? "yes" : "", row.paramBytes,
                      row.trainable ? "0 (fused update)" : "", row.trainable ? row.keptBytes : 0);
    params += row.paramBytes;
    kept += row.keptBytes;
  }
  md += fmt::format("| **total** | | | {} | 0 | {} |\n", params, kept);
  if (!p.cut.empty())
    md += fmt::format("| **replay buffer** | | | | | {} |\n", p.replayRamBytes);
  return md + "\n";
}

std::string largestBuffers(const PlanSummary &p) {
  std::vector<PlanEntry> top = p.buffers;
  std::stable_sort(top.begin(), top.end(),
                   [](const PlanEntry &a, const PlanEntry &b) { return a.size > b.size; });
  std::string md = "## Largest buffers\n\n| buffer | kind | level | bytes | offset | live steps "
                   "|\n|---|---|---|---:|---:|---|\n";
  for (size_t i = 0; i < top.size() && i < 12; ++i)
    md += fmt::format("| `{}` | {} | {} | {} | {} | {}..{} |\n", markdownCell(top[i].name),
                      top[i].kind, top[i].level, top[i].size, top[i].offset, top[i].first,
                      top[i].last);
  return md;
}

struct Frame {
  // top leaves a row for the legend under the title; right holds the lines' labels.
  double width = 960, height = 500, left = 80, right = 150, top = 58, bottom = 50;
  double steps = 1, bytes = 1;
  double x(double step) const { return left + step / steps * (width - left - right); }
  double y(double offset) const { return top + (1.0 - offset / bytes) * (height - top - bottom); }
};

/// A dashed line across the chart at `bytes`, labelled in the right margin.
struct MarkedLine {
  int64_t bytes;
  const char *color;
  std::string label;
};

/// The lines, then their labels, each label at least one text line from the next so that
/// close lines (a bound just under the budget) stay readable.
std::string markedLines(const Frame &f, std::vector<MarkedLine> lines) {
  std::stable_sort(lines.begin(), lines.end(),
                   [](const MarkedLine &a, const MarkedLine &b) { return a.bytes > b.bytes; });
  std::string s;
  double labelY = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    double y = f.y(double(lines[i].bytes));
    labelY = i == 0 ? y + 4 : std::max(y + 4, labelY + 14);
    s += fmt::format("<line x1=\"{0:.1f}\" x2=\"{1:.1f}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" "
                     "stroke=\"{3}\" stroke-width=\"1.5\" stroke-dasharray=\"6 3\"/>"
                     "<text x=\"{4:.1f}\" y=\"{5:.1f}\" fill=\"{3}\">{6}</text>\n",
                     f.left, f.width - f.right, y, lines[i].color, f.width - f.right + 4, labelY,
                     lines[i].label);
  }
  return s;
}

std::string axes(const Frame &f) {
  std::string s = fmt::format(
      "<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#333\"/>"
      "<line x1=\"{0}\" x2=\"{3}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#333\"/>\n",
      f.left, f.top, f.height - f.bottom, f.width - f.right);
  // Ticks at multiples of a power of two, at most six: 256 KiB, 512 KiB, ... read at a glance.
  int64_t step = 64;
  while (f.bytes / double(step) > 6)
    step *= 2;
  for (int64_t bytes = 0; double(bytes) <= f.bytes; bytes += step)
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n",
                     f.left - 4, f.y(double(bytes)) + 4, sizeLabel(bytes));
  // Step ticks at 1, 2 or 5 times a power of ten, at most eight: the steps of the report's
  // "live steps" column.
  int64_t every = 1;
  for (int k = 0; f.steps / double(every) > 8; ++k)
    every = (k % 3 == 1) ? every / 2 * 5 : every * 2; // 1, 2, 5, 10, 20, 50, ...
  for (int64_t step = 0; double(step) <= f.steps; step += every)
    s += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#333\"/>"
                     "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
                     f.x(double(step)), f.height - f.bottom, f.height - f.bottom + 4,
                     f.height - f.bottom + 17, step);
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">schedule step</text>\n",
                   (f.left + f.width - f.right) / 2, f.height - 8);
  return s;
}

/// The kinds drawn in the picture, in a fixed order, in one row under the title: the right
/// margin is left to the lines' labels, which may sit at any height.
std::string legend(const Frame &f, const std::set<std::string> &drawnKinds) {
  std::string s;
  double x = f.left;
  for (const char *kind : {"activation", "gradient", "weight", "replay", "scratch"}) {
    if (!drawnKinds.count(kind))
      continue;
    s += fmt::format("<rect x=\"{0:.1f}\" y=\"{1:.1f}\" width=\"12\" height=\"12\" fill=\"{2}\"/>"
                     "<text x=\"{3:.1f}\" y=\"{4:.1f}\">{5}</text>\n",
                     x, f.top - 24, colorOf(kind), x + 16, f.top - 14, kind);
    x += 16 + 7.0 * double(std::string(kind).size()) + 18; // about 7 px a character at 12 px
  }
  return s;
}

} // namespace

std::string planMarkdown(const PlanSummary &p) {
  return fmt::format("# Memory plan ({})\n\n", p.target) + budgetTable(p) + consumersTable(p) +
         layerTable(p) + largestBuffers(p) +
         "\nThe picture of the RAM over the schedule is memory_plan.svg.\n";
}

std::string planSvg(const PlanSummary &p) {
  Frame f;
  f.steps = double(std::max<int64_t>(1, p.steps));
  int64_t ram = p.arenaBytes + p.staticRamBytes;
  f.bytes = double(std::max<int64_t>({1, ram, p.lowerBoundBytes}));
  if (p.ramBudget > 0 && double(p.ramBudget) <= f.bytes * 1.5)
    f.bytes = std::max(f.bytes, double(p.ramBudget));
  f.bytes *= 1.05;
  // A budget far above the plan would squash the picture: name it in the title instead.
  bool budgetDrawn = p.ramBudget > 0 && double(p.ramBudget) <= f.bytes;
  std::string title = fmt::format("RAM over the schedule ({}): arena {}{}{}", xmlText(p.target),
                                  kib(p.arenaBytes),
                                  p.staticRamBytes ? " + static " + kib(p.staticRamBytes) : "",
                                  p.ramBudget > 0 && !budgetDrawn
                                      ? ", RAM budget " + kib(p.ramBudget) + " (above the chart)"
                                      : "");
  // Widen the picture for a long title (about 9 px a character at 15 px) rather than clip it.
  f.width = std::max(f.width, f.left + 9.0 * double(title.size()) + 20);
  std::string s = fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" "
                              "height=\"{}\" font-family=\"sans-serif\" font-size=\"12\">\n"
                              "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
                              "<text x=\"{}\" y=\"22\" font-size=\"15\">{}</text>\n",
                              f.width, f.height, f.left, title);
  for (const auto &[name, start] : p.functionStarts) {
    double x = f.x(double(start));
    s += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#bbb\"/>"
                     "<text x=\"{3:.1f}\" y=\"{4}\" fill=\"#666\">{5}</text>\n",
                     x, f.top, f.height - f.bottom, x + 3, f.top + 12, name);
  }
  std::set<std::string> drawnKinds;
  for (const PlanEntry &b : p.buffers) {
    bool fastLevel = !p.fastLevel.empty() && b.level == p.fastLevel;
    if (b.level != "ram" && !fastLevel)
      continue;
    drawnKinds.insert(b.kind);
    // the fast level is drawn at the bottom, the main RAM level above it
    double base = fastLevel ? 0.0 : double(p.fastArenaBytes);
    double x0 = f.x(double(b.first)), x1 = f.x(double(b.last + 1));
    double y0 = f.y(base + double(b.offset + b.size)), y1 = f.y(base + double(b.offset));
    s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                     "fill=\"{}\" fill-opacity=\"0.75\" stroke=\"white\" stroke-width=\"0.5\">"
                     "<title>{}: {} {} B at {}, steps {}..{}</title></rect>\n",
                     x0, y0, std::max(0.5, x1 - x0), std::max(0.5, y1 - y0), colorOf(b.kind),
                     xmlText(b.name), b.kind, b.size, b.offset, b.first, b.last);
  }
  std::vector<MarkedLine> lines = {{p.lowerBoundBytes, "#e15759", "arena lower bound"}};
  if (!p.fastLevel.empty())
    lines.push_back({p.fastArenaBytes, "#76b7b2", p.fastLevel + " arena"});
  if (budgetDrawn)
    lines.push_back({p.ramBudget, "#222", "RAM budget"});
  return s + markedLines(f, lines) + axes(f) + legend(f, drawnKinds) + "</svg>\n";
}

} // namespace odlc
