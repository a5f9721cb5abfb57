#pragma once
/// \file
/// Static memory planner: assigns arena offsets to buffers with known live
/// intervals so that buffers alive at the same time never share bytes, while
/// keeping the arena (max offset + size) as small as possible.
///
/// The problem is the dynamic storage allocation problem in the form used by
/// MiniMalloc (ASPLOS 2023): half-open live intervals [lower, upper) in
/// schedule steps, sizes in bytes, optional per-buffer alignment.

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

namespace odlc {

/// One buffer to place. Inputs: id, lower, upper, size, alignment. Output: offset.
struct PlanBuffer {
  int64_t id = 0;
  int64_t lower = 0;      ///< first step the buffer is live
  int64_t upper = 0;      ///< one past the last live step (half-open, as in MiniMalloc)
  int64_t size = 0;       ///< bytes
  int64_t alignment = 1;  ///< offset must be a multiple of this (>= 1)
  int64_t offset = -1;    ///< output; -1 when not placed
};

/// Knobs of planBuffers().
struct PlanOptions {
  /// Hard limit on the arena; planning fails (ok == false) if nothing fits.
  int64_t capacity = INT64_MAX;
  /// Bound on search work, counted in search nodes (not wall time), so that
  /// results are deterministic. A node costs about 0.3-2.5 microseconds on the
  /// MiniMalloc benchmark instances (a few hundred buffers); the search stops
  /// early when it reaches the lower bound or proves optimality, which is the
  /// common case for real models. 0 disables the exact search (heuristics only).
  int64_t searchBudget = 300000;
};

/// Outcome of planBuffers().
struct PlanResult {
  bool ok = false;             ///< every buffer placed within capacity
  int64_t arenaBytes = 0;      ///< max offset + size over all buffers (best found)
  int64_t lowerBound = 0;      ///< planLowerBound() of the input
  bool provedOptimal = false;  ///< arena == bound, or search proved no smaller arena exists
  int64_t searchNodes = 0;     ///< search nodes spent (diagnostics)
};

/// Assigns `offset` of every buffer. Dead buffers (lower == upper) and
/// zero-size buffers get offset 0. On failure (ok == false) every offset is -1
/// and arenaBytes holds the best arena found (0 if none).
/// Throws std::invalid_argument on invalid input (upper < lower, negative size,
/// alignment < 1). Deterministic: the same input gives the same output.
PlanResult planBuffers(std::vector<PlanBuffer>& buffers, const PlanOptions& options = {});

/// The most bytes live at one step (saturated at INT64_MAX), the first step
/// where they are live, and the step where their last stretch starts (0 and 0
/// when nothing is live).
struct LivePeak {
  int64_t bytes = 0;
  int64_t firstStep = 0, lastStep = 0;
};

/// Throws std::invalid_argument on invalid input.
LivePeak livePeak(const std::vector<PlanBuffer>& buffers);

/// Max over time of the sum of sizes live at that time: livePeak().bytes.
/// Throws std::invalid_argument on invalid input.
int64_t planLowerBound(const std::vector<PlanBuffer>& buffers);

/// Empty string when the plan is valid: every buffer placed, aligned, no two
/// time-overlapping buffers overlap in space, all within `capacity`.
/// Otherwise one line naming the first violation.
std::string verifyPlan(const std::vector<PlanBuffer>& buffers, int64_t capacity = INT64_MAX);

/// Reads the MiniMalloc CSV format: header `id,lower,upper,size` (an `offset`
/// and an `alignment` column are read if present; columns may be in any order).
/// Errors throw std::runtime_error with a one-line message naming the line: a field
/// that is not an integer, upper < lower, a negative size or alignment < 1, a repeated id.
std::vector<PlanBuffer> readPlanCsv(std::istream& in);

/// Writes `id,lower,upper,size,offset` (plus `alignment` when any buffer has one > 1).
void writePlanCsv(std::ostream& out, const std::vector<PlanBuffer>& buffers);

}  // namespace odlc
