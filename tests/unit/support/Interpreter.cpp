#include "Interpreter.h"

#include "Diagnostics.h"
#include "ir/OpRules.h"
#include "ir/OpTable.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>

namespace odlc::test {

namespace {

using Index = std::vector<int64_t>;

/// Calls fn(index) for every index of `shape` in row-major order.
void forEachIndex(const Shape &shape, const std::function<void(const Index &)> &fn) {
  if (numElements(shape) == 0)
    return;
  Index idx(shape.size(), 0);
  while (true) {
    fn(idx);
    size_t d = shape.size();
    while (d > 0) {
      if (++idx[d - 1] < shape[d - 1])
        break;
      idx[--d] = 0;
    }
    if (d == 0)
      return;
  }
}

int64_t offsetOf(const Index &idx, const std::vector<int64_t> &strides) {
  int64_t off = 0;
  for (size_t d = 0; d < idx.size(); ++d)
    off += idx[d] * strides[d];
  return off;
}

/// Reads `value` (shape `from`) at output index `idx` of the broadcast shape.
double readBroadcast(const Buffer &value, const Shape &from, const Index &idx) {
  std::vector<int64_t> strides = denseStrides(from);
  int64_t off = 0;
  size_t lead = idx.size() - from.size();
  for (size_t d = 0; d < from.size(); ++d)
    off += (from[d] == 1 ? 0 : idx[lead + d]) * strides[d];
  return value[size_t(off)];
}

class Evaluator {
public:
  explicit Evaluator(const Graph &g) : g_(g) {}

  std::vector<Buffer> run(const std::vector<Buffer> &inputs) {
    for (size_t i = 0; i < g_.inputs.size(); ++i)
      values_[g_.inputs[i]] = inputs.at(i);
    for (const Node &n : g_.nodes)
      if (!n.dead && n.fn == 0) // inference only; training functions are checked against PyTorch
        evalNode(n);
    std::vector<Buffer> outs;
    for (TensorId o : g_.outputs)
      outs.push_back(value(o));
    return outs;
  }

private:
  const Buffer &value(TensorId id) {
    auto it = values_.find(id);
    if (it != values_.end())
      return it->second;
    const Tensor &t = g_.tensor(id);
    ODLC_ASSERT(t.isConstant(), "interpreter: '{}' has no value", t.name);
    Buffer b;
    if (t.dtype == DType::F32)
      b.assign(t.floats.begin(), t.floats.end());
    else
      for (int64_t v : t.ints)
        b.push_back(double(v));
    return values_[id] = b;
  }

  const Shape &shape(TensorId id) const { return g_.tensor(id).shape; }

  void evalNode(const Node &n) {
    const Shape &ys = shape(n.outputs[0]);
    Buffer y(size_t(numElements(ys)), 0.0);
    switch (n.op) {
    case OpKind::Conv: conv(n, y); break;
    case OpKind::Gemm: gemm(n, y); break;
    case OpKind::MatMul: matmul(n, y); break;
    case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Div: binary(n, y); break;
    case OpKind::GlobalAveragePool: globalPool(n, y); break;
    case OpKind::AveragePool: case OpKind::MaxPool: pool(n, y); break;
    case OpKind::BatchNormalization: case OpKind::ChannelAffine: channelAffine(n, y); break;
    case OpKind::Softmax: softmax(n, y); break;
    case OpKind::ReduceMean: reduceMean(n, y); break;
    case OpKind::Transpose: transpose(n, y); break;
    case OpKind::Concat: concat(n, y); break;
    case OpKind::Split: split(n); return;
    case OpKind::Slice: slice(n, y); break;
    case OpKind::Gather: gather(n, y); break;
    case OpKind::Pad: pad(n, y); break;
    case OpKind::Flatten: case OpKind::Reshape: case OpKind::Squeeze: case OpKind::Unsqueeze:
    case OpKind::View: case OpKind::Identity: case OpKind::Dropout:
      y = value(n.inputs[0]);
      break;
    default: unary(n, y); break;
    }
    values_[n.outputs[0]] = y;
  }

