/// plan_buffers_bench: runs planBuffers() on the 11 MiniMalloc "challenging"
/// instances, prints a table and writes JSON.
///
/// Usage: plan_buffers_bench [out.json] [instance-dir]
/// For each instance it reports the lower bound, the arena reached, the time,
/// whether optimality was proved, and the same for a greedy-by-size baseline
/// implemented here (so ratios stay meaningful on a noisy shared machine).
///
/// Two criteria are counted: arena == max-live lower bound (ours), and a
/// verified plan within the published capacity of 1,048,576 bytes (the
/// criterion of MiniMalloc itself, whose solver answers the decision problem
/// "does everything fit in --capacity", not "what is the smallest arena").

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "solvers/BufferPlanner.h"

#ifndef ODLC_MINIMALLOC_DIR
#define ODLC_MINIMALLOC_DIR "../shared/bench/minimalloc-challenging"
#endif

namespace {

using odlc::PlanBuffer;
using Clock = std::chrono::steady_clock;
constexpr int64_t kCapacity = 1048576;

struct Row {
  std::string name;
  size_t buffers = 0;
  int64_t bound = 0, arena = 0, greedyArena = 0, nodes = 0;
  double seconds = 0, greedySeconds = 0;
  bool proved = false, valid = false;
};

/// Baseline: largest buffer first, each at the lowest offset where it fits.
int64_t greedyBySize(std::vector<PlanBuffer> buffers) {
  std::vector<size_t> order(buffers.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return buffers[a].size > buffers[b].size; });
  std::vector<size_t> placed;
  int64_t arena = 0;
  for (size_t i : order) {
    PlanBuffer& b = buffers[i];
    std::vector<std::pair<int64_t, int64_t>> used;
    for (size_t j : placed)
      if (buffers[j].lower < b.upper && b.lower < buffers[j].upper)
        used.push_back({buffers[j].offset, buffers[j].offset + buffers[j].size});
    std::sort(used.begin(), used.end());
    int64_t offset = 0;
    for (auto& iv : used) {
      if (iv.first >= offset + b.size)
        break;
      offset = std::max(offset, iv.second);
    }
    b.offset = offset;
    arena = std::max(arena, offset + b.size);
    placed.push_back(i);
  }
  return arena;
}

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Row runInstance(const std::string& dir, const std::string& name) {
  std::ifstream in(dir + "/" + name + ".1048576.csv");
  if (!in)
    throw std::runtime_error("cannot open " + dir + "/" + name + ".1048576.csv");
  std::vector<PlanBuffer> buffers = odlc::readPlanCsv(in);
  Row row;
  row.name = name;
  row.buffers = buffers.size();
  auto start = Clock::now();
  row.greedyArena = greedyBySize(buffers);
  row.greedySeconds = secondsSince(start);
  start = Clock::now();
  odlc::PlanOptions options;
  options.capacity = kCapacity;  // the capacity the instances were published with
  odlc::PlanResult result = odlc::planBuffers(buffers, options);
  row.seconds = secondsSince(start);
  row.bound = result.lowerBound;
  row.arena = result.arenaBytes;
  row.proved = result.provedOptimal;
  row.nodes = result.searchNodes;
  row.valid = result.ok && odlc::verifyPlan(buffers, kCapacity).empty();
  return row;
}

void writeJson(const std::string& path, const std::vector<Row>& rows) {
  std::ofstream out(path);
  out << "{\n  \"benchmark\": \"plan_buffers\",\n  \"instances\": [\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    out << "    {\"name\": \"" << r.name << "\", \"buffers\": " << r.buffers
        << ", \"lower_bound\": " << r.bound << ", \"arena\": " << r.arena
        << ", \"arena_over_bound\": " << double(r.arena) / double(r.bound)
        << ", \"seconds\": " << r.seconds << ", \"search_nodes\": " << r.nodes << ", \"proved_optimal\": " << (r.proved ? "true" : "false")
        << ", \"valid\": " << (r.valid ? "true" : "false")
        << ", \"greedy_by_size_arena\": " << r.greedyArena
        << ", \"greedy_by_size_over_bound\": " << double(r.greedyArena) / double(r.bound)
        << ", \"greedy_by_size_seconds\": " << r.greedySeconds
        << ", \"arena_over_greedy\": " << double(r.arena) / double(r.greedyArena)
        << ", \"seconds_over_greedy\": " << r.seconds / std::max(r.greedySeconds, 1e-9) << "}"
        << (i + 1 < rows.size() ? "," : "") << "\n";
  }
  out << "  ]\n}\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::string jsonPath = argc > 1 ? argv[1] : "plan_buffers.json";
  std::string dir = argc > 2 ? argv[2] : ODLC_MINIMALLOC_DIR;
  std::vector<Row> rows;
  std::printf("%-4s %7s %9s %9s %11s %8s %9s %7s %13s %13s %12s %6s\n", "inst", "buffers",
              "bound", "arena", "arena/bound", "seconds", "nodes", "proved", "greedy/bound",
              "arena/greedy", "time/greedy", "valid");
  int atBound = 0, withinCapacity = 0;
  double total = 0;
  try {
    for (const char* name : {"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K"}) {
      Row r = runInstance(dir, name);
      std::printf("%-4s %7zu %9lld %9lld %11.4f %8.3f %9lld %7s %13.4f %13.4f %12.0f %6s\n",
                  r.name.c_str(), r.buffers, (long long)r.bound, (long long)r.arena,
                  double(r.arena) / double(r.bound), r.seconds, (long long)r.nodes,
                  r.proved ? "yes" : "no",
                  double(r.greedyArena) / double(r.bound), double(r.arena) / double(r.greedyArena),
                  r.seconds / std::max(r.greedySeconds, 1e-9), r.valid ? "yes" : "NO");
      std::fflush(stdout);
      atBound += r.arena == r.bound;
      withinCapacity += r.valid;
      total += r.seconds;
      rows.push_back(r);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plan_buffers_bench: %s\n", e.what());
    return 1;
  }
  std::printf("%d/%zu at the lower bound, %d/%zu within capacity %lld (MiniMalloc's criterion), "
              "%.3f s total\n",
              atBound, rows.size(), withinCapacity, rows.size(), (long long)kCapacity, total);
  writeJson(jsonPath, rows);
  bool allValid = std::all_of(rows.begin(), rows.end(), [](const Row& r) { return r.valid; });
  return allValid ? 0 : 1;
}
