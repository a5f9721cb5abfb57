// remove-identity: drops Identity and inference-mode Dropout; readers use the operand directly.
#include "Pass.h"

#include <memory>

namespace odlc {

namespace {

class RemoveIdentityPass : public Pass {
public:
  const char *name() const override { return "remove-identity"; }

  PassResult run(Graph &g, PassContext &) override {
    bool changed = false;
    for (Node &node : g.nodes) {
      if (node.dead || (node.op != OpKind::Identity && node.op != OpKind::Dropout))
        continue;
      g.replaceAllUses(node.outputs[0], node.inputs[0]);
      node.dead = true;
      changed = true;
    }
    return changed ? PassResult::Changed : PassResult::Unchanged;
  }
};

} // namespace

std::unique_ptr<Pass> createRemoveIdentityPass() { return std::make_unique<RemoveIdentityPass>(); }

} // namespace odlc