  void unary(const Node &n, Buffer &y) {
    const Buffer &x = value(n.inputs[0]);
    double a = n.attrs.getFloat("alpha", 0), b = n.attrs.getFloat("beta", 0);
    for (size_t i = 0; i < y.size(); ++i) {
      double v = x[i];
      switch (n.op) {
      case OpKind::Relu: y[i] = std::max(v, 0.0); break;
      case OpKind::Relu6: y[i] = std::min(std::max(v, 0.0), 6.0); break;
      case OpKind::Clip:
        y[i] = std::min(std::max(v, n.attrs.getFloat("min")), n.attrs.getFloat("max"));
        break;
      case OpKind::LeakyRelu: y[i] = v >= 0 ? v : a * v; break;
      case OpKind::Sigmoid: y[i] = 1 / (1 + std::exp(-v)); break;
      case OpKind::HardSigmoid: y[i] = std::min(1.0, std::max(0.0, a * v + b)); break;
      case OpKind::HardSwish: y[i] = v * std::min(1.0, std::max(0.0, v / 6 + 0.5)); break;
      case OpKind::Tanh: y[i] = std::tanh(v); break;
      case OpKind::Neg: y[i] = -v; break;
      case OpKind::Exp: y[i] = std::exp(v); break;
      case OpKind::Sqrt: y[i] = std::sqrt(v); break;
      case OpKind::Abs: y[i] = std::fabs(v); break;
      default: internalError("interpreter: no rule for this op", __FILE__, __LINE__);
      }
    }
  }

  void binary(const Node &n, Buffer &y) {
    const Buffer &a = value(n.inputs[0]), &b = value(n.inputs[1]);
    const Shape &as = shape(n.inputs[0]), &bs = shape(n.inputs[1]);
    size_t i = 0;
    forEachIndex(shape(n.outputs[0]), [&](const Index &idx) {
      double x = readBroadcast(a, as, idx), z = readBroadcast(b, bs, idx);
      y[i++] = n.op == OpKind::Add ? x + z : n.op == OpKind::Sub ? x - z
               : n.op == OpKind::Mul ? x * z : x / z;
    });
  }

  void conv(const Node &n, Buffer &y) {
    const Buffer &x = value(n.inputs[0]), &w = value(n.inputs[1]);
    const Shape &xs = shape(n.inputs[0]), &ws = shape(n.inputs[1]), &ys = shape(n.outputs[0]);
    const auto &s = n.attrs.getInts("strides"), &d = n.attrs.getInts("dilations");
    const auto &p = n.attrs.getInts("pads");
    int64_t group = n.attrs.getInt("group"), cpg = ws[1], mpg = ys[1] / group;
    const Buffer *b = n.input(2) == kNoTensor ? nullptr : &value(n.inputs[2]);
    size_t i = 0;
    forEachIndex(ys, [&](const Index &o) {
      double acc = b ? (*b)[size_t(o[1])] : 0.0;
      int64_t g = o[1] / mpg;
      for (int64_t ci = 0; ci < cpg; ++ci)
        for (int64_t kh = 0; kh < ws[2]; ++kh)
          for (int64_t kw = 0; kw < ws[3]; ++kw) {
            int64_t ih = o[2] * s[0] - p[0] + kh * d[0], iw = o[3] * s[1] - p[1] + kw * d[1];
            if (ih < 0 || ih >= xs[2] || iw < 0 || iw >= xs[3])
              continue;
            acc += x[size_t(((o[0] * xs[1] + g * cpg + ci) * xs[2] + ih) * xs[3] + iw)] *
                   w[size_t(((o[1] * cpg + ci) * ws[2] + kh) * ws[3] + kw)];
          }
      y[i++] = acc;
    });
  }

  void gemm(const Node &n, Buffer &y) {
    const Buffer &a = value(n.inputs[0]), &b = value(n.inputs[1]);
    const Shape &as = shape(n.inputs[0]), &bs = shape(n.inputs[1]), &ys = shape(n.outputs[0]);
    bool ta = n.attrs.getInt("transA"), tb = n.attrs.getInt("transB");
    double alpha = n.attrs.getFloat("alpha"), beta = n.attrs.getFloat("beta");
    int64_t k = ta ? as[0] : as[1];
    size_t i = 0;
    forEachIndex(ys, [&](const Index &o) {
      double acc = 0;
      for (int64_t j = 0; j < k; ++j)
        acc += a[size_t(ta ? j * as[1] + o[0] : o[0] * as[1] + j)] *
               b[size_t(tb ? o[1] * bs[1] + j : j * bs[1] + o[1])];
      double c = n.input(2) == kNoTensor ? 0.0
                                         : readBroadcast(value(n.inputs[2]), shape(n.inputs[2]), o);
      y[i++] = alpha * acc + beta * c;
    });
  }

