/// \file The channel choice of the sparse update (seed 003 sec. 4.4), as plain functions the
/// sparse-update pass calls and unit tests check: how many channels a fraction p keeps, and
/// which ones each static policy picks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace odlc {

/// The fraction P of `--sparse P`: a number in (0, 1]; nullopt for anything else.
std::optional<double> sparseFraction(const std::string &text);

/// Channels a fraction p of `channels` keeps: max(1, round(p * channels)).
int64_t sparseCount(double p, int64_t channels);

/// Velocity (NEq, seed 004) starts from the magnitude choice; the runtime then re-selects the
/// output channels every epoch (odlc_learn_velocity.c).
enum class ChannelPolicy { First, Magnitude, Random, Velocity };

/// "first", "magnitude", ...
const char *channelPolicyName(ChannelPolicy policy);

/// Parses first | magnitude | random | velocity; false for anything else.
bool channelPolicyFromName(const std::string &name, ChannelPolicy &policy);

/// `count` of the channels 0..scores.size()-1, ascending:
///   First      0 .. count-1
///   Magnitude  the largest scores (L1 weight magnitudes); ties go to the lower index
///   Velocity   as Magnitude (the start of the dynamic selection)
///   Random     a uniform choice from a fixed-seed generator (deterministic in `seed`)
std::vector<int64_t> chooseChannels(ChannelPolicy policy, const std::vector<double> &scores,
                                    int64_t count, uint64_t seed);

} // namespace odlc
