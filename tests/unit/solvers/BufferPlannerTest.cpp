/// Tests of the static memory planner: optimality against brute force on small
/// random instances, validity and determinism on larger ones, edge cases, CSV
/// I/O, the verifier, and the MiniMalloc "challenging" benchmark instances.

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "solvers/BufferPlanner.h"
#include "solvers/GreedyPlacer.h"
#include "solvers/PlanProblem.h"

#ifndef ODLC_MINIMALLOC_DIR
#define ODLC_MINIMALLOC_DIR ""
#endif

namespace {

using odlc::PlanBuffer;
using odlc::PlanOptions;
using odlc::PlanResult;

/// Small deterministic generator (independent of the standard library's
/// distributions, so the instances are the same everywhere).
struct Rng {
  uint64_t state;
  explicit Rng(uint64_t seed) : state(seed * 0x9e3779b97f4a7c15ULL + 1) {}
  uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  int64_t range(int64_t lo, int64_t hi) { return lo + int64_t(next() % uint64_t(hi - lo + 1)); }
};

PlanBuffer buffer(int64_t id, int64_t lower, int64_t upper, int64_t size, int64_t alignment = 1) {
  PlanBuffer b;
  b.id = id;
  b.lower = lower;
  b.upper = upper;
  b.size = size;
  b.alignment = alignment;
  return b;
}

std::vector<PlanBuffer> randomInstance(Rng& rng, int n, int64_t horizon, int64_t maxSize,
                                       bool aligned) {
  std::vector<PlanBuffer> buffers;
  for (int i = 0; i < n; ++i) {
    int64_t lower = rng.range(0, horizon - 1);
    int64_t upper = rng.range(lower + 1, horizon);
    int64_t alignment = aligned ? int64_t(1) << rng.range(0, 2) : 1;
    buffers.push_back(buffer(i, lower, upper, rng.range(1, maxSize), alignment));
  }
  return buffers;
}

bool overlapInTime(const PlanBuffer& a, const PlanBuffer& b) {
  return a.lower < b.upper && b.lower < a.upper;
}

/// Optimal arena by brute force: every canonical placement (each buffer at the
/// lowest aligned offset above the buffers it overlaps that come before it in
/// some order) is produced by some permutation, and one of them is optimal.
int64_t bruteForceOptimum(const std::vector<PlanBuffer>& buffers) {
  std::vector<int> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  int64_t best = INT64_MAX;
  std::vector<int64_t> offset(buffers.size());
  do {
    int64_t arena = 0;
    for (size_t k = 0; k < order.size(); ++k) {
      const PlanBuffer& b = buffers[order[k]];
      int64_t top = 0;
      for (size_t j = 0; j < k; ++j) {
        const PlanBuffer& o = buffers[order[j]];
        if (overlapInTime(b, o))
          top = std::max(top, offset[order[j]] + o.size);
      }
      top = (top + b.alignment - 1) / b.alignment * b.alignment;
      offset[order[k]] = top;
      arena = std::max(arena, top + b.size);
    }
    best = std::min(best, arena);
  } while (std::next_permutation(order.begin(), order.end()));
  return best;
}

std::string toCsv(const std::vector<PlanBuffer>& buffers) {
  std::ostringstream out;
  odlc::writePlanCsv(out, buffers);
  return out.str();
}

TEST(BufferPlanner, MatchesBruteForceOnSmallRandomInstances) {
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    Rng rng(seed);
    int n = int(rng.range(1, 7));
    bool aligned = seed % 4 == 0;
    std::vector<PlanBuffer> buffers = randomInstance(rng, n, 8, seed % 2 ? 10 : 40, aligned);
    int64_t optimum = bruteForceOptimum(buffers);
    PlanResult result = odlc::planBuffers(buffers);
    ASSERT_TRUE(result.ok) << "seed " << seed;
    EXPECT_EQ(odlc::verifyPlan(buffers), "") << "seed " << seed;
    EXPECT_EQ(result.arenaBytes, optimum) << "seed " << seed << "\n" << toCsv(buffers);
    EXPECT_TRUE(result.provedOptimal) << "seed " << seed;
    EXPECT_LE(result.lowerBound, optimum);
  }
}