  void matmul(const Node &n, Buffer &y) {
    Shape as = shape(n.inputs[0]), bs = shape(n.inputs[1]);
    bool vecA = as.size() == 1, vecB = bs.size() == 1;
    if (vecA)
      as.insert(as.begin(), 1);
    if (vecB)
      bs.push_back(1);
    const Buffer &a = value(n.inputs[0]), &b = value(n.inputs[1]);
    Shape batchA(as.begin(), as.end() - 2), batchB(bs.begin(), bs.end() - 2);
    Shape batch = broadcastShapes(batchA, batchB, "interpreter");
    int64_t m = as[as.size() - 2], k = as.back(), nn = bs.back();
    size_t i = 0;
    forEachIndex(batch, [&](const Index &bi) {
      int64_t offA = 0, offB = 0;
      {
        std::vector<int64_t> sa = denseStrides(batchA), sb = denseStrides(batchB);
        for (size_t d = 0; d < batchA.size(); ++d)
          offA += (batchA[d] == 1 ? 0 : bi[batch.size() - batchA.size() + d]) * sa[d];
        for (size_t d = 0; d < batchB.size(); ++d)
          offB += (batchB[d] == 1 ? 0 : bi[batch.size() - batchB.size() + d]) * sb[d];
      }
      for (int64_t r = 0; r < m; ++r)
        for (int64_t c = 0; c < nn; ++c) {
          double acc = 0;
          for (int64_t j = 0; j < k; ++j)
            acc += a[size_t(offA * m * k + r * k + j)] * b[size_t(offB * k * nn + j * nn + c)];
          y[i++] = acc;
        }
    });
  }

  void globalPool(const Node &n, Buffer &y) {
    const Buffer &x = value(n.inputs[0]);
    const Shape &xs = shape(n.inputs[0]);
    int64_t hw = numElements(Shape(xs.begin() + 2, xs.end()));
    for (size_t i = 0; i < y.size(); ++i) {
      double acc = 0;
      for (int64_t j = 0; j < hw; ++j)
        acc += x[i * size_t(hw) + size_t(j)];
      y[i] = acc / double(hw);
    }
  }

  void pool(const Node &n, Buffer &y) {
    const Buffer &x = value(n.inputs[0]);
    const Shape &xs = shape(n.inputs[0]), &ys = shape(n.outputs[0]);
    const auto &k = n.attrs.getInts("kernel_shape"), &s = n.attrs.getInts("strides");
    const auto &p = n.attrs.getInts("pads");
    auto d = n.attrs.getInts("dilations", {1, 1});
    bool isMax = n.op == OpKind::MaxPool, includePad = n.attrs.getInt("count_include_pad", 0);
    size_t i = 0;
    forEachIndex(ys, [&](const Index &o) {
      double acc = isMax ? -std::numeric_limits<double>::infinity() : 0.0;
      int64_t count = 0, padded = 0;
      for (int64_t kh = 0; kh < k[0]; ++kh)
        for (int64_t kw = 0; kw < k[1]; ++kw) {
          int64_t ih = o[2] * s[0] - p[0] + kh * d[0], iw = o[3] * s[1] - p[1] + kw * d[1];
          bool inPadded = ih >= -p[0] && ih < xs[2] + p[2] && iw >= -p[1] && iw < xs[3] + p[3];
          padded += inPadded;
          if (ih < 0 || ih >= xs[2] || iw < 0 || iw >= xs[3])
            continue;
          double v = x[size_t(((o[0] * xs[1] + o[1]) * xs[2] + ih) * xs[3] + iw)];
          acc = isMax ? std::max(acc, v) : acc + v;
          ++count;
        }
      y[i++] = isMax ? acc : acc / double(includePad ? padded : count);
    });
  }

