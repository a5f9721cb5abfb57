#include <algorithm>
#include <string>

#include "solvers/BufferPlanner.h"

namespace odlc {

namespace {

std::string name(const PlanBuffer& b) { return "buffer id " + std::to_string(b.id); }

/// Problem with a single buffer, or "" when it is well-formed, placed,
/// aligned and inside the capacity.
std::string checkOne(const PlanBuffer& b, int64_t capacity) {
  if (b.upper < b.lower || b.size < 0 || b.alignment < 1)
    return name(b) + ": invalid interval, size or alignment";
  if (b.offset < 0)
    return name(b) + ": not placed (offset " + std::to_string(b.offset) + ")";
  if (b.offset % b.alignment != 0)
    return name(b) + ": offset " + std::to_string(b.offset) + " is not a multiple of alignment " +
           std::to_string(b.alignment);
  bool occupies = b.size > 0 && b.lower < b.upper;  // dead or empty buffers use no arena
  if (occupies && (b.offset > capacity || b.size > capacity - b.offset))
    return name(b) + ": offset " + std::to_string(b.offset) + " + size " +
           std::to_string(b.size) + " exceeds capacity " + std::to_string(capacity);
  return "";
}

/// Problem with a pair of buffers that overlap in time, or "".
std::string checkPair(const PlanBuffer& a, const PlanBuffer& b) {
  bool disjoint = a.offset + a.size <= b.offset || b.offset + b.size <= a.offset;
  if (disjoint)
    return "";
  return name(a) + " [" + std::to_string(a.offset) + ", " + std::to_string(a.offset + a.size) +
         ") and " + name(b) + " [" + std::to_string(b.offset) + ", " +
         std::to_string(b.offset + b.size) + ") overlap in space while both live during [" +
         std::to_string(std::max(a.lower, b.lower)) + ", " +
         std::to_string(std::min(a.upper, b.upper)) + ")";
}

}  // namespace

std::string verifyPlan(const std::vector<PlanBuffer>& buffers, int64_t capacity) {
  for (const PlanBuffer& b : buffers)
    if (std::string problem = checkOne(b, capacity); !problem.empty())
      return problem;
  // Only buffers with bytes and a non-empty lifetime can collide.
  std::vector<size_t> order;
  for (size_t i = 0; i < buffers.size(); ++i)
    if (buffers[i].size > 0 && buffers[i].lower < buffers[i].upper)
      order.push_back(i);
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return buffers[x].lower != buffers[y].lower ? buffers[x].lower < buffers[y].lower : x < y;
  });
  for (size_t i = 0; i < order.size(); ++i) {
    const PlanBuffer& a = buffers[order[i]];
    for (size_t j = i + 1; j < order.size() && buffers[order[j]].lower < a.upper; ++j)
      if (std::string problem = checkPair(a, buffers[order[j]]); !problem.empty())
        return problem;
  }
  return "";
}

}  // namespace odlc