TEST(BufferPlanner, TightCapacityEqualToOptimumSucceeds) {
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    Rng rng(seed + 1000);
    std::vector<PlanBuffer> buffers = randomInstance(rng, int(rng.range(2, 7)), 6, 16, false);
    int64_t optimum = bruteForceOptimum(buffers);
    PlanOptions tight;
    tight.capacity = optimum;
    std::vector<PlanBuffer> copy = buffers;
    ASSERT_TRUE(odlc::planBuffers(copy, tight).ok) << "seed " << seed;
    EXPECT_EQ(odlc::verifyPlan(copy, optimum), "");
    PlanOptions tooSmall;
    tooSmall.capacity = optimum - 1;
    PlanResult failed = odlc::planBuffers(buffers, tooSmall);
    EXPECT_FALSE(failed.ok) << "seed " << seed;
    for (const PlanBuffer& b : buffers)
      EXPECT_EQ(b.offset, -1);
  }
}

TEST(BufferPlanner, LargerRandomInstancesAreValidAndDeterministic) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    Rng rng(seed + 5000);
    int n = int(rng.range(20, 200));
    std::vector<PlanBuffer> buffers = randomInstance(rng, n, 60, 4096, seed % 3 == 0);
    std::vector<PlanBuffer> again = buffers;
    PlanOptions options;
    options.searchBudget = 20000;
    PlanResult first = odlc::planBuffers(buffers, options);
    PlanResult second = odlc::planBuffers(again, options);
    ASSERT_TRUE(first.ok);
    EXPECT_EQ(odlc::verifyPlan(buffers), "") << "seed " << seed;
    EXPECT_GE(first.arenaBytes, first.lowerBound);
    EXPECT_EQ(toCsv(buffers), toCsv(again)) << "seed " << seed;
    EXPECT_EQ(first.arenaBytes, second.arenaBytes);
    EXPECT_EQ(first.searchNodes, second.searchNodes);
  }
}

TEST(BufferPlanner, ChainOfIntervalsReachesBound) {
  // Interval graphs with unit sizes are perfect: the bound is always reached.
  Rng rng(77);
  std::vector<PlanBuffer> buffers = randomInstance(rng, 150, 100, 1, false);
  PlanResult result = odlc::planBuffers(buffers);
  ASSERT_TRUE(result.ok);
  EXPECT_EQ(result.arenaBytes, result.lowerBound);
  EXPECT_TRUE(result.provedOptimal);
  EXPECT_EQ(odlc::verifyPlan(buffers), "");
}

TEST(BufferPlanner, VeryLargeInputFallsBackToHeuristics) {
  // Above the exact-search limit only the greedy orders run; the plan must
  // still be valid and reasonably tight.
  Rng rng(11);
  std::vector<PlanBuffer> buffers;
  for (int i = 0; i < 4000; ++i)
    buffers.push_back(buffer(i, i, i + rng.range(1, 6), 16 * rng.range(1, 64), 16));
  PlanResult result = odlc::planBuffers(buffers);
  ASSERT_TRUE(result.ok);
  EXPECT_EQ(result.searchNodes, 0);
  EXPECT_EQ(odlc::verifyPlan(buffers), "");
  EXPECT_LE(double(result.arenaBytes), 1.5 * double(result.lowerBound));
}

TEST(PlanProblem, NeighbourListsDependOnThePairsNotTheBufferCount) {
  // A chain: buffer i lives [i, i + 2), so it meets only i - 1 and i + 1: n - 1 pairs.
  std::vector<PlanBuffer> chain;
  for (int i = 0; i < 1000; ++i)
    chain.push_back(buffer(i, i, i + 2, 8));
  std::vector<int> all(chain.size());
  std::iota(all.begin(), all.end(), 0);
  EXPECT_TRUE(odlc::planner::hasNeighbors(odlc::planner::buildProblem(chain, all, 999)));
  EXPECT_FALSE(odlc::planner::hasNeighbors(odlc::planner::buildProblem(chain, all, 998)));
  // Without the lists the greedy placer scans every placed buffer: same plan.
  odlc::planner::Problem with = odlc::planner::buildProblem(chain, all, 999);
  odlc::planner::Problem without = odlc::planner::buildProblem(chain, all, 0);
  std::vector<int64_t> a, b;
  EXPECT_EQ(odlc::planner::bestGreedyPlacement(with, a), 16);
  EXPECT_EQ(odlc::planner::bestGreedyPlacement(without, b), 16);
  EXPECT_EQ(a, b);
}

