/// \file What would fit when a plan does not: the error for an over-budget model names the
/// nearest configurations that fit (a later cut, uint8 or fewer replayed latents, a bigger
/// --ram), found by planning them.
#pragma once

#include "driver/Compile.h"

#include <string>

namespace odlc {

/// One clause for the diagnostic, e.g. "nearest that fits: --train-from X, or --replay-bits 8,
/// or --batch 18, or --ram 479564" (`needed`). `pristine` is the imported graph.
std::string budgetAdvice(const Graph &pristine, const CompileOptions &options, int64_t needed);

} // namespace odlc
