// lower-views: Flatten, Reshape, Squeeze and Unsqueeze only reinterpret a dense buffer, so they
// all become one View op carrying the result shape; no code runs for them and the memory
// planner lets the result share its operand's buffer.
#include "Pass.h"

#include <memory>

namespace odlc {

namespace {

bool isReshapeLike(OpKind op) {
  return op == OpKind::Flatten || op == OpKind::Reshape || op == OpKind::Squeeze ||
         op == OpKind::Unsqueeze;
}

class LowerViewsPass : public Pass {
public:
  const char *name() const override { return "lower-views"; }

  PassResult run(Graph &g, PassContext &) override {
    bool changed = false;
    for (Node &node : g.nodes) {
      if (node.dead || !isReshapeLike(node.op))
        continue;
      node.op = OpKind::View;
      node.attrs = AttrMap();
      node.attrs.set("shape", std::vector<int64_t>(g.tensor(node.outputs[0]).shape));
      changed = true;
    }
    return changed ? PassResult::Changed : PassResult::Unchanged;
  }
};

} // namespace

std::unique_ptr<Pass> createLowerViewsPass() { return std::make_unique<LowerViewsPass>(); }

} // namespace odlc
