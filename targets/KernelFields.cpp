#include "targets/KernelFields.h"

#include "Diagnostics.h"
#include "ir/OpRules.h"
#include "ir/OpTable.h"

#include <fmt/format.h>

#include <algorithm>

namespace odlc {

const Shape &shapeOf(const Graph &g, TensorId id) { return g.tensor(id).shape; }

int64_t prod(const Shape &s, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to && i < s.size(); ++i)
    p *= s[i];
  return p;
}

std::string list(const std::vector<int64_t> &values) {
  if (values.empty())
    return "{0}";
  std::string text = "{";
  for (size_t i = 0; i < values.size(); ++i)
    text += (i ? ", " : "") + std::to_string(values[i]);
  return text + "}";
}

void checkRank(const Node &n, size_t rank) {
  if (rank > kMaxRank)
    unsupported("node '{}' ({}): tensors of rank {} are not supported (at most {})", n.name,
                opName(n.op), rank, kMaxRank);
}

KernelCall single(const std::string &type, const std::string &symbol, const std::string &fields,
                  const std::string &fn, const std::string &args, const char *file) {
  KernelCall call;
  call.declarations.push_back(fmt::format("static const {} {} = {{{}}};", type, symbol, fields));
  call.statements.push_back(fmt::format("{}(&{}, {});", fn, symbol, args));
  call.runtimeFile = file;
  return call;
}

std::string args(const TensorRef &ref, const std::vector<TensorId> &ids) {
  std::string text;
  for (TensorId id : ids)
    text += (text.empty() ? "" : ", ") + (id == kNoTensor ? std::string("NULL") : ref(id));
  return text;
}

std::vector<int64_t> broadcastStrides(const Shape &from, const Shape &to) {
  std::vector<int64_t> dense = denseStrides(from), strides(to.size(), 0);
  size_t lead = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    strides[lead + i] = from[i] == 1 ? 0 : dense[i];
  return strides;
}

std::string convFields(const Shape &x, const Shape &w, const Shape &y, const AttrMap &attrs) {
  const auto &s = attrs.getInts("strides"), &d = attrs.getInts("dilations");
  const auto &p = attrs.getInts("pads");
  return fmt::format(
      ".n = {}, .c = {}, .h = {}, .w = {}, .m = {}, .oh = {}, .ow = {}, .kh = {}, .kw = {}, "
      ".sh = {}, .sw = {}, .dh = {}, .dw = {}, .pad_top = {}, .pad_left = {}, .group = {}",
      x[0], x[1], x[2], x[3], y[1], y[2], y[3], w[2], w[3], s[0], s[1], d[0], d[1], p[0], p[1],
      attrs.getInt("group"));
}

std::string poolFields(const Shape &x, const Shape &y, const AttrMap &attrs) {
  const auto &k = attrs.getInts("kernel_shape"), &s = attrs.getInts("strides");
  const auto &p = attrs.getInts("pads");
  auto d = attrs.getInts("dilations", {1, 1});
  return fmt::format(
      ".n = {}, .c = {}, .h = {}, .w = {}, .oh = {}, .ow = {}, .kh = {}, .kw = {}, .sh = {}, "
      ".sw = {}, .dh = {}, .dw = {}, .pad_top = {}, .pad_left = {}, .pad_bottom = {}, "
      ".pad_right = {}, .count_include_pad = {}",
      x[0], x[1], x[2], x[3], y[2], y[3], k[0], k[1], s[0], s[1], d[0], d[1], p[0], p[1], p[2],
      p[3], attrs.getInt("count_include_pad", 0));
}

std::string gemmFields(const Shape &a, const Shape &y, bool hasC, const Shape &c,
                       const AttrMap &attrs) {
  bool ta = attrs.getInt("transA") != 0;
  int64_t csm = 0, csn = 0;
  if (hasC) {
    std::vector<int64_t> cs = broadcastStrides(c, y);
    csm = cs[0];
    csn = cs[1];
  }
  return fmt::format(
      ".m = {}, .n = {}, .k = {}, .trans_a = {}, .trans_b = {}, .alpha = {}, .beta = {}, "
      ".c_stride_m = {}, .c_stride_n = {}",
      y[0], y[1], ta ? a[0] : a[1], ta ? 1 : 0, attrs.getInt("transB") ? 1 : 0,
      cFloat(attrs.getFloat("alpha")), cFloat(attrs.getFloat("beta")), csm, csn);
}

std::string reduceFields(const Shape &x, const std::vector<int64_t> &axes) {
  std::vector<int64_t> dense = denseStrides(x), outShape, outStride, redShape, redStride;
  for (size_t d = 0; d < x.size(); ++d) {
    bool reduced = std::find(axes.begin(), axes.end(), int64_t(d)) != axes.end();
    (reduced ? redShape : outShape).push_back(x[d]);
    (reduced ? redStride : outStride).push_back(dense[d]);
  }
  return fmt::format(".rank = {}, .out_shape = {}, .out_stride = {}, .red_rank = {}, "
                     ".red_shape = {}, .red_stride = {}",
                     outShape.size(), list(outShape), list(outStride), redShape.size(),
                     list(redShape), list(redStride));
}

std::string copyFields(const Shape &shape, int64_t srcOffset, const std::vector<int64_t> &src,
                       int64_t dstOffset, const std::vector<int64_t> &dst) {
  return fmt::format(".rank = {}, .shape = {}, .src_offset = {}, .src_stride = {}, "
                     ".dst_offset = {}, .dst_stride = {}",
                     shape.size(), list(shape), srcOffset, list(src), dstOffset, list(dst));
}

} // namespace odlc
