// Gradient rules: for each differentiable op, the backward nodes that carry dL/d(output) to its
// inputs and update its trainable weights. Referenced from the op table.
#include "ir/GradBuilder.h"

#include "ir/OpRules.h"
#include "ir/OpTable.h"

#include <algorithm>

namespace odlc {

namespace grads {

namespace {

const Shape &shapeOf(GradBuilder &b, TensorId t) { return b.graph().tensor(t).shape; }
const std::string &nameOf(GradBuilder &b, TensorId t) { return b.graph().tensor(t).name; }

TensorId view(GradBuilder &b, TensorId t, const Shape &shape) {
  if (shapeOf(b, t) == shape)
    return t;
  AttrMap attrs;
  attrs.set("shape", std::vector<int64_t>(shape));
  return b.emit(OpKind::View, {t}, attrs, nameOf(b, t));
}

/// Sums g (of a broadcast result) down to an operand's shape, times scale.
TensorId reduceTo(GradBuilder &b, TensorId g, const Shape &target, double scale) {
  Shape from = shapeOf(b, g);
  if (from == target && scale == 1.0)
    return g;
  size_t lead = from.size() - target.size();
  std::vector<int64_t> axes;
  for (size_t d = 0; d < from.size(); ++d)
    if (d < lead || (target[d - lead] == 1 && from[d] != 1))
      axes.push_back(int64_t(d));
  AttrMap attrs;
  attrs.set("axes", axes);
  attrs.set("keepdims", int64_t(1));
  attrs.set("scale", scale);
  TensorId reduced = b.emit(OpKind::ReduceSum, {g}, attrs, nameOf(b, g));
  return view(b, reduced, target);
}

AttrMap withInputShape(const Node &n, const Shape &shape) {
  AttrMap attrs = n.attrs;
  attrs.set("input_shape", std::vector<int64_t>(shape));
  return attrs;
}

AttrMap merged(AttrMap attrs, const AttrMap &more) {
  for (const auto &[key, value] : more.all())
    attrs.set(key, value);
  return attrs;
}


/// The update node of a layer: x and dy, then the weight, bias and their velocities.
void update(GradBuilder &b, OpKind op, const Node &n, TensorId x, TensorId dy, TensorId w,
            TensorId bias, const AttrMap &attrs) {
  bool trainBias = bias != kNoTensor && b.isTrainable(bias);
  TensorId vb = trainBias ? b.velocity(bias) : kNoTensor;
  std::vector<TensorId> inputs = {x, dy, w, trainBias ? bias : kNoTensor, b.velocity(w), vb};
  while (inputs.back() == kNoTensor)
    inputs.pop_back();
  b.emitUpdate(op, inputs, merged(attrs, b.sgdAttrs()), n.name);
}

/// Only the bias trains (--sparse bias): its gradient is dy summed over all but the channels.
void biasUpdate(GradBuilder &b, const Node &n, TensorId dy, double scale) {
  TensorId bias = n.input(2);
  if (bias == kNoTensor || !b.isTrainable(bias))
    return;
  AttrMap attrs = b.sgdAttrs();
  attrs.set("scale", scale);
  std::vector<TensorId> inputs = {dy, bias};
  if (b.velocity(bias) != kNoTensor)
    inputs.push_back(b.velocity(bias));
  b.emitUpdate(OpKind::BiasUpdate, inputs, attrs, n.name);
}

/// Whether a channel list (ascending, distinct) names every index of an axis of `extent`.
bool isWhole(const std::vector<int64_t> &list, int64_t extent) {
  return list.empty() || int64_t(list.size()) == extent;
}

/// t[:, channels]; t itself when the channels are all of them. `layer` is the sparse layer
/// whose output channels these are: under the velocity policy (attribute sparse.dynamic) the
/// gather follows the layer's run-time selection.
TensorId gather(GradBuilder &b, TensorId t, const std::vector<int64_t> &channels,
                const std::string &base, const Node *layer = nullptr) {
  if (isWhole(channels, shapeOf(b, t)[1]))
    return t;
  AttrMap attrs;
  attrs.set("channels", channels);
  if (layer && layer->attrs.has("sparse.dynamic"))
    attrs.set("sparse.dynamic", layer->attrs.getInt("sparse.dynamic"));
  return b.emit(OpKind::ChannelGather, {t}, attrs, base);
}

/// A tensor of `shape` holding g in `channels` of axis 1 and zeros elsewhere (g itself when
/// the channels are all of them). `dynamic` >= 0: the channels are that velocity layer's
/// run-time set.
TensorId scatter(GradBuilder &b, TensorId g, const std::vector<int64_t> &channels,
                 const Shape &shape, const std::string &base, int64_t dynamic = -1) {
  if (isWhole(channels, shape[1]))
    return g;
  AttrMap attrs;
  attrs.set("channels", channels);
  attrs.set("shape", std::vector<int64_t>(shape));
  if (dynamic >= 0)
    attrs.set("sparse.dynamic", dynamic);
  return b.emit(OpKind::ChannelScatter, {g}, attrs, base);
}

/// The velocity layer whose run-time set a sparse layer's input channels are (depthwise: its
/// one set), or -1.
int64_t dynamicInputs(const Node &n) {
  return n.attrs.has("sparse.dynamic_in") ? n.attrs.getInt("sparse.dynamic") : -1;
}

/// Sparse update (passes/SparseUpdatePass.cpp): only dy[:, O] flows back, to dx[:, I] through
/// W[O, I] (read a chunk at a time, ConvGradInputBlock), and only the block [O, I] of the weight
/// (bias: O) updates, from the input channels the forward kept. Depthwise: one set, groups = |O|.
void sparseConv(GradBuilder &b, const Node &n, TensorId dy) {
  TensorId x = n.inputs[0], w = n.inputs[1];
  const std::vector<int64_t> &out = n.attrs.getInts("sparse.out_channels");
  const std::vector<int64_t> &in = n.attrs.getInts("sparse.in_channels");
  bool depthwise = n.attrs.getInt("group", 1) > 1;
  AttrMap compact = n.attrs;
  compact.set("group", depthwise ? int64_t(out.size()) : int64_t(1));
  TensorId dyOut = gather(b, dy, out, nameOf(b, n.outputs[0]), &n);
  if (b.needsGrad(x)) {
    Shape kept = shapeOf(b, x);
    kept[1] = int64_t(in.size());
    AttrMap attrs = compact;
    attrs.set("input_shape", std::vector<int64_t>(kept));
    bool whole = isWhole(out, shapeOf(b, w)[0]) && isWhole(in, shapeOf(b, x)[1]);
    TensorId dxIn = whole ? b.emit(OpKind::ConvGradInput, {dyOut, w}, attrs, nameOf(b, x))
                          : b.emitResults(OpKind::ConvGradInputBlock, {dyOut, w}, attrs,
                                          {nameOf(b, x), nameOf(b, w)})[0];
    b.addGrad(x, scatter(b, dxIn, in, shapeOf(b, x), nameOf(b, x), dynamicInputs(n)));
  }
  if (b.isTrainable(w))
    update(b, OpKind::ConvUpdate, n, b.keptInput(n), dyOut, w, n.input(2), compact);
}

/// As sparseConv for y = alpha * A op(B) + beta * C: output channels are columns of y.
void sparseGemm(GradBuilder &b, const Node &n, TensorId dy) {
  TensorId a = n.inputs[0], w = n.inputs[1];
  const std::vector<int64_t> &out = n.attrs.getInts("sparse.out_channels");
  const std::vector<int64_t> &in = n.attrs.getInts("sparse.in_channels");
  bool transB = n.attrs.getInt("transB") != 0;
  TensorId dyOut = gather(b, dy, out, nameOf(b, n.outputs[0]), &n);
  if (b.needsGrad(a)) {
    bool whole = isWhole(out, shapeOf(b, w)[transB ? 0 : 1]) && isWhole(in, shapeOf(b, a)[1]);
    TensorId daIn = b.emit(whole ? OpKind::GemmGradA : OpKind::GemmGradABlock, {dyOut, w},
                           n.attrs, nameOf(b, a));
    b.addGrad(a, scatter(b, daIn, in, shapeOf(b, a), nameOf(b, a)));
  }
  if (b.isTrainable(w))
    update(b, OpKind::GemmUpdate, n, b.keptInput(n), dyOut, w, n.input(2), n.attrs);
}

} // namespace

bool unaryGradSavesOutput(OpKind op) { return op != OpKind::HardSwish; }

void conv(GradBuilder &b, const Node &n) {
  TensorId x = n.inputs[0], w = n.inputs[1], dy = b.gradOf(n.outputs[0]);
  if (dy == kNoTensor)
    return;
  if (n.attrs.has("sparse.out_channels"))
    return sparseConv(b, n, dy);
  if (b.needsGrad(x))
    b.addGrad(x, b.emit(OpKind::ConvGradInput, {dy, w}, withInputShape(n, shapeOf(b, x)),
                        nameOf(b, x)));
  if (b.isTrainable(w))
    update(b, OpKind::ConvUpdate, n, x, dy, w, n.input(2), n.attrs);
  else
    biasUpdate(b, n, dy, 1.0);
}

void gemm(GradBuilder &b, const Node &n) {
  TensorId a = n.inputs[0], w = n.inputs[1], dy = b.gradOf(n.outputs[0]);
  if (dy == kNoTensor)
    return;
  if (n.attrs.getInt("transA") != 0)
    b.notDifferentiable(n, "Gemm with transA is not supported in the trainable tail");
  if (n.attrs.has("sparse.out_channels"))
    return sparseGemm(b, n, dy);
  if (b.needsGrad(a))
    b.addGrad(a, b.emit(OpKind::GemmGradA, {dy, w}, n.attrs, nameOf(b, a)));
  if (b.isTrainable(w))
    update(b, OpKind::GemmUpdate, n, a, dy, w, n.input(2), n.attrs);
  else
    biasUpdate(b, n, dy, n.attrs.getFloat("beta", 1.0));
}

/// x[..., K] @ W[K, N] with a constant 2-D W: a Gemm over the rows of x.
void matMul(GradBuilder &b, const Node &n) {
  TensorId x = n.inputs[0], w = n.inputs[1], dy = b.gradOf(n.outputs[0]);
  if (dy == kNoTensor)
    return;
  const Shape &ws = shapeOf(b, w), &xs = shapeOf(b, x);
  if (!b.graph().tensor(w).isConstant() || ws.size() != 2 || xs.size() < 2)
    b.notDifferentiable(n, "MatMul is trainable only as activations times a constant 2-D weight");
  int64_t rows = numElements(xs) / xs.back();
  AttrMap attrs;
  attrs.set("alpha", 1.0);
  attrs.set("beta", 0.0);
  attrs.set("transA", int64_t(0));
  attrs.set("transB", int64_t(0));
  TensorId dy2 = view(b, dy, {rows, ws[1]});
  TensorId x2 = view(b, x, {rows, ws[0]});
  if (b.needsGrad(x))
    b.addGrad(x, view(b, b.emit(OpKind::GemmGradA, {dy2, w}, attrs, nameOf(b, x)), xs));
  if (b.isTrainable(w))
    update(b, OpKind::GemmUpdate, n, x2, dy2, w, kNoTensor, attrs);
}

void unary(GradBuilder &b, const Node &n) {
  TensorId x = n.inputs[0], y = n.outputs[0], dy = b.gradOf(y);
  if (dy == kNoTensor || !b.needsGrad(x))
    return;
  if (n.op == OpKind::LeakyRelu && n.attrs.getFloat("alpha") <= 0)
    b.notDifferentiable(n, "LeakyRelu with alpha <= 0 is not supported in the trainable tail");
  AttrMap attrs = n.attrs;
  attrs.set("op", std::string(opName(n.op)));
  TensorId saved = unaryGradSavesOutput(n.op) ? y : x;
  // After a sparse layer's input gradient only the channels I of dy are non-zero, and the
  // forward kept y[:, I]: work on those alone, so the full y need not outlive the forward.
  NodeId from = b.graph().producer(dy);
  if (saved == y && from >= 0 && b.graph().nodes[size_t(from)].op == OpKind::ChannelScatter) {
    const Node &scatterNode = b.graph().nodes[size_t(from)];
    const std::vector<int64_t> &channels = scatterNode.attrs.getInts("channels");
    TensorId kept = b.keptChannels(y, channelSetKey(scatterNode.attrs, channels));
    if (kept != kNoTensor) {
      // Copies: emitting nodes may move scatterNode.
      TensorId compact = scatterNode.inputs[0];
      int64_t dynamic = scatterNode.attrs.getInt("sparse.dynamic", -1);
      std::vector<int64_t> kept_channels = channels;
      TensorId g = b.emit(OpKind::UnaryGrad, {kept, compact}, attrs, nameOf(b, x));
      b.addGrad(x, scatter(b, g, kept_channels, shapeOf(b, x), nameOf(b, x), dynamic));
      return;
    }
  }
  b.addGrad(x, b.emit(OpKind::UnaryGrad, {saved, dy}, attrs, nameOf(b, x)));
}

void binary(GradBuilder &b, const Node &n) {
  TensorId dy = b.gradOf(n.outputs[0]);
  if (dy == kNoTensor)
    return;
  if (n.op == OpKind::Div)
    b.notDifferentiable(n, "Div is not supported in the trainable tail");
  for (size_t k = 0; k < 2; ++k) {
    TensorId operand = n.inputs[k];
    if (!b.needsGrad(operand))
      continue;
    TensorId g = dy;
    if (n.op == OpKind::Mul)
      g = b.emit(OpKind::Mul, {dy, n.inputs[1 - k]}, {}, nameOf(b, operand));
    double scale = n.op == OpKind::Sub && k == 1 ? -1.0 : 1.0;
    b.addGrad(operand, reduceTo(b, g, shapeOf(b, operand), scale));
  }
}

void globalAveragePool(GradBuilder &b, const Node &n) {
  TensorId x = n.inputs[0], dy = b.gradOf(n.outputs[0]);
  if (dy == kNoTensor || !b.needsGrad(x))
    return;
  AttrMap attrs;
  attrs.set("input_shape", std::vector<int64_t>(shapeOf(b, x)));
  b.addGrad(x, b.emit(OpKind::GlobalAveragePoolGrad, {dy}, attrs, nameOf(b, x)));
}

void pool(GradBuilder &b, const Node &n) {
  TensorId x = n.inputs[0], dy = b.gradOf(n.outputs[0]);
  if (dy == kNoTensor || !b.needsGrad(x))
    return;
  if (n.op == OpKind::MaxPool) {
    b.addGrad(x, b.emit(OpKind::MaxPoolGrad, {x, dy}, n.attrs, nameOf(b, x)));
    return;
  }
  b.addGrad(x, b.emit(OpKind::AvgPoolGrad, {dy}, withInputShape(n, shapeOf(b, x)), nameOf(b, x)));
}

/// Only the mean over every spatial dimension (a global average pool) is differentiable.
void reduceMean(GradBuilder &b, const Node &n) {
  TensorId x = n.inputs[0], dy = b.gradOf(n.outputs[0]);
  if (dy == kNoTensor || !b.needsGrad(x))
    return;
  const Shape &xs = shapeOf(b, x);
  std::vector<int64_t> spatial;
  for (size_t d = 2; d < xs.size(); ++d)
    spatial.push_back(int64_t(d));
  if (xs.size() < 3 || n.attrs.getInts("axes") != spatial)
    b.notDifferentiable(n, "ReduceMean is differentiable only over all spatial dimensions");
  Shape pooled(xs.begin(), xs.begin() + 2);
  pooled.resize(xs.size(), 1);
  AttrMap attrs;
  attrs.set("input_shape", std::vector<int64_t>(xs));
  b.addGrad(x, b.emit(OpKind::GlobalAveragePoolGrad, {view(b, dy, pooled)}, attrs, nameOf(b, x)));
}

void channelAffine(GradBuilder &b, const Node &n) {
  TensorId x = n.inputs[0], dy = b.gradOf(n.outputs[0]);
  if (dy == kNoTensor || !b.needsGrad(x))
    return;
  int64_t c = shapeOf(b, n.inputs[1])[0];
  TensorId zeros = b.constant(nameOf(b, n.inputs[1]) + "_zero", {c},
                              std::vector<float>(size_t(c), 0.0f));
  b.addGrad(x, b.emit(OpKind::ChannelAffine, {dy, n.inputs[1], zeros}, {}, nameOf(b, x)));
}

void view(GradBuilder &b, const Node &n) {
  TensorId x = n.inputs[0], dy = b.gradOf(n.outputs[0]);
  if (dy == kNoTensor || !b.needsGrad(x))
    return;
  b.addGrad(x, view(b, dy, shapeOf(b, x)));
}

void transpose(GradBuilder &b, const Node &n) {
  TensorId x = n.inputs[0], dy = b.gradOf(n.outputs[0]);
  if (dy == kNoTensor || !b.needsGrad(x))
    return;
  const auto &perm = n.attrs.getInts("perm");
  std::vector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    inverse[size_t(perm[i])] = int64_t(i);
  AttrMap attrs;
  attrs.set("perm", inverse);
  b.addGrad(x, b.emit(OpKind::Transpose, {dy}, attrs, nameOf(b, x)));
}

/// dy restricted to [start, start + size) along `axis`.
TensorId sliceAlong(GradBuilder &b, TensorId dy, size_t axis, int64_t start, int64_t size,
                    const std::string &base) {
  Shape s = shapeOf(b, dy);
  std::vector<int64_t> starts(s.size(), 0), steps(s.size(), 1);
  starts[axis] = start;
  s[axis] = size;
  AttrMap attrs;
  attrs.set("starts", starts);
  attrs.set("steps", steps);
  attrs.set("sizes", std::vector<int64_t>(s));
  return b.emit(OpKind::Slice, {dy}, attrs, base);
}

void concat(GradBuilder &b, const Node &n) {
  TensorId dy = b.gradOf(n.outputs[0]);
  if (dy == kNoTensor)
    return;
  size_t axis = size_t(n.attrs.getInt("axis"));
  int64_t start = 0;
  for (TensorId x : n.inputs) {
    int64_t size = shapeOf(b, x)[axis];
    if (b.needsGrad(x))
      b.addGrad(x, sliceAlong(b, dy, axis, start, size, nameOf(b, x)));
    start += size;
  }
}

void split(GradBuilder &b, const Node &n) {
  TensorId x = n.inputs[0];
  if (!b.needsGrad(x))
    return;
  std::vector<TensorId> parts;
  bool any = false;
  for (TensorId out : n.outputs) {
    TensorId g = b.gradOf(out);
    any = any || g != kNoTensor;
    if (g == kNoTensor) // a part nothing reads: its gradient is zero
      g = b.constant(nameOf(b, out) + "_zero_grad", shapeOf(b, out),
                     std::vector<float>(size_t(numElements(shapeOf(b, out))), 0.0f));
    parts.push_back(g);
  }
  if (!any)
    return;
  AttrMap attrs;
  attrs.set("axis", n.attrs.getInt("axis"));
  b.addGrad(x, b.emit(OpKind::Concat, parts, attrs, nameOf(b, x)));
}

void slice(GradBuilder &b, const Node &n) {
  TensorId x = n.inputs[0], dy = b.gradOf(n.outputs[0]);
  if (dy == kNoTensor || !b.needsGrad(x))
    return;
  b.addGrad(x, b.emit(OpKind::SliceGrad, {dy}, withInputShape(n, shapeOf(b, x)), nameOf(b, x)));
}

/// Constant padding: the gradient is the interior of dy.
void pad(GradBuilder &b, const Node &n) {
  TensorId x = n.inputs[0], dy = b.gradOf(n.outputs[0]);
  if (dy == kNoTensor || !b.needsGrad(x))
    return;
  const Shape &xs = shapeOf(b, x);
  const auto &pads = n.attrs.getInts("pads");
  bool negative = std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p < 0; });
  if (n.attrs.getString("mode") != "constant" || negative)
    b.notDifferentiable(n, "only constant, non-negative padding is differentiable");
  AttrMap attrs;
  attrs.set("starts", std::vector<int64_t>(pads.begin(), pads.begin() + int64_t(xs.size())));
  attrs.set("steps", std::vector<int64_t>(xs.size(), 1));
  attrs.set("sizes", std::vector<int64_t>(xs));
  b.addGrad(x, b.emit(OpKind::Slice, {dy}, attrs, nameOf(b, x)));
}

} // namespace grads

} // namespace odlc
