/// \file What a gradient rule (OpInfo::gradient) may do: read the forward graph, ask for the
/// gradient flowing into a forward tensor, emit backward nodes and contribute gradients. The
/// autodiff pass implements it; the rules (OpGradients.cpp) know nothing of the pass.
#pragma once

#include "ir/Graph.h"

#include <string>
#include <vector>

namespace odlc {

/// How a kept channel set is looked up: by its list, or, when a node's channels are velocity
/// layer k's run-time set (attribute sparse.dynamic), by {-1 - k}: its contents change.
inline std::vector<int64_t> channelSetKey(const AttrMap &attrs,
                                          const std::vector<int64_t> &channels) {
  if (attrs.has("sparse.dynamic"))
    return {-1 - attrs.getInt("sparse.dynamic")};
  return channels;
}

class GradBuilder {
public:
  virtual ~GradBuilder() = default;
  virtual const Graph &graph() const = 0;
  /// dL/dt accumulated so far (complete once every reader of t was visited), or kNoTensor.
  virtual TensorId gradOf(TensorId t) = 0;
  /// Whether anything needs dL/dt (t lies downstream of a trainable weight).
  virtual bool needsGrad(TensorId t) const = 0;
  virtual bool isTrainable(TensorId weight) const = 0;
  /// Appends a backward node with one result (shape from the op's rule), named after `base`.
  virtual TensorId emit(OpKind op, std::vector<TensorId> inputs, AttrMap attrs,
                        const std::string &base) = 0;
  /// Appends a backward node with several results (shapes from the op's rule): the first a
  /// gradient named after bases[0], the others kernel scratch named after the other bases.
  virtual std::vector<TensorId> emitResults(OpKind op, std::vector<TensorId> inputs,
                                            AttrMap attrs,
                                            const std::vector<std::string> &bases) = 0;
  /// Appends a node without results (a fused weight update).
  virtual void emitUpdate(OpKind op, std::vector<TensorId> inputs, AttrMap attrs,
                          const std::string &base) = 0;
  /// Adds g to dL/dt.
  virtual void addGrad(TensorId t, TensorId g) = 0;
  /// What a layer's weight gradient reads of its input: the channels the forward kept for a
  /// sparse update (sparse.in_channels), else input 0 itself.
  virtual TensorId keptInput(const Node &layer) const = 0;
  /// The forward's copy of the channel set `key` of t (channelSetKey), kept for a sparse update,
  /// or kNoTensor.
  virtual TensorId keptChannels(TensorId t, const std::vector<int64_t> &key) const = 0;
  /// Momentum buffer of a trainable tensor, or kNoTensor when training without momentum.
  virtual TensorId velocity(TensorId weight) = 0;
  /// `lr` and `momentum` attributes for update nodes.
  virtual AttrMap sgdAttrs() const = 0;
  /// A new constant (e.g. zeros).
  virtual TensorId constant(const std::string &name, Shape shape, std::vector<float> values) = 0;
  /// Diagnoses an op the tail cannot differentiate.
  [[noreturn]] virtual void notDifferentiable(const Node &node, const std::string &why) = 0;
};

namespace grads {
void conv(GradBuilder &, const Node &);
void gemm(GradBuilder &, const Node &);
void matMul(GradBuilder &, const Node &);
void unary(GradBuilder &, const Node &);
void binary(GradBuilder &, const Node &);
void globalAveragePool(GradBuilder &, const Node &);
void pool(GradBuilder &, const Node &);
void reduceMean(GradBuilder &, const Node &);
void channelAffine(GradBuilder &, const Node &);
void view(GradBuilder &, const Node &);
void transpose(GradBuilder &, const Node &);
void concat(GradBuilder &, const Node &);
void split(GradBuilder &, const Node &);
void slice(GradBuilder &, const Node &);
void pad(GradBuilder &, const Node &);
/// True when UnaryGrad for forward op `op` reads the forward output (else the input).
bool unaryGradSavesOutput(OpKind op);
} // namespace grads

} // namespace odlc
