#include "TestUtils.h"

#include "Diagnostics.h"
#include "PassManager.h"
#include "import/OnnxImporter.h"
#include "targets/TargetInfo.h"

namespace odlc::test {

Graph importModel(OnnxBuilder &builder) {
  onnx::ModelProto copy = builder.finish();
  return importOnnxModel(copy, "test.onnx");
}

bool runPasses(Graph &graph, const std::vector<std::string> &names) {
  PassContext context;
  context.target = findTarget("host");
  bool changed = false;
  for (const std::string &name : names) {
    std::unique_ptr<Pass> pass = createPass(name);
    ODLC_ASSERT(pass != nullptr, "no pass '{}'", name);
    changed = runPass(*pass, graph, context) == PassResult::Changed || changed;
  }
  return changed;
}

void runPassesBefore(Graph &graph, const std::string &pass) {
  std::vector<std::string> before;
  for (const std::string &name : passNames()) {
    if (name == pass)
      break;
    before.push_back(name);
  }
  runPasses(graph, before);
}

int countOps(const Graph &graph, OpKind op) {
  int count = 0;
  for (const Node &n : graph.nodes)
    count += !n.dead && n.op == op;
  return count;
}

} // namespace odlc::test
