// explore.json (every point, all numbers) and explore.svg (training RAM against instructions per
// learned sample, both log scales; the Pareto front joined and red; every point labeled with
// its layer and p; the RAM budget as a dashed line). With --data, accuracies too: in the JSON per
// point, and in the picture as each measured point's accuracy on all classes after learning.
#include "driver/Explore.h"

#include "targets/TargetInfo.h"
#include "targets/TextEscape.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace odlc {

namespace {

constexpr double kWidth = 960, kHeight = 600;
constexpr double kLeft = 90, kRight = 30, kTop = 50, kBottom = 70;

/// "/features/features.11/Add_output_0" -> "features.11/Add": what a reader recognises.
std::string shortLayer(const std::string &cut) {
  std::string s = cut;
  const std::string suffix = "_output_0";
  if (s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0)
    s.resize(s.size() - suffix.size());
  size_t last = s.rfind('/');
  if (last != std::string::npos && last > 0) {
    size_t before = s.rfind('/', last - 1);
    s = s.substr(before == std::string::npos ? 0 : before + 1);
  }
  if (!s.empty() && s[0] == '/')
    s.erase(0, 1);
  return s.empty() ? cut : s;
}

/// A log10 axis over [lo, hi] widened to whole decades.
struct LogAxis {
  double lo, hi, from, to; ///< data decades and pixel range
  double at(double v) const {
    return from + (std::log10(std::max(v, 1.0)) - lo) / (hi - lo) * (to - from);
  }
};

LogAxis axisOver(double minValue, double maxValue, double from, double to) {
  double lo = std::floor(std::log10(std::max(minValue, 1.0)));
  double hi = std::ceil(std::log10(std::max(maxValue, 10.0)));
  if (hi <= lo)
    hi = lo + 1;
  return {lo, hi, from, to};
}

/// "256 KiB", "1 MiB", "1.5 MiB".
std::string bytesLabel(double v) {
  return v >= 1048576 ? fmt::format("{:g} MiB", v / 1048576) : fmt::format("{:g} KiB", v / 1024);
}

/// Grid lines: RAM at powers of two (what part sizes are), instructions at 1, 2, 5 x 10^k.
std::string ticks(const LogAxis &x, const LogAxis &y) {
  std::string s;
  double lo = std::pow(10.0, x.lo), hi = std::pow(10.0, x.hi);
  for (double v = 1024; v <= hi; v *= 2) {
    if (v < lo)
      continue;
    double px = x.at(v);
    s += fmt::format("<line x1='{0:.1f}' y1='{1}' x2='{0:.1f}' y2='{2}' stroke='#ddd'/>\n", px,
                     kTop, kHeight - kBottom);
    s += fmt::format("<text x='{:.1f}' y='{}' font-size='11' text-anchor='middle'>{}</text>\n",
                     px, kHeight - kBottom + 16, bytesLabel(v));
  }
  for (double d = y.lo; d <= y.hi; ++d)
    for (double m : {1.0, 2.0, 5.0}) {
      double v = m * std::pow(10.0, d);
      if (std::log10(v) > y.hi + 1e-9)
        break;
      double py = y.at(v);
      s += fmt::format("<line x1='{0}' y1='{1:.1f}' x2='{2}' y2='{1:.1f}' stroke='{3}'/>\n",
                       kLeft, py, kWidth - kRight, m == 1.0 ? "#ccc" : "#eee");
      s += fmt::format("<text x='{}' y='{:.1f}' font-size='11' text-anchor='end'>{:g}e{:g}"
                       "</text>\n",
                       kLeft - 6, py + 4, m, d);
    }
  return s;
}

/// A placed label: baseline at y, spanning [x, x + width] and 9 px above the baseline.
struct LabelBox {
  double x, y, width;
};

/// The baseline for a label at (x, y) of `width` px, moved down in 10 px steps until it
/// overlaps no placed label; records it.
double placeLabel(std::vector<LabelBox> &placed, double x, double y, double width) {
  auto overlaps = [&](const LabelBox &b) {
    return x < b.x + b.width && b.x < x + width && std::fabs(y - b.y) < 10;
  };
  while (std::any_of(placed.begin(), placed.end(), overlaps))
    y += 10;
  placed.push_back({x, y, width});
  return y;
}

std::string svgOf(const std::vector<ExplorePoint> &points, const ExploreOptions &o) {
  std::vector<const ExplorePoint *> shown;
  for (const ExplorePoint &p : points)
    if (p.trainable)
      shown.push_back(&p);
  double minRam = 1e30, maxRam = 0, minIns = 1e30, maxIns = 0;
  for (const ExplorePoint *p : shown) {
    minRam = std::min(minRam, double(p->ramBytes));
    maxRam = std::max(maxRam, double(p->ramBytes));
    minIns = std::min(minIns, p->instructionsPerSample);
    maxIns = std::max(maxIns, p->instructionsPerSample);
  }
  const TargetInfo &target = *findTarget(o.base.target);
  double budget = double(o.base.ramBudget > 0 ? o.base.ramBudget : target.ramBytes());
  if (budget > 0) {
    minRam = std::min(minRam, budget);
    maxRam = std::max(maxRam, budget);
  }
  LogAxis x = axisOver(minRam, maxRam, kLeft, kWidth - kRight);
  LogAxis y = axisOver(minIns, maxIns, kHeight - kBottom, kTop);
  std::string s = fmt::format("<svg xmlns='http://www.w3.org/2000/svg' width='{}' height='{}' "
                              "font-family='sans-serif'>\n<rect width='100%' height='100%' "
                              "fill='white'/>\n",
                              kWidth, kHeight);
  std::string model = o.base.model.substr(o.base.model.find_last_of('/') + 1);
  s += fmt::format("<text x='{}' y='22' font-size='15'>odlc explore: {} on {} (batch {}, {} "
                   "epochs); labels: layer and p on the front, #cut and p elsewhere</text>\n",
                   kLeft, xmlText(model), target.name, o.base.train.batch, o.base.train.epochs);
  s += ticks(x, y);
  s += fmt::format("<text x='{}' y='{}' font-size='12' text-anchor='middle'>training RAM (planned "
                   "arena + weights, state, replay)</text>\n",
                   (kLeft + kWidth - kRight) / 2, kHeight - 30);
  s += fmt::format("<text x='18' y='{}' font-size='12' transform='rotate(-90 18 {})' "
                   "text-anchor='middle'>instructions per learned sample (cost model)</text>\n",
                   (kTop + kHeight - kBottom) / 2, (kTop + kHeight - kBottom) / 2);
  if (budget > 0)
    s += fmt::format("<line x1='{0:.1f}' y1='{1}' x2='{0:.1f}' y2='{2}' stroke='#444' "
                     "stroke-dasharray='6 4'/><text x='{3:.1f}' y='{4}' font-size='11'>RAM "
                     "budget</text>\n",
                     x.at(budget), kTop, kHeight - kBottom, x.at(budget) + 4, kTop + 12);
  std::vector<const ExplorePoint *> front;
  for (const ExplorePoint *p : shown)
    if (p->pareto)
      front.push_back(p);
  std::sort(front.begin(), front.end(), [](const ExplorePoint *a, const ExplorePoint *b) {
    return a->ramBytes != b->ramBytes ? a->ramBytes < b->ramBytes : a->cutIndex < b->cutIndex;
  });
  std::string line;
  for (const ExplorePoint *p : front)
    line += fmt::format("{:.1f},{:.1f} ", x.at(double(p->ramBytes)), y.at(p->instructionsPerSample));
  if (front.size() > 1)
    s += "<polyline fill='none' stroke='#d62728' stroke-width='1.5' points='" + line + "'/>\n";
  std::vector<LabelBox> placed; // labels of nearby points move down instead of overlapping
  for (const ExplorePoint *p : shown) {
    const char *fill = p->pareto ? "#d62728" : p->fits ? "#1f77b4" : "none";
    const char *stroke = p->fits ? fill : "#999";
    double px = x.at(double(p->ramBytes)), py = y.at(p->instructionsPerSample);
    std::string accuracy =
        p->measured ? fmt::format("; accuracy after learning: old {:.1f}%, new {:.1f}%, all "
                                  "{:.1f}%",
                                  100 * p->accuracyOld, 100 * p->accuracyNew,
                                  100 * p->accuracyAll)
                    : "";
    s += fmt::format("<circle cx='{:.1f}' cy='{:.1f}' r='5' fill='{}' stroke='{}'><title>{} p={:g}: "
                     "{} B RAM, {:.0f} instructions/sample, {} parameters{}</title></circle>\n",
                     px, py, fill, stroke, xmlText(p->cut), p->p, p->ramBytes,
                     p->instructionsPerSample, p->trainableParams, accuracy);
    // Full layer names only on the front: elsewhere they would bury the picture.
    std::string label = p->pareto ? shortLayer(p->cut) : fmt::format("#{}", p->cutIndex);
    std::string measured = p->measured ? fmt::format(" {:.0f}%", 100 * p->accuracyAll) : "";
    std::string text = fmt::format("{} p={:g}{}", label, p->p, measured);
    double ly = placeLabel(placed, px + 7, py - 4, double(text.size()) * 5.0);
    s += fmt::format("<text x='{:.1f}' y='{:.1f}' font-size='9' fill='{}'>{}</text>\n", px + 7,
                     ly, p->pareto ? "#000" : "#777", xmlText(text));
  }
  if (!o.data.name.empty())
    s += fmt::format("<text x='{}' y='{}' font-size='11'>N%: accuracy on all 10 classes after "
                     "learning 6-9 from {} samples each on the host ({}, {} test images); "
                     "old/new classes in the tooltips</text>\n",
                     kLeft, kHeight - 12, o.data.newPerClass, xmlText(o.data.name),
                     o.data.testImages);
  s += fmt::format("<circle cx='{0}' cy='{1}' r='5' fill='#d62728'/><text x='{2}' y='{3}' "
                   "font-size='11'>Pareto front (fits; no point has less RAM, fewer "
                   "instructions and {4})</text>\n",
                   kLeft + 10, kTop - 12, kLeft + 20, kTop - 8,
                   o.data.name.empty() ? "more trainable parameters" : "higher accuracy");
  s += fmt::format("<circle cx='{0}' cy='{1}' r='5' fill='#1f77b4'/><text x='{2}' y='{3}' "
                   "font-size='11'>fits, dominated</text><circle cx='{4}' cy='{1}' r='5' "
                   "fill='none' stroke='#999'/><text x='{5}' y='{3}' font-size='11'>over "
                   "budget</text>\n",
                   kLeft + 560, kTop - 12, kLeft + 570, kTop - 8, kLeft + 690, kLeft + 700);
  return s + "</svg>\n";
}

nlohmann::ordered_json jsonOf(const std::vector<ExplorePoint> &points, const ExploreOptions &o) {
  nlohmann::ordered_json doc;
  const TargetInfo &target = *findTarget(o.base.target);
  doc["model"] = o.base.model;
  doc["target"] = target.name;
  doc["ram_budget"] = o.base.ramBudget > 0 ? o.base.ramBudget : target.ramBytes();
  doc["flash_budget"] = o.base.flashBudget > 0 ? o.base.flashBudget : target.flashBytes();
  doc["batch"] = o.base.train.batch;
  doc["epochs"] = o.base.train.epochs;
  doc["replay_samples"] = o.base.train.replaySamples;
  doc["replay_bits"] = o.base.train.replayBits;
  doc["replay_per_batch"] = o.base.train.replayPerBatch;
  doc["learn_cache"] = o.base.train.learnCache;
  doc["lr"] = o.base.train.lr;
  doc["momentum"] = o.base.train.momentum;
  doc["class_weighted"] = o.base.train.classWeighted;
  doc["channel_policy"] = o.base.train.channelPolicy;
  doc["instructions"] = target.isHost ? "MACs (the host has no cost model)"
                                      : "predicted by targets/costs/" + target.name + ".def";
  doc["instructions_per_sample"] = "prefix + epochs x step / batch: model_learn runs the prefix "
                                   "once per new sample and a tail step per batch and epoch";
  bool data = !o.data.name.empty();
  doc["pareto_objectives"] =
      data ? std::vector<std::string>{"min ram_bytes", "min instructions_per_sample",
                                      "max accuracy_all"}
           : std::vector<std::string>{"min ram_bytes", "min instructions_per_sample",
                                      "max trainable_params"};
  if (data) {
    nlohmann::ordered_json d;
    d["name"] = o.data.name;
    d["dir"] = o.data.dir;
    d["old_classes"] = {0, 1, 2, 3, 4, 5};
    d["experiences"] = {{6, 7}, {8, 9}};
    d["new_per_class"] = o.data.newPerClass;
    d["old_per_class"] = o.data.oldPerClass;
    d["test_images"] = o.data.testImages;
    d["normalization"] = {o.data.mean, o.data.stddev};
    d["measured"] = "trainable points that fit: their generated C compiled for the host ($CC "
                    "or cc, -O2) with odlc's harness and run on the split; accuracies are shares "
                    "of the test images after both experiences";
    for (const ExplorePoint &p : points)
      if (p.measured) {
        d["accuracy_old_before"] = p.accuracyOldBefore;
        break;
      }
    doc["data"] = d;
  }
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const ExplorePoint &p : points) {
    nlohmann::ordered_json j;
    j["cut"] = p.cut;
    j["cut_index"] = p.cutIndex;
    j["p"] = p.p;
    j["trainable"] = p.trainable;
    if (!p.trainable) {
      j["error"] = p.error;
      list.push_back(j);
      continue;
    }
    j["ram_bytes"] = p.ramBytes;
    j["flash_bytes"] = p.flashBytes;
    j["trainable_params"] = p.trainableParams;
    j["prefix_instructions"] = std::llround(p.prefixInstructions);
    j["step_instructions"] = std::llround(p.stepInstructions);
    j["instructions_per_sample"] = std::llround(p.instructionsPerSample);
    j["fits"] = p.fits;
    j["pareto"] = p.pareto;
    if (p.measured) {
      j["accuracy_old"] = p.accuracyOld;
      j["accuracy_new"] = p.accuracyNew;
      j["accuracy_all"] = p.accuracyAll;
    }
    list.push_back(j);
  }
  doc["points"] = list;
  return doc;
}

} // namespace

FileSet exploreReport(const std::vector<ExplorePoint> &points, const ExploreOptions &o) {
  FileSet files;
  files["explore.json"] = jsonOf(points, o).dump(1) + "\n";
  files["explore.svg"] = svgOf(points, o);
  return files;
}

} // namespace odlc
