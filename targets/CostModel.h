/// \file The cost model per target: retired instructions of one runtime kernel call as
/// c0 * T0 + c1 * T1 + ... + c6 * T6, the terms T computed from the call's geometry after the runtime
/// kernel's loop structure (targets/costs/CostTerms.h, shared with the measuring firmware), the
/// coefficients measured under QEMU -icount and stored in targets/costs/TARGET.def (regenerate:
/// bench/cost_model/measure.sh). Memory is not modelled here: it comes from the planner. The
/// host has no cost model; instructionsOf() falls back to the units (MACs) there.
#pragma once

#include "ir/Graph.h"
#include "targets/TargetInfo.h"

#include <cstdint>
#include <string>

namespace odlc {

/// Which runtime kernel (and code path) runs a node; units per kind in KernelKinds.def.
enum class KernelKind : uint8_t {
#define ODLC_KERNEL_KIND(kind, name, unit) kind,
#include "targets/costs/KernelKinds.def"
  None, ///< no kernel runs (views, Identity, Dropout)
};

/// Storage precision of a kernel's operands; int8 and binary join when their kernels exist.
enum class Precision : uint8_t { Fp32 };

/// Number of cost terms of a call, the call itself (T0 = 1) included.
constexpr int kCostTerms = 7;

struct KernelCost {
  /// c[0]: fitted per-call intercept (T0 = 1; the *_block kinds: per dense call; may be
  /// negative, see the .def); c[i]: instructions per unit of term T_i (KernelKinds.def says what
  /// each kind's terms count).
  double c[kCostTerms];
};

/// Number of measured kinds (KernelKind::None excluded).
int numKernelKinds();
/// "conv_depthwise", ...; "none" for KernelKind::None.
const char *kernelKindName(KernelKind kind);
/// False when no kind has this name.
bool kernelKindFromName(const std::string &name, KernelKind &kind);
const char *precisionName(Precision precision);

/// The measured cost, or nullptr: the host (no cost model), KernelKind::None, or a kind or
/// precision the target's table lacks.
const KernelCost *kernelCost(const TargetInfo &target, KernelKind kind, Precision precision);

/// The kernel that runs node `n`, following the runtime's own dispatch (odlc_conv2d_f32 and
/// its backward kernels pick pointwise for 1x1 stride-1 unpadded, depthwise for
/// group == channels == outputs).
KernelKind classifyNode(const Graph &g, const Node &n);
/// Precision of node `n`'s kernel: fp32 (the only runtime precision today).
Precision nodePrecision(const Graph &g, const Node &n);
/// Units of one execution of `n` as kind `kind`: the op table's MACs or elements (what the host
/// falls back to).
int64_t costUnits(const Graph &g, const Node &n, KernelKind kind);
/// The terms T0..T6 of one execution of `n` as kind `kind`: the node's kernel geometry (the
/// odlc_*_params the emitter writes) through odlc_cost_terms(), as the firmware that fitted the
/// coefficients computed them for its shapes. All zero for KernelKind::None.
void costTerms(const Graph &g, const Node &n, KernelKind kind, double terms[kCostTerms]);
/// Predicted retired instructions of one execution of `n` on `target`: sum c_i * T_i; the units
/// themselves where the target has no measured cost (host).
double instructionsOf(const Graph &g, const Node &n, const TargetInfo &target);

} // namespace odlc
