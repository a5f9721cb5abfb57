#include "PassManager.h"

#include "Diagnostics.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "targets/TargetInfo.h"

#include <algorithm>

namespace odlc {

#define ODLC_PASS(cls, name) std::unique_ptr<Pass> create##cls();
#include "Passes.def"

namespace {

struct PassEntry {
  const char *name;
  std::unique_ptr<Pass> (*create)();
};

const PassEntry kPasses[] = {
#define ODLC_PASS(cls, name) {name, create##cls},
#include "Passes.def"
};

} // namespace

std::vector<std::string> passNames() {
  std::vector<std::string> names;
  for (const PassEntry &entry : kPasses)
    names.push_back(entry.name);
  return names;
}

std::unique_ptr<Pass> createPass(const std::string &name) {
  for (const PassEntry &entry : kPasses)
    if (name == entry.name)
      return entry.create();
  return nullptr;
}

PassResult runPass(Pass &pass, Graph &graph, PassContext &context) {
  PassResult result = pass.run(graph, context);
  if (result == PassResult::Failed) {
    ODLC_ASSERT(!context.failure.empty(), "pass {} failed without a message", pass.name());
    throw Error(ErrorKind::User, context.failure);
  }
  graph.compact();
  if (std::string problem = verifyGraph(graph); !problem.empty())
    internalError(fmt::format("IR is malformed after pass {}: {}", pass.name(), problem),
                  __FILE__, __LINE__);
  return result;
}

void runPipeline(Graph &graph, PassContext &context, const PassManagerOptions &options) {
  auto wantsPrint = [&](const std::string &name) {
    const auto &list = options.printAfter;
    return std::find(list.begin(), list.end(), name) != list.end() ||
           std::find(list.begin(), list.end(), "all") != list.end();
  };
  for (const PassEntry &entry : kPasses) {
    std::unique_ptr<Pass> pass = entry.create();
    runPass(*pass, graph, context);
    if (wantsPrint(entry.name) && options.print)
      options.print(fmt::format("// -----// IR after {} //----- //\n{}", entry.name,
                                printGraph(graph)));
    if (options.stopAfter == entry.name)
      return;
  }
}

int64_t PassContext::effectiveRamBudget() const {
  if (ramBudget > 0)
    return ramBudget;
  return target ? target->ramBytes() : 0;
}

} // namespace odlc