TEST(BufferPlanner, EmptyInput) {
  std::vector<PlanBuffer> buffers;
  PlanResult result = odlc::planBuffers(buffers);
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(result.arenaBytes, 0);
  EXPECT_EQ(result.lowerBound, 0);
  EXPECT_TRUE(result.provedOptimal);
  EXPECT_EQ(odlc::planLowerBound(buffers), 0);
}

TEST(BufferPlanner, ZeroSizeAndDeadBuffersGetOffsetZero) {
  std::vector<PlanBuffer> buffers = {buffer(1, 0, 4, 0), buffer(2, 3, 3, 100),
                                     buffer(3, 0, 4, 8), buffer(4, 2, 6, 8, 8)};
  PlanResult result = odlc::planBuffers(buffers);
  ASSERT_TRUE(result.ok);
  EXPECT_EQ(buffers[0].offset, 0);
  EXPECT_EQ(buffers[1].offset, 0);
  EXPECT_EQ(result.lowerBound, 16);
  EXPECT_EQ(result.arenaBytes, 16);
  EXPECT_EQ(odlc::verifyPlan(buffers, 16), "");
}

TEST(BufferPlanner, HugeSizesDoNotOverflow) {
  const int64_t half = INT64_MAX / 2;  // two of them fit exactly below INT64_MAX
  std::vector<PlanBuffer> fits = {buffer(1, 0, 2, half), buffer(2, 1, 3, half),
                                  buffer(3, 2, 4, half)};
  PlanResult ok = odlc::planBuffers(fits);
  ASSERT_TRUE(ok.ok);
  EXPECT_EQ(ok.arenaBytes, 2 * half);
  EXPECT_EQ(odlc::verifyPlan(fits), "");

  std::vector<PlanBuffer> tooBig = {buffer(1, 0, 2, half + 1), buffer(2, 1, 3, half + 1)};
  EXPECT_EQ(odlc::planLowerBound(tooBig), INT64_MAX);
  PlanResult failed = odlc::planBuffers(tooBig);
  EXPECT_FALSE(failed.ok);
  EXPECT_EQ(tooBig[0].offset, -1);

  std::vector<PlanBuffer> huge = {buffer(1, 0, 1, INT64_MAX), buffer(2, 1, 2, INT64_MAX),
                                  buffer(3, 5, 9, 3, 1 << 20)};
  PlanResult result = odlc::planBuffers(huge);
  ASSERT_TRUE(result.ok);
  EXPECT_EQ(result.arenaBytes, INT64_MAX);
  EXPECT_EQ(odlc::verifyPlan(huge), "");
}

TEST(BufferPlanner, AlignmentIsHonoured) {
  std::vector<PlanBuffer> buffers = {buffer(1, 0, 4, 3), buffer(2, 0, 4, 5, 16),
                                     buffer(3, 1, 2, 7, 4)};
  PlanResult result = odlc::planBuffers(buffers);
  ASSERT_TRUE(result.ok);
  EXPECT_EQ(odlc::verifyPlan(buffers), "");
  EXPECT_EQ(result.arenaBytes, bruteForceOptimum(buffers));
  for (const PlanBuffer& b : buffers)
    EXPECT_EQ(b.offset % b.alignment, 0);
}

TEST(BufferPlanner, InvalidInputThrows) {
  std::vector<PlanBuffer> backwards = {buffer(7, 5, 4, 1)};
  EXPECT_THROW(odlc::planBuffers(backwards), std::invalid_argument);
  EXPECT_THROW(odlc::planLowerBound(backwards), std::invalid_argument);
  std::vector<PlanBuffer> negative = {buffer(1, 0, 4, -1)};
  EXPECT_THROW(odlc::planBuffers(negative), std::invalid_argument);
  std::vector<PlanBuffer> badAlign = {buffer(1, 0, 4, 1, 0)};
  EXPECT_THROW(odlc::planBuffers(badAlign), std::invalid_argument);
  try {
    odlc::planBuffers(backwards);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("buffer id 7"), std::string::npos) << e.what();
  }
}

