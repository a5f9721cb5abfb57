// canonicalize-clip: Clip(0, 6) becomes Relu6 and Clip(0, +max) becomes Relu, so kernels and
// later passes (quantization, autodiff) see one op per activation.
#include "Pass.h"

#include <cfloat>
#include <memory>

namespace odlc {

namespace {

class CanonicalizeClipPass : public Pass {
public:
  const char *name() const override { return "canonicalize-clip"; }

  PassResult run(Graph &g, PassContext &) override {
    bool changed = false;
    for (Node &node : g.nodes) {
      if (node.dead || node.op != OpKind::Clip)
        continue;
      double lo = node.attrs.getFloat("min"), hi = node.attrs.getFloat("max");
      if (lo != 0.0 || (hi != 6.0 && hi < double(FLT_MAX)))
        continue;
      node.op = hi == 6.0 ? OpKind::Relu6 : OpKind::Relu;
      node.attrs = AttrMap();
      changed = true;
    }
    return changed ? PassResult::Changed : PassResult::Unchanged;
  }
};

} // namespace

std::unique_ptr<Pass> createCanonicalizeClipPass() {
  return std::make_unique<CanonicalizeClipPass>();
}

} // namespace odlc