  void channelAffine(const Node &n, Buffer &y) {
    const Buffer &x = value(n.inputs[0]);
    const Shape &xs = shape(n.inputs[0]);
    int64_t inner = numElements(Shape(xs.begin() + 2, xs.end()));
    bool bn = n.op == OpKind::BatchNormalization;
    double eps = bn ? n.attrs.getFloat("epsilon") : 0;
    for (size_t i = 0; i < y.size(); ++i) {
      size_t c = (i / size_t(inner)) % size_t(xs[1]);
      if (!bn) {
        y[i] = x[i] * value(n.inputs[1])[c] + value(n.inputs[2])[c];
        continue;
      }
      double scale = value(n.inputs[1])[c] / std::sqrt(value(n.inputs[4])[c] + eps);
      y[i] = (x[i] - value(n.inputs[3])[c]) * scale + value(n.inputs[2])[c];
    }
  }

  void softmax(const Node &n, Buffer &y) {
    const Buffer &x = value(n.inputs[0]);
    const Shape &xs = shape(n.inputs[0]);
    size_t axis = size_t(n.attrs.getInt("axis"));
    int64_t len = xs[axis], inner = numElements(Shape(xs.begin() + int64_t(axis) + 1, xs.end()));
    int64_t outer = numElements(xs) / (len * inner);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t in = 0; in < inner; ++in) {
        auto at = [&](int64_t j) { return size_t((o * len + j) * inner + in); };
        double mx = -std::numeric_limits<double>::infinity(), sum = 0;
        for (int64_t j = 0; j < len; ++j)
          mx = std::max(mx, x[at(j)]);
        for (int64_t j = 0; j < len; ++j)
          sum += std::exp(x[at(j)] - mx);
        for (int64_t j = 0; j < len; ++j)
          y[at(j)] = std::exp(x[at(j)] - mx) / sum;
      }
  }

  void reduceMean(const Node &n, Buffer &y) {
    const Buffer &x = value(n.inputs[0]);
    const Shape &xs = shape(n.inputs[0]);
    const auto &axes = n.attrs.getInts("axes");
    Shape kept = xs;
    for (int64_t a : axes)
      kept[size_t(a)] = 1;
    std::vector<double> sum(size_t(numElements(kept)), 0.0);
    std::vector<int64_t> keptStrides = denseStrides(kept);
    size_t i = 0;
    forEachIndex(xs, [&](const Index &idx) {
      Index k = idx;
      for (int64_t a : axes)
        k[size_t(a)] = 0;
      sum[size_t(offsetOf(k, keptStrides))] += x[i++];
    });
    double count = double(numElements(xs)) / double(sum.size());
    for (size_t j = 0; j < y.size(); ++j)
      y[j] = sum[j] / count;
  }

  void transpose(const Node &n, Buffer &y) {
    const Buffer &x = value(n.inputs[0]);
    std::vector<int64_t> strides = denseStrides(shape(n.inputs[0])), perm = n.attrs.getInts("perm");
    size_t i = 0;
    forEachIndex(shape(n.outputs[0]), [&](const Index &o) {
      int64_t off = 0;
      for (size_t d = 0; d < o.size(); ++d)
        off += o[d] * strides[size_t(perm[d])];
      y[i++] = x[size_t(off)];
    });
  }

  void concat(const Node &n, Buffer &y) {
    size_t axis = size_t(n.attrs.getInt("axis"));
    std::vector<int64_t> ys = denseStrides(shape(n.outputs[0]));
    int64_t start = 0;
    for (TensorId in : n.inputs) {
      const Buffer &x = value(in);
      size_t i = 0;
      forEachIndex(shape(in), [&](const Index &idx) {
        Index o = idx;
        o[axis] += start;
        y[size_t(offsetOf(o, ys))] = x[i++];
      });
      start += shape(in)[axis];
    }
  }