TEST(BufferPlanner, ZeroBudgetStillGivesValidPlan) {
  Rng rng(9);
  std::vector<PlanBuffer> buffers = randomInstance(rng, 60, 30, 100, false);
  PlanOptions options;
  options.searchBudget = 0;
  PlanResult result = odlc::planBuffers(buffers, options);
  ASSERT_TRUE(result.ok);
  EXPECT_EQ(result.searchNodes, 0);
  EXPECT_EQ(odlc::verifyPlan(buffers), "");
}

TEST(PlanCsv, RoundTrip) {
  Rng rng(3);
  std::vector<PlanBuffer> buffers = randomInstance(rng, 40, 20, 1000, false);
  odlc::planBuffers(buffers);
  std::stringstream stream(toCsv(buffers));
  std::vector<PlanBuffer> back = odlc::readPlanCsv(stream);
  ASSERT_EQ(back.size(), buffers.size());
  for (size_t i = 0; i < back.size(); ++i) {
    EXPECT_EQ(back[i].id, buffers[i].id);
    EXPECT_EQ(back[i].lower, buffers[i].lower);
    EXPECT_EQ(back[i].upper, buffers[i].upper);
    EXPECT_EQ(back[i].size, buffers[i].size);
    EXPECT_EQ(back[i].offset, buffers[i].offset);
  }
  EXPECT_EQ(toCsv(back), toCsv(buffers));
}

TEST(BufferPlanner, LivePeakNamesItsFirstAndLastStep) {
  // 12 bytes live at step 2 and again at steps 6-7 (the last stretch starts at 6), 8 between;
  // a buffer ending at 6 does not meet one starting there, and a dead buffer adds nothing.
  std::vector<PlanBuffer> buffers = {buffer(1, 0, 9, 4),  buffer(2, 2, 3, 8), buffer(3, 3, 6, 4),
                                     buffer(4, 6, 8, 8),  buffer(5, 5, 5, 100)};
  odlc::LivePeak peak = odlc::livePeak(buffers);
  EXPECT_EQ(peak.bytes, 12);
  EXPECT_EQ(peak.firstStep, 2);
  EXPECT_EQ(peak.lastStep, 6);
  EXPECT_EQ(odlc::planLowerBound(buffers), 12);
  EXPECT_EQ(odlc::livePeak({}).bytes, 0);
}

TEST(PlanCsv, ReadsMiniMallocFormatWithoutOffsets) {
  std::stringstream in("id,lower,upper,size\r\n0,0,3,4\n1,3,9,4\n\n2,0,9,4\n");
  std::vector<PlanBuffer> buffers = odlc::readPlanCsv(in);
  ASSERT_EQ(buffers.size(), 3u);
  EXPECT_EQ(buffers[1].lower, 3);
  EXPECT_EQ(buffers[1].upper, 9);
  EXPECT_EQ(buffers[2].offset, -1);
  EXPECT_EQ(odlc::planLowerBound(buffers), 8);
}

TEST(PlanCsv, AlignmentColumnRoundTrips) {
  std::vector<PlanBuffer> buffers = {buffer(1, 0, 2, 10, 8), buffer(2, 1, 3, 6)};
  odlc::planBuffers(buffers);
  std::stringstream stream(toCsv(buffers));
  std::vector<PlanBuffer> back = odlc::readPlanCsv(stream);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].alignment, 8);
  EXPECT_EQ(back[1].offset, buffers[1].offset);
}

