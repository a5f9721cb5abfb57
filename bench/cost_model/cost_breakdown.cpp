// The cost model's prediction of one call of a compiled function, node by node: compiles MODEL
// like `odlc compile` (no files written) and prints, for every live node of FUNCTION ("train":
// one SGD step; "prefix"), its kernel kind, terms T0..T5 and predicted instructions, then the
// total. Used to find which kernel a whole-step prediction misses (profile_step.py measures the
// same calls on the board).
//   cost_breakdown MODEL TARGET CUT SPARSE BATCH [FUNCTION]
#include "driver/Compile.h"
#include "ir/OpTable.h"
#include "targets/CostModel.h"

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace odlc;

int main(int argc, char **argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: cost_breakdown MODEL TARGET CUT SPARSE BATCH [FUNCTION]\n");
    return 2;
  }
  CompileOptions o;
  o.model = argv[1];
  o.target = argv[2];
  o.train.trainFrom = argv[3];
  o.train.sparse = argv[4];
  o.train.batch = std::atoi(argv[5]);
  o.train.replaySamples = 0;
  o.train.learnCache = 100;
  o.train.channelPolicy = "first";
  const std::string function = argc > 6 ? argv[6] : "train";
  Graph g = importOnnxFile(o.model, o.import);
  compileGraph(g, o);
  const TargetInfo &target = *findTarget(o.target);
  int fn = g.findFunction(function);
  double total = 0;
  for (const Node &n : g.nodes) {
    if (n.dead || n.fn != fn || fn <= 0)
      continue;
    KernelKind kind = classifyNode(g, n);
    double terms[kCostTerms];
    costTerms(g, n, kind, terms);
    double instr = instructionsOf(g, n, target);
    total += instr;
    std::printf("node\t%s\t%s\t%s\t%.0f", n.name.c_str(), opInfo(n.op).name, kernelKindName(kind),
                instr);
    for (double t : terms)
      std::printf("\t%.0f", t);
    std::printf("\n");
  }
  std::printf("total\t%.0f\n", total);
  return 0;
}
