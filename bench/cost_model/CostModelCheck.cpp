// Compares measured kernel calls with the stored cost model (targets/CostModel.h): reads
// cost_bench's check-mode output on stdin, prints measured against predicted for every
// `check` and `probe` line, and fails when a `check` line is off by more than TOLERANCE %.
//   cost_model_check TARGET TOLERANCE_PERCENT < check.txt
#include "targets/CostModel.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>

using namespace odlc;

int main(int argc, char **argv) {
  if (argc != 3) {
    std::cerr << "usage: cost_model_check TARGET TOLERANCE_PERCENT < check.txt\n";
    return 2;
  }
  const TargetInfo *target = findTarget(argv[1]);
  const double tolerance = std::atof(argv[2]);
  if (!target) {
    std::cerr << "cost_model_check: unknown target " << argv[1] << "\n";
    return 2;
  }
  int checked = 0, failed = 0;
  std::string line;
  std::printf("%-6s %-26s %-20s %9s %11s %11s %8s\n", "", "kind", "shape", "units", "measured",
              "predicted", "error");
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string tag, kindName, precision, shape;
    double units = 0, measured = 0;
    if (!(in >> tag >> kindName >> precision >> units >> measured >> shape) ||
        (tag != "check" && tag != "probe"))
      continue;
    KernelKind kind;
    const KernelCost *cost =
        kernelKindFromName(kindName, kind) ? kernelCost(*target, kind, Precision::Fp32) : nullptr;
    if (!cost) {
      std::printf("FAIL   %s: no stored cost on %s\n", kindName.c_str(), argv[1]);
      ++failed;
      continue;
    }
    const double predicted = cost->perCall + cost->perMac * units;
    const double error = 100.0 * (predicted - measured) / measured;
    const bool bad = tag == "check" && std::fabs(error) > tolerance;
    checked += tag == "check";
    failed += bad;
    std::printf("%-6s %-26s %-20s %9.0f %11.0f %11.0f %7.1f%%\n",
                bad ? "FAIL" : tag.c_str(), kindName.c_str(), shape.c_str(), units, measured,
                predicted, error);
  }
  std::printf("%d checked within %.0f %%, %d failed (probe lines are reported only)\n", checked,
              tolerance, failed);
  return failed == 0 && checked > 0 ? 0 : 1;
}
