/// \file Lowering of the training ops (loss, backward, SGD updates) to runtime kernel calls.
#pragma once

#include "targets/KernelCalls.h"

namespace odlc {

/// True for the ops the autodiff pass adds (they lower through lowerTrainKernel).
bool isTrainOp(OpKind op);
KernelCall lowerTrainKernel(const Graph &g, const Node &n, const std::string &sym,
                            const TensorRef &ref);

} // namespace odlc
