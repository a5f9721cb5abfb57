/// \file Latent-replay cuts: the tensors every input-to-output path passes through, and what
/// training from each would cost (seed 003, eq. 1, 2 and 5). A plain analysis over the graph,
/// used by the replay-cut pass and by `odlc cuts`.
#pragma once

#include "ir/Graph.h"

#include <string>
#include <vector>

namespace odlc {

struct CutInfo {
  TensorId tensor = kNoTensor;
  std::string name;
  int64_t latentElements = 0;   ///< per sample
  int64_t trainableParams = 0;  ///< weights and biases of the tail's Conv/Gemm/MatMul
  int64_t forwardMacs = 0;      ///< tail forward per sample (eq. 1)
  int64_t backwardMacs = 0;     ///< tail backward per sample: input + weight gradients (eq. 2)
  int64_t trainingBytes = 0;    ///< eq. 5 for a batch: 2 x params + batch x kept activations
  int64_t keptElements = 0;     ///< per sample: inputs of trainable layers kept for backward
  int trainableLayers = 0;
};

/// Every valid cut in graph order (the graph input first), with costs for `batch`.
std::vector<CutInfo> findCuts(const Graph &graph, int64_t batch);

/// Nodes (of the inference function) computed after `cut`: the trainable tail.
std::vector<NodeId> tailNodes(const Graph &graph, TensorId cut);

/// True for the ops whose float weights train (Conv, Gemm, MatMul).
bool hasTrainableWeights(OpKind op);

/// The layer weights of a tail node: inputs 1 and 2 (weight, bias) when they are constants.
std::vector<TensorId> layerWeights(const Graph &graph, const Node &node);

} // namespace odlc
