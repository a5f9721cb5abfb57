#include "targets/KernelCalls.h"

#include "targets/KernelFields.h"
#include "targets/TrainKernelCalls.h"

#include "Diagnostics.h"
#include "ir/OpRules.h"
#include "ir/OpTable.h"

#include <fmt/format.h>

#include <cmath>

namespace odlc {

namespace {

KernelCall lowerConv(const Graph &g, const Node &n, const std::string &sym, const TensorRef &ref) {
  std::string fields = convFields(shapeOf(g, n.inputs[0]), shapeOf(g, n.inputs[1]),
                                  shapeOf(g, n.outputs[0]), n.attrs);
  return single("odlc_conv2d_params", sym, fields, "odlc_conv2d_f32",
                args(ref, {n.inputs[0], n.inputs[1], n.input(2), n.outputs[0]}), "odlc_conv.c");
}

KernelCall lowerPool(const Graph &g, const Node &n, const std::string &sym, const TensorRef &ref) {
  std::string fields = poolFields(shapeOf(g, n.inputs[0]), shapeOf(g, n.outputs[0]), n.attrs);
  bool isMax = n.op == OpKind::MaxPool;
  return single("odlc_pool2d_params", sym, fields,
                isMax ? "odlc_maxpool2d_f32" : "odlc_avgpool2d_f32",
                args(ref, {n.inputs[0], n.outputs[0]}), "odlc_pool.c");
}

KernelCall lowerGlobalPool(const Graph &g, const Node &n, const std::string &sym,
                           const TensorRef &ref) {
  const Shape &x = shapeOf(g, n.inputs[0]);
  std::string fields = fmt::format(".nc = {}, .hw = {}", x[0] * x[1], prod(x, 2, x.size()));
  return single("odlc_global_avgpool_params", sym, fields, "odlc_global_avgpool_f32",
                args(ref, {n.inputs[0], n.outputs[0]}), "odlc_pool.c");
}

KernelCall lowerUnary(const Graph &g, const Node &n, const std::string &sym, const TensorRef &ref) {
  const char *op = "ODLC_UNARY_RELU";
  double a = 0, b = 0;
  switch (n.op) {
  case OpKind::Relu: break;
  case OpKind::Relu6: op = "ODLC_UNARY_CLIP"; b = 6; break;
  case OpKind::Clip: op = "ODLC_UNARY_CLIP"; a = n.attrs.getFloat("min"); b = n.attrs.getFloat("max"); break;
  case OpKind::LeakyRelu: op = "ODLC_UNARY_LEAKY_RELU"; a = n.attrs.getFloat("alpha"); break;
  case OpKind::Sigmoid: op = "ODLC_UNARY_SIGMOID"; break;
  case OpKind::HardSigmoid: op = "ODLC_UNARY_HARD_SIGMOID"; a = n.attrs.getFloat("alpha"); b = n.attrs.getFloat("beta"); break;
  case OpKind::HardSwish: op = "ODLC_UNARY_HARD_SWISH"; break;
  case OpKind::Tanh: op = "ODLC_UNARY_TANH"; break;
  case OpKind::Neg: op = "ODLC_UNARY_NEG"; break;
  case OpKind::Exp: op = "ODLC_UNARY_EXP"; break;
  case OpKind::Sqrt: op = "ODLC_UNARY_SQRT"; break;
  default: op = "ODLC_UNARY_ABS"; break;
  }
  std::string fields = fmt::format(".op = {}, .size = {}, .a = {}, .b = {}", op,
                                   g.tensor(n.outputs[0]).elements(), cFloat(a), cFloat(b));
  return single("odlc_unary_params", sym, fields, "odlc_unary_f32",
                args(ref, {n.inputs[0], n.outputs[0]}), "odlc_elementwise.c");
}

KernelCall lowerBinary(const Graph &g, const Node &n, const std::string &sym,
                       const TensorRef &ref) {
  const Shape &y = shapeOf(g, n.outputs[0]);
  checkRank(n, y.size());
  static const char *ops[] = {"ODLC_BINARY_ADD", "ODLC_BINARY_SUB", "ODLC_BINARY_MUL",
                              "ODLC_BINARY_DIV"};
  size_t op = size_t(n.op) - size_t(OpKind::Add);
  std::string fields = fmt::format(
      ".op = {}, .rank = {}, .shape = {}, .a_stride = {}, .b_stride = {}", ops[op], y.size(),
      list(y), list(broadcastStrides(shapeOf(g, n.inputs[0]), y)),
      list(broadcastStrides(shapeOf(g, n.inputs[1]), y)));
  return single("odlc_binary_params", sym, fields, "odlc_binary_f32",
                args(ref, {n.inputs[0], n.inputs[1], n.outputs[0]}), "odlc_elementwise.c");
}

KernelCall lowerChannelAffine(const Graph &g, const Node &n, const std::string &sym,
                              const TensorRef &ref) {
  const Shape &x = shapeOf(g, n.inputs[0]);
  std::string fields =
      fmt::format(".n = {}, .c = {}, .inner = {}", x[0], x[1], prod(x, 2, x.size()));
  return single("odlc_channel_affine_params", sym, fields, "odlc_channel_affine_f32",
                args(ref, {n.inputs[0], n.inputs[1], n.inputs[2], n.outputs[0]}),
                "odlc_elementwise.c");
}

KernelCall lowerGemm(const Graph &g, const Node &n, const std::string &sym, const TensorRef &ref) {
  Shape c = n.input(2) == kNoTensor ? Shape{} : shapeOf(g, n.input(2));
  std::string fields = gemmFields(shapeOf(g, n.inputs[0]), shapeOf(g, n.outputs[0]),
                                  n.input(2) != kNoTensor, c, n.attrs);
  return single("odlc_gemm_params", sym, fields, "odlc_gemm_f32",
                args(ref, {n.inputs[0], n.inputs[1], n.input(2), n.outputs[0]}),
                "odlc_linalg.c");
}

KernelCall lowerMatMul(const Graph &g, const Node &n, const std::string &sym,
                       const TensorRef &ref) {
  Shape a = shapeOf(g, n.inputs[0]), b = shapeOf(g, n.inputs[1]);
  if (a.size() == 1)
    a.insert(a.begin(), 1);
  if (b.size() == 1)
    b.push_back(1);
  int64_t m = a[a.size() - 2], k = a.back(), nn = b.back();
  Shape batchA(a.begin(), a.end() - 2), batchB(b.begin(), b.end() - 2);
  Shape batch = broadcastShapes(batchA, batchB, n.name);
  checkRank(n, batch.size());
  // Strides per batch index, in elements of the whole operand.
  auto batchStrides = [&](const Shape &op, int64_t matrix) {
    std::vector<int64_t> s = broadcastStrides(op, batch);
    for (int64_t &v : s)
      v *= matrix;
    return s;
  };
  std::string fields = fmt::format(
      ".m = {}, .n = {}, .k = {}, .batch_rank = {}, .batch_shape = {}, .a_stride = {}, "
      ".b_stride = {}",
      m, nn, k, batch.size(), list(batch), list(batchStrides(batchA, m * k)),
      list(batchStrides(batchB, k * nn)));
  return single("odlc_matmul_params", sym, fields, "odlc_matmul_f32",
                args(ref, {n.inputs[0], n.inputs[1], n.outputs[0]}), "odlc_linalg.c");
}

KernelCall lowerSoftmax(const Graph &g, const Node &n, const std::string &sym,
                        const TensorRef &ref) {
  const Shape &x = shapeOf(g, n.inputs[0]);
  size_t axis = size_t(n.attrs.getInt("axis"));
  std::string fields = fmt::format(".outer = {}, .axis = {}, .inner = {}", prod(x, 0, axis),
                                   x[axis], prod(x, axis + 1, x.size()));
  return single("odlc_softmax_params", sym, fields, "odlc_softmax_f32",
                args(ref, {n.inputs[0], n.outputs[0]}), "odlc_reduce.c");
}

KernelCall lowerReduceMean(const Graph &g, const Node &n, const std::string &sym,
                           const TensorRef &ref) {
  const Shape &x = shapeOf(g, n.inputs[0]);
  checkRank(n, x.size());
  return single("odlc_reduce_params", sym, reduceFields(x, n.attrs.getInts("axes")),
                "odlc_reduce_mean_f32", args(ref, {n.inputs[0], n.outputs[0]}), "odlc_reduce.c");
}

KernelCall lowerCopy(const Shape &shape, int64_t srcOffset, const std::vector<int64_t> &src,
                     const std::string &sym, const std::string &from, const std::string &to) {
  return single("odlc_copy_params", sym, copyFields(shape, srcOffset, src, 0, denseStrides(shape)),
                "odlc_copy_f32", from + ", " + to, "odlc_movement.c");
}

KernelCall lowerTranspose(const Graph &g, const Node &n, const std::string &sym,
                          const TensorRef &ref) {
  const Shape &x = shapeOf(g, n.inputs[0]), &y = shapeOf(g, n.outputs[0]);
  checkRank(n, x.size());
  std::vector<int64_t> dense = denseStrides(x), src;
  for (int64_t p : n.attrs.getInts("perm"))
    src.push_back(dense[size_t(p)]);
  return lowerCopy(y, 0, src, sym, ref(n.inputs[0]), ref(n.outputs[0]));
}

KernelCall lowerSlice(const Graph &g, const Node &n, const std::string &sym,
                      const TensorRef &ref) {
  const Shape &x = shapeOf(g, n.inputs[0]), &y = shapeOf(g, n.outputs[0]);
  checkRank(n, x.size());
  std::vector<int64_t> dense = denseStrides(x), src;
  const auto &starts = n.attrs.getInts("starts"), &steps = n.attrs.getInts("steps");
  int64_t offset = 0;
  for (size_t d = 0; d < x.size(); ++d) {
    offset += starts[d] * dense[d];
    src.push_back(steps[d] * dense[d]);
  }
  return lowerCopy(y, offset, src, sym, ref(n.inputs[0]), ref(n.outputs[0]));
}

/// Concat and Split: one strided copy per part, between a part and its slot in the whole.
KernelCall lowerParts(const Graph &g, const Node &n, const std::string &sym,
                      const TensorRef &ref) {
  bool isConcat = n.op == OpKind::Concat;
  TensorId whole = isConcat ? n.outputs[0] : n.inputs[0];
  const std::vector<TensorId> &parts = isConcat ? n.inputs : n.outputs;
  const Shape &ws = shapeOf(g, whole);
  checkRank(n, ws.size());
  size_t axis = size_t(n.attrs.getInt("axis"));
  std::vector<int64_t> wholeStrides = denseStrides(ws);
  KernelCall call;
  call.runtimeFile = "odlc_movement.c";
  int64_t start = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Shape &ps = shapeOf(g, parts[i]);
    std::string partSym = fmt::format("{}_{}", sym, i);
    int64_t offset = start * wholeStrides[axis];
    std::string fields =
        isConcat ? copyFields(ps, 0, denseStrides(ps), offset, wholeStrides)
                 : copyFields(ps, offset, wholeStrides, 0, denseStrides(ps));
    call.declarations.push_back(
        fmt::format("static const odlc_copy_params {} = {{{}}};", partSym, fields));
    std::string from = ref(isConcat ? parts[i] : whole), to = ref(isConcat ? whole : parts[i]);
    call.statements.push_back(fmt::format("odlc_copy_f32(&{}, {}, {});", partSym, from, to));
    start += ps[axis];
  }
  return call;
}

KernelCall lowerGather(const Graph &g, const Node &n, const std::string &sym,
                       const TensorRef &ref) {
  const Shape &x = shapeOf(g, n.inputs[0]);
  size_t axis = size_t(n.attrs.getInt("axis"));
  const auto &indices = n.attrs.getInts("indices");
  KernelCall call = single(
      "odlc_gather_params", sym,
      fmt::format(".outer = {}, .axis = {}, .inner = {}, .count = {}, .index = {}_index",
                  prod(x, 0, axis), x[axis], prod(x, axis + 1, x.size()), indices.size(), sym),
      "odlc_gather_f32", args(ref, {n.inputs[0], n.outputs[0]}), "odlc_movement.c");
  call.declarations.insert(call.declarations.begin(),
                           fmt::format("static const int32_t {}_index[{}] = {};", sym,
                                       indices.size(), list(indices)));
  return call;
}

KernelCall lowerPad(const Graph &g, const Node &n, const std::string &sym, const TensorRef &ref) {
  const Shape &x = shapeOf(g, n.inputs[0]), &y = shapeOf(g, n.outputs[0]);
  checkRank(n, x.size());
  const std::string &mode = n.attrs.getString("mode");
  const auto &pads = n.attrs.getInts("pads");
  std::vector<int64_t> begin(pads.begin(), pads.begin() + int64_t(x.size()));
  std::string fields = fmt::format(
      ".mode = {}, .rank = {}, .in_shape = {}, .out_shape = {}, .begin = {}, .value = {}",
      mode == "reflect" ? "ODLC_PAD_REFLECT" : mode == "edge" ? "ODLC_PAD_EDGE" : "ODLC_PAD_CONSTANT",
      x.size(), list(x), list(y), list(begin), cFloat(n.attrs.getFloat("value")));
  return single("odlc_pad_params", sym, fields, "odlc_pad_f32",
                args(ref, {n.inputs[0], n.outputs[0]}), "odlc_movement.c");
}

} // namespace

