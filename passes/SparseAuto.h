/// \file `--sparse auto` (seed 003 sec. 4.4 and Fig. 4): a sparse update turns a cut whose dense
/// plan does not fit into one that does, a Pareto point between a deeper cut and a sparser
/// update. These helpers describe the candidates; the replay-cut pass plans them and decides.
#pragma once

#include "Cuts.h"

#include <vector>

namespace odlc {

/// The sparsest density auto uses: seed 003 reports accuracy falling off below about 0.6 for
/// layers far from the classifier, so auto does not go deeper at any price.
constexpr double kAutoMinDensity = 0.5;

struct SparseLayer {
  NodeId node = -1;
  int64_t keptElements = 0; ///< input activation per sample (what a sparse update shrinks)
  int64_t params = 0;       ///< weight elements
};

/// The layers a sparse update applies to after `cut`, in graph order: every Conv/Gemm/MatMul of
/// the tail with a constant weight except the last (the classifier always trains fully). The
/// sparse-update pass walks the same list.
std::vector<SparseLayer> sparseLayersAfter(const Graph &g, TensorId cut);

/// Per-layer densities from every layer at kAutoMinDensity to every layer dense, each step
/// raising one group of layers by one level (0.5, 0.625, 0.75, 0.875, 1). Groups (at most 4)
/// are formed in order of kept activation per parameter, cheapest first: capacity that costs
/// little memory comes back first. Updated parameters grow along the ladder and memory with
/// them, so the densest fitting step is found by bisection.
std::vector<std::vector<double>> densityLadder(const std::vector<SparseLayer> &layers);

/// "0.5" when all densities are equal, else "0.5 to 0.875".
std::string densityRange(const std::vector<double> &densities);

} // namespace odlc
