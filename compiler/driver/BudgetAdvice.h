/// \file What would fit when a plan does not: the error for an over-budget model names the
/// largest buffers of the plan and the nearest configurations that fit (a later cut, uint8 or
/// fewer replayed latents, a smaller batch, a bigger --ram or --flash), found by planning them.
#pragma once

#include "driver/Compile.h"
#include "Pass.h"

#include <string>

namespace odlc {

/// The rest of the diagnostic for a plan that needs `failed.ramNeeded` bytes, e.g.
/// "; largest: 'x' (401408 B), ...; nearest that fits: --train-from X, or --batch 18, or
/// --ram 479564". `pristine` is the imported graph.
std::string budgetAdvice(const Graph &pristine, const CompileOptions &options,
                         const PassContext &failed);

/// The same for a plan over the flash budget: the largest buffers in flash and the nearest
/// options that fit (uint8 or fewer replayed latents in flash, a bigger --flash).
std::string flashAdvice(const Graph &pristine, const CompileOptions &options,
                        const PlanSummary &plan);

} // namespace odlc
