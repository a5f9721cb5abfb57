// The cost model: the measured tables of targets/costs/ and the node -> kernel kind mapping.
#include "targets/CostModel.h"

#include "ir/OpTable.h"

#include <cstring>

namespace odlc {

namespace {

struct CostEntry {
  KernelKind kind;
  Precision precision;
  KernelCost cost;
};

#define ODLC_KERNEL_COST(kind, precision, perMac, perCall)                                      \
  {KernelKind::kind, Precision::precision, {perMac, perCall}},
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
  case OpKind::Conv:
    return pick(convFlavour(shapeOf(g, n, 0)[1], shapeOf(g, n, 1), n.attrs), KernelKind::Conv,
                KernelKind::ConvDepthwise, KernelKind::ConvPointwise);
  case OpKind::ConvGradInput:
  case OpKind::ConvGradInputBlock:
    return pick(convFlavour(n.attrs.getInts("input_shape")[1], shapeOf(g, n, 1), n.attrs),
                KernelKind::ConvGradInput, KernelKind::ConvDepthwiseGradInput,
                KernelKind::ConvPointwiseGradInput);
  case OpKind::ConvUpdate:
    return pick(convFlavour(shapeOf(g, n, 0)[1], shapeOf(g, n, 2), n.attrs),
                KernelKind::ConvUpdate, KernelKind::ConvDepthwiseUpdate,
                KernelKind::ConvPointwiseUpdate);
  case OpKind::Gemm:
  case OpKind::MatMul:
    return KernelKind::Gemm;
  case OpKind::GemmGradA:
  case OpKind::GemmGradABlock:
    return KernelKind::GemmGradA;
  case OpKind::GemmUpdate:
    return KernelKind::GemmUpdate;
  // Measured on relu; exp-based ops (Sigmoid, Tanh, Exp) cost more per element.
  case OpKind::Relu:
  case OpKind::Relu6:
  case OpKind::Clip:
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
  case OpKind::UnaryGrad:
    return KernelKind::UnaryGrad;
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
  case OpKind::ChannelGather:
  case OpKind::ChannelScatter:
  case OpKind::BiasUpdate:
  case OpKind::Gather:
  case OpKind::Pad:
    return KernelKind::Copy;
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
  case KernelKind::ConvDepthwiseUpdate:
  case KernelKind::ConvPointwise:
  case KernelKind::ConvPointwiseGradInput:
  case KernelKind::ConvPointwiseUpdate:
  case KernelKind::Gemm:
  case KernelKind::GemmGradA:
  case KernelKind::GemmUpdate:
    return opInfo(n.op).macs(g, n);
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
  case KernelKind::UnaryGrad:
  case KernelKind::Binary:
  case KernelKind::Copy:
  case KernelKind::GlobalAvgpoolGrad:
    return elementsOf(g, n.outputs);
  case KernelKind::None:
    return 0;
  }
  return 0;
}

double instructionsOf(const Graph &g, const Node &n, const TargetInfo &target) {
  KernelKind kind = classifyNode(g, n);
  if (kind == KernelKind::None)
    return 0;
  double units = double(costUnits(g, n, kind));
  const KernelCost *cost = kernelCost(target, kind, nodePrecision(g, n));
  if (!cost)
    return units;
  return cost->perCall + cost->perMac * units;
}

} // namespace odlc