  void split(const Node &n) {
    const Buffer &x = value(n.inputs[0]);
    size_t axis = size_t(n.attrs.getInt("axis"));
    std::vector<int64_t> xs = denseStrides(shape(n.inputs[0]));
    int64_t start = 0;
    for (TensorId out : n.outputs) {
      Buffer y(size_t(numElements(shape(out))));
      size_t i = 0;
      forEachIndex(shape(out), [&](const Index &idx) {
        Index s = idx;
        s[axis] += start;
        y[i++] = x[size_t(offsetOf(s, xs))];
      });
      start += shape(out)[axis];
      values_[out] = y;
    }
  }

  void slice(const Node &n, Buffer &y) {
    const Buffer &x = value(n.inputs[0]);
    std::vector<int64_t> xs = denseStrides(shape(n.inputs[0]));
    const auto &starts = n.attrs.getInts("starts"), &steps = n.attrs.getInts("steps");
    size_t i = 0;
    forEachIndex(shape(n.outputs[0]), [&](const Index &o) {
      int64_t off = 0;
      for (size_t d = 0; d < o.size(); ++d)
        off += (starts[d] + o[d] * steps[d]) * xs[d];
      y[i++] = x[size_t(off)];
    });
  }

  void gather(const Node &n, Buffer &y) {
    const Buffer &x = value(n.inputs[0]);
    const Shape &xs = shape(n.inputs[0]);
    size_t axis = size_t(n.attrs.getInt("axis"));
    const auto &indices = n.attrs.getInts("indices");
    int64_t inner = numElements(Shape(xs.begin() + int64_t(axis) + 1, xs.end()));
    int64_t outer = numElements(Shape(xs.begin(), xs.begin() + int64_t(axis)));
    size_t i = 0;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t idx : indices)
        for (int64_t in = 0; in < inner; ++in)
          y[i++] = x[size_t((o * xs[axis] + idx) * inner + in)];
  }

  void pad(const Node &n, Buffer &y) {
    const Buffer &x = value(n.inputs[0]);
    const Shape &xs = shape(n.inputs[0]);
    const auto &pads = n.attrs.getInts("pads");
    const std::string &mode = n.attrs.getString("mode");
    std::vector<int64_t> strides = denseStrides(xs);
    size_t i = 0;
    forEachIndex(shape(n.outputs[0]), [&](const Index &o) {
      int64_t off = 0;
      for (size_t d = 0; d < o.size(); ++d) {
        int64_t v = o[d] - pads[d], dim = xs[d];
        if (v < 0 || v >= dim) {
          if (mode == "constant") {
            off = -1;
            break;
          }
          if (mode == "edge")
            v = std::min(std::max(v, int64_t(0)), dim - 1);
          while (mode == "reflect" && (v < 0 || v >= dim))
            v = v < 0 ? -v : 2 * (dim - 1) - v;
        }
        off += v * strides[d];
      }
      y[i++] = off < 0 ? n.attrs.getFloat("value") : x[size_t(off)];
    });
  }

  const Graph &g_;
  std::map<TensorId, Buffer> values_;
};

} // namespace

std::vector<Buffer> interpret(const Graph &graph, const std::vector<Buffer> &inputs) {
  return Evaluator(graph).run(inputs);
}

Buffer randomBuffer(size_t count, uint32_t seed) {
  Buffer b(count);
  uint32_t state = seed * 2654435761u + 1;
  for (double &v : b) {
    state = state * 1664525u + 1013904223u;
    v = double(state >> 8) / double(1u << 24) * 2.0 - 1.0;
  }
  return b;
}

double relativeError(const Buffer &a, const Buffer &b) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    diff = std::max(diff, std::fabs(a[i] - b[i]));
    scale = std::max(scale, std::fabs(b[i]));
  }
  if (a.size() != b.size())
    return std::numeric_limits<double>::infinity();
  return scale > 0 ? diff / scale : diff;
}

double equivalenceError(const Graph &before, const Graph &after, uint32_t seed) {
  std::vector<Buffer> inputs;
  for (size_t i = 0; i < before.inputs.size(); ++i)
    inputs.push_back(randomBuffer(size_t(before.tensor(before.inputs[i]).elements()), seed + uint32_t(i)));
  std::vector<Buffer> a = interpret(before, inputs), b = interpret(after, inputs);
  double worst = a.size() == b.size() ? 0.0 : std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    worst = std::max(worst, relativeError(b[i], a[i]));
  return worst;
}

} // namespace odlc::test
