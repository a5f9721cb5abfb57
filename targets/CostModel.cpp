// The cost model: the measured tables of targets/costs/ and the node -> kernel kind mapping.
#include "targets/CostModel.h"

#include "ir/OpTable.h"
#include "targets/costs/CostTerms.h"

#include <algorithm>
#include <cstring>

namespace odlc {

namespace {

struct CostEntry {
  KernelKind kind;
  Precision precision;
  KernelCost cost;
};

#define ODLC_KERNEL_COST(kind, precision, c0, c1, c2, c3, c4, c5, c6)                           \
  {KernelKind::kind, Precision::precision, {{c0, c1, c2, c3, c4, c5, c6}}},
const CostEntry kRv32imafc[] = {
#include "targets/costs/rv32imafc.def"
};
const CostEntry kCortexM4[] = {
#include "targets/costs/cortex-m4.def"
};
const CostEntry kCortexM7[] = {
#include "targets/costs/cortex-m7.def"
};
#undef ODLC_KERNEL_COST

struct TargetCosts {
  const char *target;
  const CostEntry *begin;
  const CostEntry *end;
};

template <size_t N> TargetCosts table(const char *target, const CostEntry (&entries)[N]) {
  return {target, entries, entries + N};
}

const TargetCosts kTables[] = {table("rv32imafc", kRv32imafc), table("cortex-m4", kCortexM4),
                               table("cortex-m7", kCortexM7)};

const char *const kKindNames[] = {
#define ODLC_KERNEL_KIND(kind, name, unit) name,
#include "targets/costs/KernelKinds.def"
};

int64_t elementsOf(const Graph &g, const std::vector<TensorId> &ids) {
  int64_t total = 0;
  for (TensorId id : ids)
    total += id == kNoTensor ? 0 : g.tensor(id).elements();
  return total;
}

int64_t windowOf(const Node &n) {
  int64_t window = 1;
  for (int64_t k : n.attrs.getInts("kernel_shape"))
    window *= k;
  return window;
}

/// The conv flavour the runtime picks for input channels c, weight w and the node's attrs.
enum class ConvFlavour { Standard, Depthwise, Pointwise };

ConvFlavour convFlavour(int64_t channels, const Shape &w, const AttrMap &attrs) {
  auto strides = attrs.getInts("strides", {1, 1});
  auto pads = attrs.getInts("pads", {0, 0, 0, 0});
  int64_t group = attrs.getInt("group", 1);
  bool unpadded = true;
  for (int64_t p : pads)
    unpadded = unpadded && p == 0;
  if (w.size() == 4 && w[2] == 1 && w[3] == 1 && strides == std::vector<int64_t>{1, 1} &&
      unpadded)
    return ConvFlavour::Pointwise;
  if (group > 1 && group == channels && group == w[0])
    return ConvFlavour::Depthwise;
  return ConvFlavour::Standard;
}

KernelKind pick(ConvFlavour flavour, KernelKind standard, KernelKind depthwise,
                KernelKind pointwise) {
  if (flavour == ConvFlavour::Pointwise)
    return pointwise;
  return flavour == ConvFlavour::Depthwise ? depthwise : standard;
}

const Shape &shapeOf(const Graph &g, const Node &n, size_t i) {
  return g.tensor(n.inputs.at(i)).shape;
}

int dim(const Shape &s, size_t i, int64_t fallback = 1) {
  return int(i < s.size() ? s[i] : fallback);
}

/// The odlc_conv2d_params of a conv geometry: x [N,C,H,W], weight [M, C/group, kh, kw] (only
/// its kernel size is read), dy / y [N,M,OH,OW], the node's strides, pads and group.
odlc_cost_geom convGeometry(const Shape &x, const Shape &w, const Shape &y, const AttrMap &attrs,
                            int64_t group) {
  auto strides = attrs.getInts("strides", {1, 1});
  auto pads = attrs.getInts("pads", {0, 0, 0, 0});
  odlc_cost_geom geom;
  geom.n = dim(x, 0);
  geom.c = dim(x, 1);
  geom.h = dim(x, 2);
  geom.w = dim(x, 3);
  geom.m = dim(y, 1);
  geom.oh = dim(y, 2);
  geom.ow = dim(y, 3);
  geom.kh = dim(w, 2);
  geom.kw = dim(w, 3);
  geom.sh = int(strides.size() > 0 ? strides[0] : 1);
  geom.sw = int(strides.size() > 1 ? strides[1] : geom.sh);
  geom.pt = int(pads.size() > 0 ? pads[0] : 0);
  geom.pl = int(pads.size() > 1 ? pads[1] : 0);
  geom.group = int(group);
  geom.block = 0;
  return geom;
}

/// ConvUpdate (x, dy, w, ...): a sparse update runs on the compact geometry (x holds the kept
/// input channels, dy the kept outputs; depthwise: group = the kept channels).
odlc_cost_geom convUpdateGeometry(const Graph &g, const Node &n) {
  const Shape &x = shapeOf(g, n, 0), &dy = shapeOf(g, n, 1), &w = shapeOf(g, n, 2);
  int64_t group = n.attrs.getInt("group", 1);
  if (group > 1 && w.size() == 4 && w[1] == 1) // depthwise, compact or not
    group = dy.size() > 1 ? dy[1] : group;
  odlc_cost_geom geom = convGeometry(x, w, dy, n.attrs, group);
  geom.block = n.attrs.has("sparse.out_channels") ? 1 : 0;
  return geom;
}

/// n rows of c channels of h elements (the element-wise kinds).
odlc_cost_geom rowsGeometry(int64_t n, int64_t c, int64_t h) {
  odlc_cost_geom geom;
  std::memset(&geom, 0, sizeof geom);
  geom.n = int(n);
  geom.c = geom.m = int(c);
  geom.h = geom.oh = int(h);
  geom.w = geom.ow = geom.kh = geom.kw = geom.sh = geom.sw = geom.group = 1;
  return geom;
}

/// Gemm [rows x k] * [k x cols].
odlc_cost_geom gemmGeometry(int64_t rows, int64_t k, int64_t cols) {
  odlc_cost_geom geom = rowsGeometry(rows, k, 1);
  geom.m = int(cols);
  return geom;
}

/// Elements of `s` after its first `from` dimensions.
int64_t planeOf(const Shape &s, size_t from) {
  int64_t p = 1;
  for (size_t i = from; i < s.size(); ++i)
    p *= s[i];
  return p;
}

} // namespace

int numKernelKinds() { return int(sizeof(kKindNames) / sizeof(kKindNames[0])); }

const char *kernelKindName(KernelKind kind) {
  return kind == KernelKind::None ? "none" : kKindNames[size_t(kind)];
}

bool kernelKindFromName(const std::string &name, KernelKind &kind) {
  for (int i = 0; i < numKernelKinds(); ++i) {
    if (name != kKindNames[i])
      continue;
    kind = KernelKind(i);
    return true;
  }
  return false;
}

const char *precisionName(Precision) { return "fp32"; }

const KernelCost *kernelCost(const TargetInfo &target, KernelKind kind, Precision precision) {
  for (const TargetCosts &t : kTables) {
    if (target.name != t.target)
      continue;
    for (const CostEntry *e = t.begin; e != t.end; ++e)
      if (e->kind == kind && e->precision == precision)
        return &e->cost;
  }
  return nullptr;
}

KernelKind classifyNode(const Graph &g, const Node &n) {
  switch (n.op) {
  case OpKind::Conv: {
    // Depthwise kernels other than 3x3 dilation 1 run the standard column walker.
    const Shape &w = shapeOf(g, n, 1);
    bool dw3x3 = w.size() == 4 && w[2] == 3 && w[3] == 3 &&
                 n.attrs.getInts("dilations", {1, 1}) == std::vector<int64_t>{1, 1};
    return pick(convFlavour(shapeOf(g, n, 0)[1], w, n.attrs), KernelKind::Conv,
                dw3x3 ? KernelKind::ConvDepthwise : KernelKind::Conv, KernelKind::ConvPointwise);
  }
  case OpKind::ConvGradInput: {
    // Depthwise 3x3: a stride-1 and a strided kernel (other depthwise kernels: see the .def).
    bool strided = n.attrs.getInts("strides", {1, 1}) != std::vector<int64_t>{1, 1};
    return pick(convFlavour(n.attrs.getInts("input_shape")[1], shapeOf(g, n, 1), n.attrs),
                KernelKind::ConvGradInput,
                strided ? KernelKind::ConvDepthwiseGradInputStrided
                        : KernelKind::ConvDepthwiseGradInput,
                KernelKind::ConvPointwiseGradInput);
  }
  case OpKind::ConvGradInputBlock: { // 4 input channels at a time through the dense kernel
    if (n.attrs.getInt("group", 1) > 1)
      return n.attrs.getInts("strides", {1, 1}) != std::vector<int64_t>{1, 1}
                 ? KernelKind::ConvDepthwiseGradInputBlockStrided
                 : KernelKind::ConvDepthwiseGradInputBlock;
    const Shape &w = shapeOf(g, n, 1);
    auto strides = n.attrs.getInts("strides", {1, 1});
    auto pads = n.attrs.getInts("pads", {0, 0, 0, 0});
    bool pointwise = w.size() == 4 && w[2] == 1 && w[3] == 1 &&
                     strides == std::vector<int64_t>{1, 1} &&
                     std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; });
    return pointwise ? KernelKind::ConvPointwiseGradInputBlock : KernelKind::ConvGradInputBlock;
  }
  case OpKind::ConvUpdate: {
    // bwd_weight_sgd: 4 x 4 channel blocks with >= 4 channels per group on both sides, the
    // depthwise 3x3 kernel, else weight by weight (sparse updates: the compact geometry).
    odlc_cost_geom geom = convUpdateGeometry(g, n);
    if (geom.c / geom.group >= 4 && geom.m / geom.group >= 4)
      return geom.kh == 1 && geom.kw == 1 ? KernelKind::ConvPointwiseUpdate
                                          : KernelKind::ConvUpdate;
    if (geom.group > 1 && geom.group == geom.c && geom.group == geom.m && geom.kh == 3 &&
        geom.kw == 3)
      return KernelKind::ConvDepthwiseUpdate;
    return KernelKind::ConvUpdateNarrow;
  }
  case OpKind::Gemm:
  case OpKind::MatMul:
    return KernelKind::Gemm;
  case OpKind::GemmGradA:
    return KernelKind::GemmGradA;
  case OpKind::GemmGradABlock:
    return KernelKind::GemmGradABlock;
  case OpKind::GemmUpdate:
    return n.attrs.has("sparse.out_channels") ? KernelKind::GemmUpdateBlock
                                              : KernelKind::GemmUpdate;
  // Measured on relu; exp-based ops (Sigmoid, Tanh, Exp) cost more per element.
  case OpKind::Relu6:
  case OpKind::Clip:
    return KernelKind::UnaryClip;
  case OpKind::Relu:
  case OpKind::LeakyRelu:
  case OpKind::Sigmoid:
  case OpKind::HardSigmoid:
  case OpKind::HardSwish:
  case OpKind::Tanh:
  case OpKind::Neg:
  case OpKind::Exp:
  case OpKind::Sqrt:
  case OpKind::Abs:
    return KernelKind::Unary;
  case OpKind::UnaryGrad: {
    const std::string op = n.attrs.has("op") ? n.attrs.getString("op") : "";
    return op == "Relu6" || op == "Clip" ? KernelKind::UnaryClipGrad : KernelKind::UnaryGrad;
  }
  // One multiply-add or operation per element, like Add.
  case OpKind::Add:
  case OpKind::Sub:
  case OpKind::Mul:
  case OpKind::Div:
  case OpKind::BatchNormalization:
  case OpKind::ChannelAffine:
    return KernelKind::Binary;
  case OpKind::MaxPool:
    return KernelKind::Maxpool;
  case OpKind::MaxPoolGrad:
    return KernelKind::MaxpoolGrad;
  case OpKind::AveragePool:
    return KernelKind::Avgpool;
  case OpKind::AvgPoolGrad:
    return KernelKind::AvgpoolGrad;
  // Reductions read every input element once, like global average pooling.
  case OpKind::GlobalAveragePool:
  case OpKind::ReduceMean:
  case OpKind::ReduceSum:
    return KernelKind::GlobalAvgpool;
  case OpKind::GlobalAveragePoolGrad:
    return KernelKind::GlobalAvgpoolGrad;
  case OpKind::Softmax:
  case OpKind::SoftmaxCrossEntropy:
    return KernelKind::SoftmaxXent;
  case OpKind::Transpose:
  case OpKind::Concat:
  case OpKind::Split:
  case OpKind::Slice:
  case OpKind::SliceGrad:
  case OpKind::Gather:
  case OpKind::Pad:
    return KernelKind::Copy;
  case OpKind::ChannelGather:
    return KernelKind::ChannelGather;
  case OpKind::ChannelScatter:
    return KernelKind::ChannelScatter;
  case OpKind::BiasUpdate:
    return KernelKind::BiasUpdate;
  case OpKind::Flatten:
  case OpKind::Reshape:
  case OpKind::Squeeze:
  case OpKind::Unsqueeze:
  case OpKind::View:
  case OpKind::Identity:
  case OpKind::Dropout:
    return KernelKind::None;
  }
  return KernelKind::None;
}

