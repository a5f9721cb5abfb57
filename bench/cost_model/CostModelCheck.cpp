// Compares measured kernel calls with the stored cost model (targets/CostModel.h): reads
// cost_bench's check-mode output on stdin
//   check KIND PRECISION INSTRUCTIONS n_c_h_w_m_oh_ow_kh_kw_sh_sw_pt_pl_g_b T0..T6
// recomputes the terms from the geometry (targets/costs/CostTerms.h, as the compiler does for a
// node), prints measured against predicted for every line and the worst error per kind, and
// fails when a line is off by more than TOLERANCE % or a kind of the model has no check line.
//   cost_model_check TARGET TOLERANCE_PERCENT < check.txt
#include "targets/CostModel.h"
#include "targets/costs/CostTerms.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
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
  std::map<std::string, double> worst;
  std::string line;
  std::printf("%-6s %-40s %-36s %11s %11s %8s\n", "", "kind", "geometry", "measured",
              "predicted", "error");
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string tag, kindName, precision, geometry;
    double measured = 0;
    if (!(in >> tag >> kindName >> precision >> measured >> geometry) || tag != "check")
      continue;
    KernelKind kind;
    const KernelCost *cost =
        kernelKindFromName(kindName, kind) ? kernelCost(*target, kind, Precision::Fp32) : nullptr;
    odlc_cost_geom geom;
    if (!cost || std::sscanf(geometry.c_str(), "%d_%d_%d_%d_%d_%d_%d_%d_%d_%d_%d_%d_%d_%d_%d",
                             &geom.n, &geom.c, &geom.h, &geom.w, &geom.m, &geom.oh, &geom.ow,
                             &geom.kh, &geom.kw, &geom.sh, &geom.sw, &geom.pt, &geom.pl,
                             &geom.group, &geom.block) != 15) {
      std::printf("FAIL   %s: no stored cost on %s or bad geometry\n", kindName.c_str(), argv[1]);
      ++failed;
      continue;
    }
    double terms[ODLC_COST_TERMS];
    odlc_cost_terms(odlc_cost_kind(int(kind)), &geom, terms);
    double predicted = 0;
    for (int i = 0; i < kCostTerms; ++i)
      predicted += cost->c[i] * terms[i];
    const double error = 100.0 * (predicted - measured) / measured;
    const bool bad = std::fabs(error) > tolerance;
    ++checked;
    failed += bad;
    worst[kindName] = std::max(worst[kindName], std::fabs(error));
    std::printf("%-6s %-40s %-36s %11.0f %11.0f %7.1f%%\n", bad ? "FAIL" : "ok",
                kindName.c_str(), geometry.c_str(), measured, predicted, error);
  }
  std::printf("\nworst |error| per kind on %s:\n", argv[1]);
  for (int i = 0; i < numKernelKinds(); ++i) {
    const char *name = kernelKindName(KernelKind(i));
    auto it = worst.find(name);
    if (it == worst.end()) {
      std::printf("  %-40s  no check line\n", name);
      ++failed;
      continue;
    }
    std::printf("  %-40s %6.1f %%\n", name, it->second);
  }
  std::printf("%d checked within %.0f %%, %d failed\n", checked, tolerance, failed);
  return failed == 0 && checked > 0 ? 0 : 1;
}
