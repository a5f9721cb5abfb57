/// \file Shared pieces of kernel lowering: the field lists of the runtime's parameter structs
/// (designated initializers), built from shapes and node attributes, and small C-text helpers.
/// Used by the forward (KernelCalls.cpp) and training (TrainKernelCalls.cpp) lowerings.
#pragma once

#include "ir/Graph.h"
#include "targets/KernelCalls.h"

#include <string>
#include <vector>

namespace odlc {

constexpr size_t kMaxRank = 6; ///< ODLC_MAX_RANK in odlc_runtime.h

const Shape &shapeOf(const Graph &g, TensorId id);
int64_t prod(const Shape &s, size_t from, size_t to);
/// A C initializer list; `{0}` for an empty one, which C99 does not allow.
std::string list(const std::vector<int64_t> &values);
/// Diagnoses tensors of a rank the strided kernels do not handle.
void checkRank(const Node &n, size_t rank);
/// One kernel call: `static const TYPE SYM = {FIELDS};` and `FN(&SYM, ARGS);`.
KernelCall single(const std::string &type, const std::string &symbol, const std::string &fields,
                  const std::string &fn, const std::string &args, const char *file);
/// Comma-separated data pointers (NULL for absent tensors).
std::string args(const TensorRef &ref, const std::vector<TensorId> &ids);
/// Strides of `from` read at every index of `to` (0 along broadcast dimensions).
std::vector<int64_t> broadcastStrides(const Shape &from, const Shape &to);

/// odlc_conv2d_params for input x, weight w and output y.
std::string convFields(const Shape &x, const Shape &w, const Shape &y, const AttrMap &attrs);
/// odlc_pool2d_params for input x and output y.
std::string poolFields(const Shape &x, const Shape &y, const AttrMap &attrs);
/// odlc_gemm_params for A and the output y; C's shape when hasC.
std::string gemmFields(const Shape &a, const Shape &y, bool hasC, const Shape &c,
                       const AttrMap &attrs);
/// odlc_reduce_params reducing x over `axes`.
std::string reduceFields(const Shape &x, const std::vector<int64_t> &axes);
/// odlc_copy_params.
std::string copyFields(const Shape &shape, int64_t srcOffset, const std::vector<int64_t> &src,
                       int64_t dstOffset, const std::vector<int64_t> &dst);

} // namespace odlc
