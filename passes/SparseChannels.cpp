#include "SparseChannels.h"

#include "Diagnostics.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>

namespace odlc {

std::optional<double> sparseFraction(const std::string &text) {
  if (text.empty())
    return std::nullopt;
  char *end = nullptr;
  double p = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !(p > 0.0 && p <= 1.0))
    return std::nullopt;
  return p;
}

int64_t sparseCount(double p, int64_t channels) {
  return std::clamp<int64_t>(int64_t(std::llround(p * double(channels))), 1, channels);
}

bool channelPolicyFromName(const std::string &name, ChannelPolicy &policy) {
  if (name == "first")
    policy = ChannelPolicy::First;
  else if (name == "magnitude")
    policy = ChannelPolicy::Magnitude;
  else if (name == "random")
    policy = ChannelPolicy::Random;
  else if (name == "velocity")
    policy = ChannelPolicy::Velocity;
  else
    return false;
  return true;
}

const char *channelPolicyName(ChannelPolicy policy) {
  switch (policy) {
  case ChannelPolicy::First: return "first";
  case ChannelPolicy::Magnitude: return "magnitude";
  case ChannelPolicy::Random: return "random";
  case ChannelPolicy::Velocity: return "velocity";
  }
  return "first";
}

namespace {

/// splitmix64: a tiny generator whose sequence is the same on every platform (the standard
/// library's distributions are not).
uint64_t nextRandom(uint64_t &state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

} // namespace

std::vector<int64_t> chooseChannels(ChannelPolicy policy, const std::vector<double> &scores,
                                    int64_t count, uint64_t seed) {
  int64_t total = int64_t(scores.size());
  ODLC_ASSERT(count >= 1 && count <= total, "choosing {} of {} channels", count, total);
  std::vector<int64_t> order(static_cast<size_t>(total));
  std::iota(order.begin(), order.end(), 0);
  if (policy == ChannelPolicy::Magnitude || policy == ChannelPolicy::Velocity)
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return scores[size_t(a)] > scores[size_t(b)]; });
  if (policy == ChannelPolicy::Random) {
    uint64_t state = seed;
    for (int64_t i = 0; i < count; ++i) // partial Fisher-Yates
      std::swap(order[size_t(i)], order[size_t(i + int64_t(nextRandom(state) %
                                                           uint64_t(total - i)))]);
  }
  order.resize(size_t(count));
  std::sort(order.begin(), order.end());
  return order;
}

} // namespace odlc
