/// \file A slow, obviously-correct reference evaluator of the IR in double precision, for tests:
/// a pass keeps numbers equal when the interpreter gives the same outputs before and after it
/// (Glow's checkNumericalEquivalence).
#pragma once

#include "ir/Graph.h"

#include <vector>

namespace odlc::test {

using Buffer = std::vector<double>;

/// Evaluates the graph on one value per graph input; returns one buffer per graph output.
std::vector<Buffer> interpret(const Graph &graph, const std::vector<Buffer> &inputs);

/// Deterministic pseudo-random values in [-1, 1).
Buffer randomBuffer(size_t count, uint32_t seed);

/// max |a - b| / max |b| (0 when both are all zero).
double relativeError(const Buffer &a, const Buffer &b);

/// Interprets `before` and `after` on the same random inputs; returns the worst relative error
/// over all outputs.
double equivalenceError(const Graph &before, const Graph &after, uint32_t seed = 1);

} // namespace odlc::test
