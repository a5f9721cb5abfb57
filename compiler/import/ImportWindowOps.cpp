// Importers for windowed ops: Conv, MaxPool, AveragePool. 1-D forms become 2-D ops on a
// [N, C, 1, W] view; 3-D forms are not supported.
#include "import/OnnxOpImporters.h"

#include "Diagnostics.h"
#include "ir/OpRules.h"

namespace odlc {

namespace {

struct Window {
  std::vector<int64_t> kernel, strides, dilations, pads; // pads: begins then ends
};

/// Reads kernel/strides/dilations/pads/auto_pad for `spatial` dimensions of `x`.
Window readWindow(NodeImporter &n, const Shape &x, std::vector<int64_t> kernel) {
  size_t r = kernel.size();
  Window w;
  w.kernel = kernel;
  w.strides = n.attrInts("strides", std::vector<int64_t>(r, 1));
  w.dilations = n.attrInts("dilations", std::vector<int64_t>(r, 1));
  w.pads = n.attrInts("pads", std::vector<int64_t>(2 * r, 0));
  if (w.strides.size() != r || w.dilations.size() != r || w.pads.size() != 2 * r)
    fail("{}: strides, dilations and pads must match {} spatial dimensions", n.where(), r);
  for (size_t d = 0; d < r; ++d)
    if (w.strides[d] < 1 || w.dilations[d] < 1 || w.kernel[d] < 1 || w.pads[d] < 0 ||
        w.pads[d + r] < 0)
      fail("{}: kernel, strides and dilations must be positive and pads non-negative",
           n.where());
  std::string autoPad = n.attrString("auto_pad", "NOTSET");
  if (autoPad == "NOTSET")
    return w;
  if (autoPad == "VALID") {
    std::fill(w.pads.begin(), w.pads.end(), 0);
    return w;
  }
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER")
    fail("{}: unknown auto_pad '{}'", n.where(), autoPad);
  for (size_t d = 0; d < r; ++d) {
    int64_t in = x[2 + d];
    int64_t out = (in + w.strides[d] - 1) / w.strides[d];
    int64_t span = (w.kernel[d] - 1) * w.dilations[d] + 1;
    int64_t total = std::max<int64_t>(0, (out - 1) * w.strides[d] + span - in);
    int64_t small = total / 2;
    w.pads[d] = autoPad == "SAME_UPPER" ? small : total - small;
    w.pads[d + r] = total - w.pads[d];
  }
  return w;
}

/// A 1-D window as the equivalent 2-D window over a height-1 image.
Window as2d(const Window &w) {
  if (w.kernel.size() == 2)
    return w;
  return {{1, w.kernel[0]}, {1, w.strides[0]}, {1, w.dilations[0]}, {0, w.pads[0], 0, w.pads[1]}};
}

void checkSpatialRank(NodeImporter &n, const Shape &x, const char *what) {
  if (x.size() == 3 || x.size() == 4)
    return;
  unsupported("{}: only 1-D and 2-D {} are supported, the input is {}", n.where(), what,
              formatShape(x));
}

AttrMap windowAttrs(const Window &w) {
  AttrMap attrs;
  attrs.set("kernel_shape", w.kernel);
  attrs.set("strides", w.strides);
  attrs.set("pads", w.pads);
  return attrs;
}

Shape as4d(const Shape &x) { return x.size() == 4 ? x : Shape{x[0], x[1], 1, x[2]}; }

/// Emits `op` on the 2-D form of input 0 and reshapes the result back for 1-D models.
void emitWindowed(NodeImporter &n, OpKind op, std::vector<TensorId> inputs, AttrMap attrs) {
  Shape x = n.shape(0);
  inputs[0] = n.reshape(inputs[0], as4d(x));
  if (x.size() == 4) {
    n.emit(op, inputs, attrs, 0);
    return;
  }
  TensorId y = n.emit(op, inputs, attrs, -1);
  Shape ys = n.graph().tensor(y).shape;
  n.reshape(y, {ys[0], ys[1], ys[3]}, 0);
}

/// The weight of a 1-D Conv as a 2-D one, [O, I/g, K] -> [O, I/g, 1, K]. A constant weight keeps
/// its ONNX name: it is what trains and what memory_plan.json lists.
TensorId conv2dWeight(NodeImporter &n) {
  Shape w = n.shape(1);
  TensorId original = n.input(1);
  TensorId weight = n.reshape(original, as4d(w));
  Graph &g = n.graph();
  if (weight != original && g.tensor(original).isConstant() && g.tensor(weight).isConstant()) {
    std::string name = g.tensor(original).name;
    g.tensor(original).name = g.uniqueTensorName(name + "_1d");
    g.tensor(weight).name = name;
  }
  return weight;
}

} // namespace

void importConv(NodeImporter &n) {
  Shape x = n.shape(0);
  checkSpatialRank(n, x, "convolutions");
  Shape w = n.shape(1);
  if (w.size() != x.size())
    fail("{}: weight {} does not match input {}", n.where(), formatShape(w), formatShape(x));
  std::vector<int64_t> kernel(w.begin() + 2, w.end());
  if (n.hasAttr("kernel_shape") && n.attrInts("kernel_shape", {}) != kernel)
    fail("{}: kernel_shape does not match the weight shape {}", n.where(), formatShape(w));
  Window win = as2d(readWindow(n, x, kernel));
  AttrMap attrs = windowAttrs(win);
  attrs.erase("kernel_shape");
  attrs.set("dilations", win.dilations);
  attrs.set("group", n.attrInt("group", 1));
  emitWindowed(n, OpKind::Conv, {n.input(0), conv2dWeight(n), n.optionalInput(2)}, attrs);
}

static void importPool(NodeImporter &n, OpKind op) {
  Shape x = n.shape(0);
  checkSpatialRank(n, x, "pooling ops");
  std::vector<int64_t> kernel = n.attrInts("kernel_shape", {});
  if (kernel.size() != x.size() - 2)
    fail("{}: kernel_shape must have {} entries", n.where(), x.size() - 2);
  Window win = as2d(readWindow(n, x, kernel));
  AttrMap attrs = windowAttrs(win);
  attrs.set("ceil_mode", n.attrInt("ceil_mode", 0));
  if (op == OpKind::MaxPool) {
    if (n.outputUsed(1))
      n.rejectAttr("Indices", "the MaxPool indices output is not supported");
    attrs.set("dilations", win.dilations);
  } else {
    if (win.dilations != std::vector<int64_t>{1, 1})
      n.rejectAttr("dilations", "dilated average pooling is not supported");
    attrs.set("count_include_pad", n.attrInt("count_include_pad", 0));
  }
  emitWindowed(n, op, {n.input(0)}, attrs);
}

void importMaxPool(NodeImporter &n) { importPool(n, OpKind::MaxPool); }
void importAveragePool(NodeImporter &n) { importPool(n, OpKind::AveragePool); }

} // namespace odlc