Precision nodePrecision(const Graph &, const Node &) { return Precision::Fp32; }

int64_t costUnits(const Graph &g, const Node &n, KernelKind kind) {
  switch (kind) {
  case KernelKind::Conv:
  case KernelKind::ConvGradInput:
  case KernelKind::ConvUpdate:
  case KernelKind::ConvDepthwise:
  case KernelKind::ConvDepthwiseGradInput:
  case KernelKind::ConvDepthwiseGradInputStrided:
  case KernelKind::ConvDepthwiseUpdate:
  case KernelKind::ConvPointwise:
  case KernelKind::ConvPointwiseGradInput:
  case KernelKind::ConvPointwiseUpdate:
  case KernelKind::Gemm:
  case KernelKind::GemmGradA:
  case KernelKind::GemmUpdate:
  case KernelKind::ConvUpdateNarrow:
  case KernelKind::ConvGradInputBlock:
  case KernelKind::ConvPointwiseGradInputBlock:
  case KernelKind::ConvDepthwiseGradInputBlock:
  case KernelKind::ConvDepthwiseGradInputBlockStrided:
  case KernelKind::GemmGradABlock:
  case KernelKind::GemmUpdateBlock:
    return opInfo(n.op).macs(g, n);
  case KernelKind::BiasUpdate:
    return g.tensor(n.inputs.at(0)).elements();
  case KernelKind::ChannelGather:
  case KernelKind::ChannelScatter:
  case KernelKind::Maxpool:
  case KernelKind::Avgpool:
    return elementsOf(g, n.outputs) * windowOf(n);
  case KernelKind::MaxpoolGrad: // inputs (x, dy)
    return g.tensor(n.inputs.at(1)).elements() * windowOf(n);
  case KernelKind::AvgpoolGrad: // input dy
    return g.tensor(n.inputs.at(0)).elements() * windowOf(n);
  case KernelKind::GlobalAvgpool:
  case KernelKind::SoftmaxXent:
    return g.tensor(n.inputs.at(0)).elements();
  case KernelKind::Unary:
  case KernelKind::UnaryClip:
  case KernelKind::UnaryGrad:
  case KernelKind::UnaryClipGrad:
  case KernelKind::Binary:
  case KernelKind::Copy:
  case KernelKind::GlobalAvgpoolGrad:
    return elementsOf(g, n.outputs);
  case KernelKind::None:
    return 0;
  }
  return 0;
}

