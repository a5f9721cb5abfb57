// Importers for shape and data-movement ops. Every shape-like operand (Reshape's shape, Slice's
// starts, Split's sizes, Gather's indices, Pad's pads) must be known at compile time; the
// importer resolves ONNX's conventions (0 and -1 in Reshape, negative and clamped slice bounds,
// negative indices) into plain static attributes.
#include "import/OnnxOpImporters.h"

#include "Diagnostics.h"

#include <algorithm>
#include <climits>

namespace odlc {

namespace {

std::vector<int64_t> sortedAxes(NodeImporter &n, std::vector<int64_t> axes, int64_t rank) {
  for (int64_t &a : axes)
    a = n.axis(a, rank);
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    fail("{}: axes repeat", n.where());
  return axes;
}

/// Axes from the attribute (old opsets) or from input 1 (opset 13 on).
std::vector<int64_t> axesOperand(NodeImporter &n, bool &given) {
  if (n.opset() < 13) {
    given = n.hasAttr("axes");
    return n.attrInts("axes", {});
  }
  given = n.hasInput(1);
  return given ? n.constInts(1, "the axes") : std::vector<int64_t>{};
}

} // namespace

void importFlatten(NodeImporter &n) {
  int64_t rank = int64_t(n.shape(0).size());
  int64_t axis = n.attrInt("axis", 1);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis > rank)
    fail("{}: axis is out of range for rank {}", n.where(), rank);
  AttrMap attrs;
  attrs.set("axis", axis);
  n.emit(OpKind::Flatten, {n.input(0)}, attrs);
}

void importReshape(NodeImporter &n) {
  Shape x = n.shape(0);
  std::vector<int64_t> target = n.opset() < 5 ? n.attrInts("shape", {})
                                              : n.constInts(1, "the target shape");
  bool allowZero = n.attrInt("allowzero", 0) != 0;
  int64_t known = 1, inferAt = -1;
  for (size_t d = 0; d < target.size(); ++d) {
    if (target[d] == 0 && !allowZero) {
      if (d >= x.size())
        fail("{}: shape entry {} copies a dimension the input lacks", n.where(), d);
      target[d] = x[d];
    }
    if (target[d] == -1) {
      if (inferAt >= 0)
        fail("{}: the target shape has more than one -1", n.where());
      inferAt = int64_t(d);
      continue;
    }
    if (target[d] <= 0)
      unsupported("{}: reshaping to an empty or negative dimension is not supported", n.where());
    known *= target[d];
  }
  if (inferAt >= 0) {
    if (known == 0 || numElements(x) % known != 0)
      fail("{}: cannot reshape {} to {}", n.where(), formatShape(x), formatShape(target));
    target[size_t(inferAt)] = numElements(x) / known;
  }
  AttrMap attrs;
  attrs.set("shape", target);
  n.emit(OpKind::Reshape, {n.input(0)}, attrs);
}

void importSqueeze(NodeImporter &n) {
  Shape x = n.shape(0);
  bool given = false;
  std::vector<int64_t> axes = axesOperand(n, given);
  if (!given)
    for (size_t d = 0; d < x.size(); ++d)
      if (x[d] == 1)
        axes.push_back(int64_t(d));
  AttrMap attrs;
  attrs.set("axes", sortedAxes(n, axes, int64_t(x.size())));
  n.emit(OpKind::Squeeze, {n.input(0)}, attrs);
}

void importUnsqueeze(NodeImporter &n) {
  bool given = false;
  std::vector<int64_t> axes = axesOperand(n, given);
  if (!given)
    fail("{}: axes are required", n.where());
  int64_t rank = int64_t(n.shape(0).size() + axes.size());
  AttrMap attrs;
  attrs.set("axes", sortedAxes(n, axes, rank));
  n.emit(OpKind::Unsqueeze, {n.input(0)}, attrs);
}

void importTranspose(NodeImporter &n) {
  int64_t rank = int64_t(n.shape(0).size());
  std::vector<int64_t> perm;
  for (int64_t d = rank; d-- > 0;)
    perm.push_back(d);
  perm = n.attrInts("perm", perm);
  std::vector<int64_t> check = perm;
  std::sort(check.begin(), check.end());
  for (int64_t d = 0; d < rank; ++d)
    if (int64_t(check.size()) != rank || check[size_t(d)] != d)
      fail("{}: perm is not a permutation of 0..{}", n.where(), rank - 1);
  AttrMap attrs;
  attrs.set("perm", perm);
  n.emit(OpKind::Transpose, {n.input(0)}, attrs);
}

void importConcat(NodeImporter &n) {
  std::vector<TensorId> inputs;
  for (size_t i = 0; i < n.numInputs(); ++i)
    if (n.hasInput(i) && numElements(n.shape(i)) > 0)
      inputs.push_back(n.input(i));
  if (inputs.empty())
    unsupported("{}: concatenation of empty tensors is not supported", n.where());
  AttrMap attrs;
  attrs.set("axis", n.axis(n.attrInt("axis", 0), int64_t(n.shape(0).size())));
  n.emit(OpKind::Concat, inputs, attrs);
}

