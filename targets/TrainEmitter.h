/// \file The training half of the emitted C: RAM copies of trainable weights, the replay buffer,
/// the prefix and train-batch functions, and the public train_step / learn / remember API
/// (DESIGN.md 4.3), glued to the runtime's learning loop (runtime/odlc_learn.c).
#pragma once

#include "ir/Graph.h"
#include "targets/CEmitter.h"
#include "targets/CSymbols.h"

#include <set>
#include <string>

namespace odlc {

struct TrainCode {
  std::string includes;     ///< extra #include lines
  std::string state;        ///< static RAM arrays and descriptors
  std::string declarations; ///< kernel parameter structs of the training functions
  std::string init;         ///< statements of NAME_init()
  std::string functions;    ///< prefix, train batch and the public API
};

/// Empty when the model does not train.
TrainCode emitTrainCode(const Graph &g, const Symbols &s, const EmitOptions &o,
                        std::set<std::string> &runtimeFiles);
/// The training part of NAME.h (macros and prototypes); empty when the model does not train.
std::string trainHeader(const Graph &g, const EmitOptions &o);

} // namespace odlc
