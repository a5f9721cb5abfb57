// Lowering of the training ops (loss, backward, fused SGD updates) to runtime/odlc_train.h.
#include "targets/TrainKernelCalls.h"

#include "Diagnostics.h"
#include "ir/GradBuilder.h"
#include "ir/OpRules.h"
#include "ir/OpTable.h"
#include "targets/KernelFields.h"

#include <fmt/format.h>

namespace odlc {

namespace {

constexpr const char *kTrainFile = "odlc_train.c";
constexpr const char *kSparseFile = "odlc_train_sparse.c";

std::string sgdDeclaration(const std::string &sym, const AttrMap &attrs) {
  return fmt::format("static const odlc_sgd_params {}_sgd = {{.lr = {}, .momentum = {}}};", sym,
                     cFloat(attrs.getFloat("lr")), cFloat(attrs.getFloat("momentum")));
}

/// Operand i of an update node, or NULL when absent.
TensorId operand(const Node &n, size_t i) { return n.input(i); }

KernelCall lowerXent(const Graph &g, const Node &n, const std::string &sym, const TensorRef &ref) {
  const Shape &z = shapeOf(g, n.inputs[0]);
  KernelCall call;
  call.declarations.push_back(fmt::format(
      "static const odlc_xent_params {} = {{.batch = {}, .classes = {}}};", sym, z[0], z[1]));
  call.statements.push_back(fmt::format(
      "{}[0] = odlc_softmax_xent_f32(&{}, n, {}, labels, class_weight, {});", ref(n.outputs[1]),
      sym, ref(n.inputs[0]), ref(n.outputs[0])));
  call.runtimeFile = kTrainFile;
  return call;
}

KernelCall lowerConvGradInput(const Graph &g, const Node &n, const std::string &sym,
                              const TensorRef &ref) {
  Shape x = n.attrs.getInts("input_shape");
  std::string fields = convFields(x, shapeOf(g, n.inputs[1]), shapeOf(g, n.inputs[0]), n.attrs);
  return single("odlc_conv2d_params", sym, fields, "odlc_conv2d_backward_input_f32",
                args(ref, {n.inputs[0], n.inputs[1], n.outputs[0]}), kTrainFile);
}

/// `static const int32_t NAME[] = {...};`: the channel lists of a sparse update, in the C.
std::string indexArray(const std::string &name, const std::vector<int64_t> &values) {
  return fmt::format("static const int32_t {}[{}] = {};", name, values.size(), list(values));
}

/// The weight block of a sparse update: out/in channel lists and their strides in the weight.
void declareWeightBlock(KernelCall &call, const std::string &sym, const AttrMap &attrs,
                        bool withInputs, int64_t outStride, int64_t inStride) {
  std::string out = sym + "_out";
  if (attrs.has("sparse.dynamic"))
    out = dynamicChannels(attrs.getInt("sparse.dynamic")); // declared by the train emitter
  else
    call.declarations.push_back(indexArray(out, attrs.getInts("sparse.out_channels")));
  if (withInputs)
    call.declarations.push_back(indexArray(sym + "_in", attrs.getInts("sparse.in_channels")));
  call.declarations.push_back(fmt::format(
      "static const odlc_weight_block {0}_block = {{.out_channels = {4}, .in_channels = {1}, "
      ".out_stride = {2}, .in_stride = {3}}};",
      sym, withInputs ? sym + "_in" : "NULL", outStride, inStride, out));
}

/// Only the block [O, I] of the weight: the kernel sees the compact geometry (x holds the kept
/// channels I, dy the channels O) and writes through the block's index lists.
KernelCall lowerSparseConvUpdate(const Graph &g, const Node &n, const std::string &sym,
                                 const TensorRef &ref) {
  const Shape &full = shapeOf(g, n.inputs[2]);
  bool depthwise = n.attrs.getInt("group") > 1;
  Shape compact = full;
  compact[0] = int64_t(n.attrs.getInts("sparse.out_channels").size());
  compact[1] = depthwise ? 1 : int64_t(n.attrs.getInts("sparse.in_channels").size());
  int64_t taps = prod(full, 2, full.size());
  std::string fields =
      convFields(shapeOf(g, n.inputs[0]), compact, shapeOf(g, n.inputs[1]), n.attrs);
  KernelCall call = single("odlc_conv2d_params", sym, fields, "", "", kTrainFile);
  declareWeightBlock(call, sym, n.attrs, !depthwise, full[1] * taps, taps);
  call.declarations.push_back(sgdDeclaration(sym, n.attrs));
  call.statements = {fmt::format(
      "odlc_conv2d_backward_weight_block_sgd_f32(&{0}, &{0}_sgd, &{0}_block, {1});", sym,
      args(ref, {n.inputs[0], n.inputs[1], n.inputs[2], operand(n, 3), operand(n, 4),
                 operand(n, 5)}))};
  return call;
}

/// As lowerSparseConvUpdate; B is [N][K] (transB) or [K][N], output channels along N.
KernelCall lowerSparseGemmUpdate(const Graph &g, const Node &n, const std::string &sym,
                                 const TensorRef &ref) {
  const Shape &full = shapeOf(g, n.inputs[2]);
  bool transB = n.attrs.getInt("transB") != 0;
  std::string fields = gemmFields(shapeOf(g, n.inputs[0]), shapeOf(g, n.inputs[1]), false, {},
                                  n.attrs);
  KernelCall call = single("odlc_gemm_params", sym, fields, "", "", kSparseFile);
  declareWeightBlock(call, sym, n.attrs, true, transB ? full[1] : 1, transB ? 1 : full[1]);
  call.declarations.push_back(sgdDeclaration(sym, n.attrs));
  call.statements = {fmt::format(
      "odlc_gemm_backward_b_block_sgd_f32(&{0}, &{0}_sgd, &{0}_block, {1});", sym,
      args(ref, {n.inputs[0], n.inputs[1], n.inputs[2], operand(n, 3), operand(n, 4),
                 operand(n, 5)}))};
  return call;
}

/// dx[:, I] from dy[:, O] and the full weight read through the block's index tables (four input
/// channels of W[O, I] at a time copied to the scratch output).
KernelCall lowerConvGradInputBlock(const Graph &g, const Node &n, const std::string &sym,
                                   const TensorRef &ref) {
  const Shape &full = shapeOf(g, n.inputs[1]);
  bool depthwise = n.attrs.getInt("group") > 1;
  Shape compact = full;
  compact[0] = int64_t(n.attrs.getInts("sparse.out_channels").size());
  compact[1] = depthwise ? 1 : int64_t(n.attrs.getInts("sparse.in_channels").size());
  int64_t taps = prod(full, 2, full.size());
  std::string fields = convFields(n.attrs.getInts("input_shape"), compact,
                                  shapeOf(g, n.inputs[0]), n.attrs);
  KernelCall call = single("odlc_conv2d_params", sym, fields, "", "", kSparseFile);
  declareWeightBlock(call, sym, n.attrs, !depthwise, full[1] * taps, taps);
  call.statements = {fmt::format(
      "odlc_conv2d_backward_input_block_f32(&{0}, &{0}_block, {1});", sym,
      args(ref, {n.inputs[0], n.inputs[1], n.outputs[1], n.outputs[0]}))};
  return call;
}

/// da[:, I] from dy[:, O] and the full B read through the block's index tables.
KernelCall lowerGemmGradABlock(const Graph &g, const Node &n, const std::string &sym,
                               const TensorRef &ref) {
  const Shape &full = shapeOf(g, n.inputs[1]);
  bool transB = n.attrs.getInt("transB") != 0;
  std::string fields = gemmFields(shapeOf(g, n.outputs[0]), shapeOf(g, n.inputs[0]), false, {},
                                  n.attrs);
  KernelCall call = single("odlc_gemm_params", sym, fields, "", "", kSparseFile);
  declareWeightBlock(call, sym, n.attrs, true, transB ? full[1] : 1, transB ? 1 : full[1]);
  call.statements = {fmt::format("odlc_gemm_backward_a_block_f32(&{0}, &{0}_block, {1});", sym,
                                 args(ref, {n.inputs[0], n.inputs[1], n.outputs[0]}))};
  return call;
}

/// ChannelGather (x -> x[rows][channels]) and ChannelScatter (the inverse, zeros elsewhere).
KernelCall lowerChannelBlock(const Graph &g, const Node &n, const std::string &sym,
                             const TensorRef &ref) {
  bool scatter = n.op == OpKind::ChannelScatter;
  Shape full = scatter ? Shape(n.attrs.getInts("shape")) : shapeOf(g, n.inputs[0]);
  KernelCall call;
  std::string rows = "NULL", channels = "NULL";
  int64_t numRows = full[0], numChannels = full[1];
  if (n.attrs.has("rows")) {
    rows = sym + "_rows";
    numRows = int64_t(n.attrs.getInts("rows").size());
    call.declarations.push_back(indexArray(rows, n.attrs.getInts("rows")));
  }
  if (n.attrs.has("channels")) {
    channels = sym + "_channels";
    numChannels = int64_t(n.attrs.getInts("channels").size());
    if (n.attrs.has("sparse.dynamic"))
      channels = dynamicChannels(n.attrs.getInt("sparse.dynamic"));
    else
      call.declarations.push_back(indexArray(channels, n.attrs.getInts("channels")));
  }
  std::string fields = fmt::format(
      ".x_rows = {}, .x_channels = {}, .plane = {}, .n_rows = {}, .n_channels = {}, "
      ".rows = {}, .channels = {}",
      full[0], full[1], prod(full, 2, full.size()), numRows, numChannels, rows, channels);
  KernelCall params = single("odlc_channel_block_params", sym, fields,
                             scatter ? "odlc_channel_scatter_f32" : "odlc_channel_gather_f32",
                             args(ref, {n.inputs[0], n.outputs[0]}), kSparseFile);
  call.declarations.insert(call.declarations.end(), params.declarations.begin(),
                           params.declarations.end());
  call.statements = params.statements;
  call.runtimeFile = kSparseFile;
  return call;
}

/// Bias-only SGD (--sparse bias): the bias gradient is dy summed over all but the channels.
KernelCall lowerBiasUpdate(const Graph &g, const Node &n, const std::string &sym,
                           const TensorRef &ref) {
  const Shape &dy = shapeOf(g, n.inputs[0]);
  std::string fields = fmt::format(".n = {}, .c = {}, .plane = {}, .scale = {}", dy[0], dy[1],
                                   prod(dy, 2, dy.size()), cFloat(n.attrs.getFloat("scale")));
  KernelCall call = single("odlc_bias_grad_params", sym, fields, "", "", kSparseFile);
  call.declarations.push_back(sgdDeclaration(sym, n.attrs));
  call.statements = {fmt::format("odlc_bias_sgd_f32(&{0}, &{0}_sgd, {1});", sym,
                                 args(ref, {n.inputs[0], n.inputs[1], operand(n, 2)}))};
  return call;
}

KernelCall lowerConvUpdate(const Graph &g, const Node &n, const std::string &sym,
                           const TensorRef &ref) {
  if (n.attrs.has("sparse.out_channels"))
    return lowerSparseConvUpdate(g, n, sym, ref);
  std::string fields = convFields(shapeOf(g, n.inputs[0]), shapeOf(g, n.inputs[2]),
                                  shapeOf(g, n.inputs[1]), n.attrs);
  KernelCall call = single("odlc_conv2d_params", sym, fields, "odlc_conv2d_backward_weight_sgd_f32",
                           "", kTrainFile);
  call.declarations.push_back(sgdDeclaration(sym, n.attrs));
  call.statements = {fmt::format(
      "odlc_conv2d_backward_weight_sgd_f32(&{0}, &{0}_sgd, {1});", sym,
      args(ref, {n.inputs[0], n.inputs[1], n.inputs[2], operand(n, 3), operand(n, 4),
                 operand(n, 5)}))};
  return call;
}

KernelCall lowerGemmGradA(const Graph &g, const Node &n, const std::string &sym,
                          const TensorRef &ref) {
  std::string fields =
      gemmFields(shapeOf(g, n.outputs[0]), shapeOf(g, n.inputs[0]), false, {}, n.attrs);
  return single("odlc_gemm_params", sym, fields, "odlc_gemm_backward_a_f32",
                args(ref, {n.inputs[0], n.inputs[1], n.outputs[0]}), kTrainFile);
}

KernelCall lowerGemmUpdate(const Graph &g, const Node &n, const std::string &sym,
                           const TensorRef &ref) {
  if (n.attrs.has("sparse.out_channels"))
    return lowerSparseGemmUpdate(g, n, sym, ref);
  TensorId c = operand(n, 3);
  Shape cs = c == kNoTensor ? Shape{} : shapeOf(g, c);
  std::string fields =
      gemmFields(shapeOf(g, n.inputs[0]), shapeOf(g, n.inputs[1]), c != kNoTensor, cs, n.attrs);
  KernelCall call = single("odlc_gemm_params", sym, fields, "", "", kTrainFile);
  call.declarations.push_back(sgdDeclaration(sym, n.attrs));
  call.statements = {fmt::format(
      "odlc_gemm_backward_b_sgd_f32(&{0}, &{0}_sgd, {1});", sym,
      args(ref, {n.inputs[0], n.inputs[1], n.inputs[2], c, operand(n, 4), operand(n, 5)}))};
  return call;
}

const char *unaryCode(const std::string &op) {
  if (op == "Relu")
    return "ODLC_UNARY_RELU";
  if (op == "Relu6" || op == "Clip")
    return "ODLC_UNARY_CLIP";
  if (op == "LeakyRelu")
    return "ODLC_UNARY_LEAKY_RELU";
  if (op == "Sigmoid")
    return "ODLC_UNARY_SIGMOID";
  if (op == "HardSigmoid")
    return "ODLC_UNARY_HARD_SIGMOID";
  if (op == "HardSwish")
    return "ODLC_UNARY_HARD_SWISH";
  if (op == "Tanh")
    return "ODLC_UNARY_TANH";
  internalError("UnaryGrad of " + op, __FILE__, __LINE__);
}

KernelCall lowerUnaryGrad(const Graph &g, const Node &n, const std::string &sym,
                          const TensorRef &ref) {
  const std::string &op = n.attrs.getString("op");
  double a = 0, b = 0;
  if (op == "Relu6")
    b = 6;
  if (op == "Clip") {
    a = n.attrs.getFloat("min");
    b = n.attrs.getFloat("max");
  }
  if (op == "LeakyRelu" || op == "HardSigmoid")
    a = n.attrs.getFloat("alpha");
  if (op == "HardSigmoid")
    b = n.attrs.getFloat("beta");
  std::string fields = fmt::format(".op = {}, .size = {}, .a = {}, .b = {}", unaryCode(op),
                                   g.tensor(n.outputs[0]).elements(), cFloat(a), cFloat(b));
  return single("odlc_unary_params", sym, fields, "odlc_unary_backward_f32",
                args(ref, {n.inputs[0], n.inputs[1], n.outputs[0]}), kTrainFile);
}

KernelCall lowerReduceSum(const Graph &g, const Node &n, const std::string &sym,
                          const TensorRef &ref) {
  const Shape &x = shapeOf(g, n.inputs[0]);
  checkRank(n, x.size());
  std::string fields = fmt::format(".reduce = {{{}}}, .scale = {}",
                                   reduceFields(x, n.attrs.getInts("axes")),
                                   cFloat(n.attrs.getFloat("scale")));
  return single("odlc_reduce_sum_params", sym, fields, "odlc_reduce_sum_f32",
                args(ref, {n.inputs[0], n.outputs[0]}), kTrainFile);
}

KernelCall lowerPoolGrad(const Graph &g, const Node &n, const std::string &sym,
                         const TensorRef &ref) {
  bool isMax = n.op == OpKind::MaxPoolGrad;
  Shape x = isMax ? shapeOf(g, n.inputs[0]) : Shape(n.attrs.getInts("input_shape"));
  TensorId dy = isMax ? n.inputs[1] : n.inputs[0];
  std::string fields = poolFields(x, shapeOf(g, dy), n.attrs);
  if (isMax)
    return single("odlc_pool2d_params", sym, fields, "odlc_maxpool2d_backward_f32",
                  args(ref, {n.inputs[0], dy, n.outputs[0]}), kTrainFile);
  return single("odlc_pool2d_params", sym, fields, "odlc_avgpool2d_backward_f32",
                args(ref, {dy, n.outputs[0]}), kTrainFile);
}

KernelCall lowerGlobalPoolGrad(const Graph &, const Node &n, const std::string &sym,
                               const TensorRef &ref) {
  Shape x = n.attrs.getInts("input_shape");
  std::string fields = fmt::format(".nc = {}, .hw = {}", x[0] * x[1], prod(x, 2, x.size()));
  return single("odlc_global_avgpool_params", sym, fields, "odlc_global_avgpool_backward_f32",
                args(ref, {n.inputs[0], n.outputs[0]}), kTrainFile);
}

/// Zeros, then dy scattered into the sliced positions.
KernelCall lowerSliceGrad(const Graph &g, const Node &n, const std::string &sym,
                          const TensorRef &ref) {
  Shape x = n.attrs.getInts("input_shape");
  const Shape &dy = shapeOf(g, n.inputs[0]);
  checkRank(n, x.size());
  std::vector<int64_t> dense = denseStrides(x), dst;
  const auto &starts = n.attrs.getInts("starts"), &steps = n.attrs.getInts("steps");
  int64_t offset = 0;
  for (size_t d = 0; d < x.size(); ++d) {
    offset += starts[d] * dense[d];
    dst.push_back(steps[d] * dense[d]);
  }
  KernelCall call = single("odlc_copy_params", sym,
                           copyFields(dy, 0, denseStrides(dy), offset, dst), "", "",
                           "odlc_movement.c");
  call.statements = {
      fmt::format("odlc_fill_f32({}, {}, 0.0f);", ref(n.outputs[0]), numElements(x)),
      fmt::format("odlc_copy_f32(&{}, {}, {});", sym, ref(n.inputs[0]), ref(n.outputs[0]))};
  return call;
}

} // namespace

std::string dynamicChannels(int64_t layer) { return fmt::format("velocity{}_out", layer); }

bool isTrainOp(OpKind op) { return op >= OpKind::SoftmaxCrossEntropy; }

KernelCall lowerTrainKernel(const Graph &g, const Node &n, const std::string &sym,
                            const TensorRef &ref) {
  switch (n.op) {
  case OpKind::SoftmaxCrossEntropy: return lowerXent(g, n, sym, ref);
  case OpKind::ConvGradInput: return lowerConvGradInput(g, n, sym, ref);
  case OpKind::ConvUpdate: return lowerConvUpdate(g, n, sym, ref);
  case OpKind::GemmGradA: return lowerGemmGradA(g, n, sym, ref);
  case OpKind::GemmUpdate: return lowerGemmUpdate(g, n, sym, ref);
  case OpKind::UnaryGrad: return lowerUnaryGrad(g, n, sym, ref);
  case OpKind::ReduceSum: return lowerReduceSum(g, n, sym, ref);
  case OpKind::MaxPoolGrad:
  case OpKind::AvgPoolGrad: return lowerPoolGrad(g, n, sym, ref);
  case OpKind::GlobalAveragePoolGrad: return lowerGlobalPoolGrad(g, n, sym, ref);
  case OpKind::SliceGrad: return lowerSliceGrad(g, n, sym, ref);
  case OpKind::ChannelGather:
  case OpKind::ChannelScatter: return lowerChannelBlock(g, n, sym, ref);
  case OpKind::BiasUpdate: return lowerBiasUpdate(g, n, sym, ref);
  case OpKind::ConvGradInputBlock: return lowerConvGradInputBlock(g, n, sym, ref);
  case OpKind::GemmGradABlock: return lowerGemmGradABlock(g, n, sym, ref);
  default:
    internalError(fmt::format("no training kernel for {}", opName(n.op)), __FILE__, __LINE__);
  }
}

} // namespace odlc
