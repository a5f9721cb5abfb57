/// \file Buffers that live for the whole program, outside the arena: trainable weights and
/// optimizer state in RAM, the replay buffer and its bookkeeping, the training batch labels.
/// One list for the memory-plan pass (budget), the report and the emitter to agree on.
#pragma once

#include "ir/Graph.h"

#include <string>
#include <vector>

namespace odlc {

struct StaticBuffer {
  std::string name;
  std::string kind;  ///< weight | gradient | replay | scratch (memory_plan.json kinds)
  std::string level; ///< ram | flash
  int64_t bytes = 0;
};

/// In a fixed order; empty for an inference-only model. The replay latents are at level "flash"
/// with --replay-in flash.
std::vector<StaticBuffer> staticBuffers(const Graph &graph);

/// The forward layers of the train function whose output channels the velocity policy
/// re-selects, indexed by their attribute sparse.dynamic (empty without that policy).
std::vector<const Node *> velocityLayers(const Graph &graph);

/// Bytes of one stored latent of `elements` floats at `bits` (32: float; 8: uint8 plus a
/// float scale and offset).
int64_t replaySlotBytes(int64_t elements, int64_t bits);

} // namespace odlc