void costTerms(const Graph &g, const Node &n, KernelKind kind, double terms[kCostTerms]) {
  static_assert(kCostTerms == ODLC_COST_TERMS, "CostTerms.h and CostModel.h disagree");
  for (int i = 0; i < kCostTerms; ++i)
    terms[i] = 0;
  if (kind == KernelKind::None)
    return;
  odlc_cost_geom geom;
  const Shape &out = n.outputs.empty() ? shapeOf(g, n, 0) : g.tensor(n.outputs[0]).shape;
  switch (kind) {
  case KernelKind::Conv:
  case KernelKind::ConvDepthwise:
  case KernelKind::ConvPointwise:
    geom = convGeometry(shapeOf(g, n, 0), shapeOf(g, n, 1), out, n.attrs,
                        n.attrs.getInt("group", 1));
    break;
  case KernelKind::ConvGradInput:
  case KernelKind::ConvDepthwiseGradInput:
  case KernelKind::ConvDepthwiseGradInputStrided:
  case KernelKind::ConvPointwiseGradInput:
    geom = convGeometry(n.attrs.getInts("input_shape"), shapeOf(g, n, 1), shapeOf(g, n, 0),
                        n.attrs, n.attrs.getInt("group", 1));
    break;
  case KernelKind::ConvGradInputBlock:
  case KernelKind::ConvPointwiseGradInputBlock:
  case KernelKind::ConvDepthwiseGradInputBlock:
  case KernelKind::ConvDepthwiseGradInputBlockStrided: {
    // The compact geometry the lowering writes: c = |I| (depthwise: group = c = m = |O|).
    Shape x = n.attrs.getInts("input_shape");
    const Shape &dy = shapeOf(g, n, 0);
    bool depthwise = kind == KernelKind::ConvDepthwiseGradInputBlock ||
                     kind == KernelKind::ConvDepthwiseGradInputBlockStrided;
    if (x.size() > 1)
      x[1] = depthwise ? dim(dy, 1) : int64_t(n.attrs.getInts("sparse.in_channels").size());
    geom = convGeometry(x, shapeOf(g, n, 1), dy, n.attrs, depthwise ? x[1] : 1);
    break;
  }
  case KernelKind::ConvUpdate:
  case KernelKind::ConvUpdateNarrow:
  case KernelKind::ConvDepthwiseUpdate:
  case KernelKind::ConvPointwiseUpdate:
    geom = convUpdateGeometry(g, n);
    break;
  case KernelKind::Gemm: {
    int64_t cols = out.empty() ? 1 : out.back();
    int64_t rows = g.tensor(n.outputs[0]).elements() / std::max<int64_t>(cols, 1);
    int64_t k = opInfo(n.op).macs(g, n) / std::max<int64_t>(rows * cols, 1);
    geom = gemmGeometry(rows, k, cols);
    break;
  }
  case KernelKind::GemmGradA:
  case KernelKind::GemmGradABlock: { // dy [M, N] -> da [M, K]
    const Shape &dy = shapeOf(g, n, 0);
    geom = gemmGeometry(dim(dy, 0), dim(out, 1), dim(dy, 1));
    break;
  }
  case KernelKind::GemmUpdate:
  case KernelKind::GemmUpdateBlock: { // a [M, K] (kept columns), dy [M, N] (kept columns)
    const Shape &a = shapeOf(g, n, 0), &dy = shapeOf(g, n, 1);
    geom = gemmGeometry(dim(a, 0), dim(a, 1), dim(dy, 1));
    break;
  }
  case KernelKind::Maxpool:
  case KernelKind::Avgpool:
  case KernelKind::MaxpoolGrad:
  case KernelKind::AvgpoolGrad: {
    // x [N,C,H,W] and y [N,C,OH,OW]: the forward's input and output, the gradients' output
    // and dy.
    bool grad = kind == KernelKind::MaxpoolGrad || kind == KernelKind::AvgpoolGrad;
    const Shape &x = grad ? out : shapeOf(g, n, 0);
    const Shape &y = grad ? shapeOf(g, n, kind == KernelKind::MaxpoolGrad ? 1 : 0) : out;
    auto kernel = n.attrs.getInts("kernel_shape", {1, 1});
    Shape w = {1, 1, kernel.size() > 0 ? kernel[0] : 1, kernel.size() > 1 ? kernel[1] : 1};
    geom = convGeometry(x, w, y, n.attrs, dim(x, 1));
    geom.m = geom.c;
    break;
  }
  case KernelKind::GlobalAvgpool: { // planes of input elements, one output each
    const Shape &x = shapeOf(g, n, 0);
    int64_t planes = std::max<int64_t>(g.tensor(n.outputs[0]).elements(), 1);
    geom = rowsGeometry(1, planes, numElements(x) / planes);
    break;
  }
  case KernelKind::GlobalAvgpoolGrad: {
    const Shape &dy = shapeOf(g, n, 0);
    int64_t planes = std::max<int64_t>(numElements(dy), 1);
    geom = rowsGeometry(1, planes, numElements(out) / planes);
    break;
  }
  case KernelKind::SoftmaxXent: { // logits [B, classes]
    const Shape &x = shapeOf(g, n, 0);
    int64_t classes = x.empty() ? 1 : x.back();
    geom = rowsGeometry(1, numElements(x) / std::max<int64_t>(classes, 1), classes);
    break;
  }
  case KernelKind::Copy: { // rows of the innermost dimension
    int64_t inner = out.empty() ? 1 : out.back();
    geom = rowsGeometry(1, numElements(out) / std::max<int64_t>(inner, 1), inner);
    break;
  }
  case KernelKind::ChannelGather: // x [R, C, ...] -> y [r, k, ...]
    geom = rowsGeometry(dim(out, 0), dim(shapeOf(g, n, 0), 1), planeOf(out, 2));
    geom.m = dim(out, 1);
    break;
  case KernelKind::ChannelScatter: { // x [r, k, ...] -> y [R, C, ...], zeros elsewhere
    const Shape &x = shapeOf(g, n, 0);
    geom = rowsGeometry(dim(x, 0), dim(out, 1), planeOf(x, 2));
    geom.m = dim(x, 1);
    break;
  }
  case KernelKind::BiasUpdate: { // dy [N, C, ...]
    const Shape &dy = shapeOf(g, n, 0);
    geom = rowsGeometry(dim(dy, 0), dim(dy, 1), planeOf(dy, 2));
    break;
  }
  case KernelKind::Unary:
  case KernelKind::UnaryGrad:
  case KernelKind::Binary:
  default:
    geom = rowsGeometry(1, 1, elementsOf(g, n.outputs));
    break;
  }
  odlc_cost_terms(odlc_cost_kind(int(kind)), &geom, terms);
}

double instructionsOf(const Graph &g, const Node &n, const TargetInfo &target) {
  KernelKind kind = classifyNode(g, n);
  if (kind == KernelKind::None)
    return 0;
  const KernelCost *cost = kernelCost(target, kind, nodePrecision(g, n));
  if (!cost)
    return double(costUnits(g, n, kind));
  double terms[kCostTerms];
  costTerms(g, n, kind, terms);
  double total = 0;
  for (int i = 0; i < kCostTerms; ++i)
    total += cost->c[i] * terms[i];
  // A negative intercept (see the .def) must not make a call far smaller than the fitted shapes
  // cost less than nothing.
  return std::max(total, 0.0);
}

} // namespace odlc