TEST(PlanCsv, ErrorsNameTheLine) {
  auto message = [](const std::string& text) {
    std::stringstream in(text);
    try {
      odlc::readPlanCsv(in);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("id,lower,size\n").find("line 1"), std::string::npos);
  EXPECT_NE(message("").find("line 1"), std::string::npos);
  EXPECT_NE(message("id,lower,upper,size\n1,0,2,4\n2,0,x,4\n").find("line 3"), std::string::npos);
  EXPECT_NE(message("id,lower,upper,size\n1,0,2\n").find("line 2"), std::string::npos);
  EXPECT_NE(message("id,lower,upper,size\n1,0,2,99999999999999999999\n").find("line 2"),
            std::string::npos);
  // What planBuffers() would reject is named with its line too.
  EXPECT_NE(message("id,lower,upper,size\n1,0,2,4\n2,3,1,4\n").find("line 3: upper"),
            std::string::npos);
  EXPECT_NE(message("id,lower,upper,size\n1,0,2,-4\n").find("line 2: negative size"),
            std::string::npos);
  EXPECT_NE(message("id,lower,upper,size,alignment\n1,0,2,4,0\n").find("line 2: alignment"),
            std::string::npos);
  EXPECT_NE(message("id,lower,upper,size\n5,0,2,4\n5,1,2,4\n").find("line 3: duplicate id 5"),
            std::string::npos);
}

TEST(VerifyPlan, AcceptsValidAndCatchesViolations) {
  std::vector<PlanBuffer> plan = {buffer(1, 0, 4, 8), buffer(2, 2, 6, 8, 4), buffer(3, 4, 8, 8)};
  plan[0].offset = 0;
  plan[1].offset = 8;
  plan[2].offset = 0;
  EXPECT_EQ(odlc::verifyPlan(plan), "");
  EXPECT_EQ(odlc::verifyPlan(plan, 16), "");
  EXPECT_NE(odlc::verifyPlan(plan, 15).find("capacity"), std::string::npos);

  std::vector<PlanBuffer> overlap = plan;
  overlap[1].offset = 4;
  std::string problem = odlc::verifyPlan(overlap);
  EXPECT_NE(problem.find("overlap"), std::string::npos) << problem;
  EXPECT_NE(problem.find("buffer id 1"), std::string::npos) << problem;
  EXPECT_EQ(problem.find('\n'), std::string::npos);

  std::vector<PlanBuffer> misaligned = plan;
  misaligned[1].offset = 10;
  EXPECT_NE(odlc::verifyPlan(misaligned).find("alignment"), std::string::npos);

  std::vector<PlanBuffer> unplaced = plan;
  unplaced[2].offset = -1;
  EXPECT_NE(odlc::verifyPlan(unplaced).find("not placed"), std::string::npos);

  // Touching in time (half-open intervals) or in space is not an overlap.
  std::vector<PlanBuffer> touching = {buffer(1, 0, 2, 4), buffer(2, 2, 4, 4), buffer(3, 0, 4, 4)};
  touching[0].offset = 0;
  touching[1].offset = 0;
  touching[2].offset = 4;
  EXPECT_EQ(odlc::verifyPlan(touching), "");
}

TEST(MiniMallocChallenging, InstancesReachTheLowerBound) {
  std::filesystem::path dir = ODLC_MINIMALLOC_DIR;
  if (dir.empty() || !std::filesystem::is_directory(dir))
    GTEST_SKIP() << "benchmark instances not found at '" << dir.string() << "'";
  // D and J have a lower bound below the 1 MiB capacity they were published
  // with; it is reachable (bench/plan_buffers/certificates), but only with far
  // more search than the planner's default budget. All 11 must fit the
  // published capacity, which is what "solved" means for MiniMalloc (its
  // solver decides "fits in --capacity"; it does not minimise the arena).
  struct Expectation {
    const char* name;
    double maxRatio;
  };
  const Expectation expectations[] = {{"A", 1.0}, {"B", 1.0},  {"C", 1.0}, {"D", 1.05},
                                      {"E", 1.0}, {"F", 1.0},  {"G", 1.0}, {"H", 1.0},
                                      {"I", 1.0}, {"J", 1.03}, {"K", 1.0}};
  for (const Expectation& e : expectations) {
    std::ifstream in(dir / (std::string(e.name) + ".1048576.csv"));
    ASSERT_TRUE(in) << e.name;
    std::vector<PlanBuffer> buffers = odlc::readPlanCsv(in);
    PlanOptions options;
    options.capacity = 1048576;  // the capacity the instances were published with
    PlanResult result = odlc::planBuffers(buffers, options);
    ASSERT_TRUE(result.ok) << e.name;
    EXPECT_EQ(odlc::verifyPlan(buffers, 1048576), "") << e.name;
    EXPECT_LE(double(result.arenaBytes), e.maxRatio * double(result.lowerBound)) << e.name;
    if (e.maxRatio == 1.0) {
      EXPECT_EQ(result.arenaBytes, result.lowerBound) << e.name;
      EXPECT_TRUE(result.provedOptimal) << e.name;
    }
  }
}

}  // namespace