void importSplit(NodeImporter &n) {
  Shape x = n.shape(0);
  int64_t axis = n.axis(n.attrInt("axis", 0), int64_t(x.size()));
  std::vector<int64_t> split = n.opset() < 13 ? n.attrInts("split", {})
                               : n.hasInput(1) ? n.constInts(1, "the split sizes")
                                               : std::vector<int64_t>{};
  int64_t parts = n.proto().output_size();
  if (split.empty()) {
    if (parts < 1 || x[size_t(axis)] % parts != 0)
      fail("{}: dimension {} does not split into {} equal parts", n.where(), x[size_t(axis)],
           parts);
    split.assign(size_t(parts), x[size_t(axis)] / parts);
  }
  if (int64_t(split.size()) != parts)
    fail("{}: {} split sizes for {} outputs", n.where(), split.size(), parts);
  for (int64_t s : split)
    if (s <= 0)
      unsupported("{}: empty split parts are not supported", n.where());
  AttrMap attrs;
  attrs.set("axis", axis);
  attrs.set("split", split);
  n.emitMulti(OpKind::Split, {n.input(0)}, attrs);
}

void importSlice(NodeImporter &n) {
  Shape x = n.shape(0);
  int64_t rank = int64_t(x.size());
  std::vector<int64_t> starts, ends, axes, steps;
  if (n.opset() < 10) {
    starts = n.attrInts("starts", {});
    ends = n.attrInts("ends", {});
    axes = n.attrInts("axes", {});
  } else {
    starts = n.constInts(1, "the starts");
    ends = n.constInts(2, "the ends");
    if (n.hasInput(3))
      axes = n.constInts(3, "the axes");
    if (n.hasInput(4))
      steps = n.constInts(4, "the steps");
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(int64_t(i));
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    fail("{}: starts, ends, axes and steps differ in length", n.where());
  std::vector<int64_t> outStart(size_t(rank), 0), outStep(size_t(rank), 1), outSize(x);
  for (size_t i = 0; i < starts.size(); ++i) {
    size_t d = size_t(n.axis(axes[i], rank));
    int64_t dim = x[d], step = steps[i];
    if (step == 0)
      fail("{}: slice step is 0", n.where());
    // ONNX: negative bounds count from the end, then clamp into the range the step can reach.
    auto clampIndex = [dim](int64_t v, int64_t lo, int64_t hi) {
      return std::min(std::max(v < 0 ? v + dim : v, lo), hi);
    };
    int64_t start = step > 0 ? clampIndex(starts[i], 0, dim) : clampIndex(starts[i], 0, dim - 1);
    int64_t end = step > 0 ? clampIndex(ends[i], 0, dim) : clampIndex(ends[i], -1, dim - 1);
    int64_t count = step > 0 ? (end - start + step - 1) / step : (start - end - step - 1) / -step;
    if (count <= 0)
      unsupported("{}: the slice of dimension {} is empty; empty tensors are not supported",
                  n.where(), d);
    outStart[d] = start;
    outStep[d] = step;
    outSize[d] = count;
  }
  AttrMap attrs;
  attrs.set("starts", outStart);
  attrs.set("steps", outStep);
  attrs.set("sizes", outSize);
  n.emit(OpKind::Slice, {n.input(0)}, attrs);
}

void importGather(NodeImporter &n) {
  Shape x = n.shape(0);
  int64_t axis = n.axis(n.attrInt("axis", 0), int64_t(x.size()));
  ConstValue indices = n.constant(1, "the indices");
  std::vector<int64_t> flat;
  for (double v : indices.values) {
    int64_t i = toInt64(v);
    if (i < -x[size_t(axis)] || i >= x[size_t(axis)])
      fail("{}: index {} is out of range for dimension {}", n.where(), i, x[size_t(axis)]);
    flat.push_back(i < 0 ? i + x[size_t(axis)] : i);
  }
  if (flat.empty())
    unsupported("{}: gathering no indices gives an empty tensor, which is not supported",
                n.where());
  AttrMap attrs;
  attrs.set("axis", axis);
  attrs.set("indices", flat);
  attrs.set("indices_shape", std::vector<int64_t>(indices.shape));
  n.emit(OpKind::Gather, {n.input(0)}, attrs);
}

void importPad(NodeImporter &n) {
  int64_t rank = int64_t(n.shape(0).size());
  std::string mode = n.attrString("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    n.rejectAttr("mode", "pad mode '" + mode + "' is not supported");
  std::vector<int64_t> pads;
  double value = 0;
  if (n.opset() < 11) {
    pads = n.attrInts(n.hasAttr("pads") ? "pads" : "paddings", {});
    value = n.attrFloat("value", 0.0f);
  } else {
    pads = n.constInts(1, "the pads");
    if (n.hasInput(2))
      value = n.constant(2, "the constant value").values.at(0);
  }
  if (int64_t(pads.size()) != 2 * rank)
    fail("{}: pads has {} entries for rank {}", n.where(), pads.size(), rank);
  AttrMap attrs;
  attrs.set("mode", mode);
  attrs.set("pads", pads);
  attrs.set("value", value);
  n.emit(OpKind::Pad, {n.input(0)}, attrs);
}

void importIdentity(NodeImporter &n) { n.emit(OpKind::Identity, {n.input(0)}, {}); }

void importDropout(NodeImporter &n) {
  if (n.outputUsed(1))
    n.rejectAttr("mask", "the Dropout mask output is not supported");
  // Opset 12 on: training_mode (input 2) true with a non-zero ratio (input 1, default 0.5) drops
  // random elements; odlc compiles inference, where Dropout is the identity.
  if (n.opset() >= 12 && n.hasInput(2) && n.constant(2, "training_mode").values.at(0) != 0) {
    double ratio = n.hasInput(1) ? n.constant(1, "the ratio").values.at(0) : 0.5;
    if (ratio != 0)
      n.rejectAttr("training_mode", "Dropout in training mode (random masks) is not supported");
  }
  n.emit(OpKind::Dropout, {n.input(0)}, {});
}

} // namespace odlc
