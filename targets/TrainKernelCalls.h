/// \file Lowering of the training ops (loss, backward, SGD updates) to runtime kernel calls.
#pragma once

#include "targets/KernelCalls.h"

namespace odlc {

/// True for the ops the autodiff pass adds (they lower through lowerTrainKernel).
bool isTrainOp(OpKind op);
KernelCall lowerTrainKernel(const Graph &g, const Node &n, const std::string &sym,
                            const TensorRef &ref);

/// The C array holding velocity layer k's selected output channels (--channel-policy
/// velocity): one per layer, written by the runtime, read by every kernel of that layer.
std::string dynamicChannels(int64_t layer);

} // namespace odlc