std::string cFloat(double value) {
  float f = float(value);
  if (std::isnan(f))
    return "NAN";
  if (std::isinf(f))
    return f > 0 ? "INFINITY" : "-INFINITY";
  std::string text = fmt::format("{:.9g}", f);
  if (text.find_first_of(".e") == std::string::npos)
    text += ".0";
  return text + "f";
}

KernelCall lowerToKernel(const Graph &g, const Node &n, const std::string &sym,
                         const TensorRef &ref) {
  switch (n.op) {
  case OpKind::Conv: return lowerConv(g, n, sym, ref);
  case OpKind::MaxPool:
  case OpKind::AveragePool: return lowerPool(g, n, sym, ref);
  case OpKind::GlobalAveragePool: return lowerGlobalPool(g, n, sym, ref);
  case OpKind::Relu: case OpKind::Relu6: case OpKind::Clip: case OpKind::LeakyRelu:
  case OpKind::Sigmoid: case OpKind::HardSigmoid: case OpKind::HardSwish: case OpKind::Tanh:
  case OpKind::Neg: case OpKind::Exp: case OpKind::Sqrt: case OpKind::Abs:
    return lowerUnary(g, n, sym, ref);
  case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Div:
    return lowerBinary(g, n, sym, ref);
  case OpKind::ChannelAffine: return lowerChannelAffine(g, n, sym, ref);
  case OpKind::Gemm: return lowerGemm(g, n, sym, ref);
  case OpKind::MatMul: return lowerMatMul(g, n, sym, ref);
  case OpKind::Softmax: return lowerSoftmax(g, n, sym, ref);
  case OpKind::ReduceMean: return lowerReduceMean(g, n, sym, ref);
  case OpKind::Transpose: return lowerTranspose(g, n, sym, ref);
  case OpKind::Slice: return lowerSlice(g, n, sym, ref);
  case OpKind::Concat:
  case OpKind::Split: return lowerParts(g, n, sym, ref);
  case OpKind::Gather: return lowerGather(g, n, sym, ref);
  case OpKind::Pad: return lowerPad(g, n, sym, ref);
  case OpKind::View: return {};
  default:
    if (isTrainOp(n.op))
      return lowerTrainKernel(g, n, sym, ref);
    internalError(fmt::format("node '{}': op {} reached the emitter; canonicalization should "
                              "have replaced it",
                              n.name, opName(n.op)),
                  __FILE__, __LINE__);
  }
}

} // namespace odlc
