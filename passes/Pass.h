/// \file The pass interface. A pass is one small class with a name and a run() over the graph;
/// every pass is listed once in Passes.def, in pipeline order.
#pragma once

#include "ir/Graph.h"

#include <cstdint>
#include <string>

namespace odlc {

struct TargetInfo;

enum class PassResult { Unchanged, Changed, Failed };

/// What passes may read besides the graph: the target and the user's budget and flags.
struct PassContext {
  const TargetInfo *target = nullptr;
  int64_t ramBudget = 0;   ///< bytes; 0 means the target's RAM size
  int64_t flashBudget = 0; ///< bytes; 0 means the target's flash size
  std::string failure;     ///< set by a pass returning Failed: one line for the user
};

class Pass {
public:
  virtual ~Pass() = default;
  /// kebab-case name, as used by --print-ir-after.
  virtual const char *name() const = 0;
  virtual PassResult run(Graph &graph, PassContext &context) = 0;
};

} // namespace odlc
