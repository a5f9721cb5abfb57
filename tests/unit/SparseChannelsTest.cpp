// The sparse update's channel choice (passes/SparseChannels.h): counts, policies, determinism.
#include "SparseAuto.h"
#include "SparseChannels.h"

#include <gtest/gtest.h>

namespace odlc {
namespace {

TEST(SparseChannels, FractionParsesOnlyNumbersInTheUnitInterval) {
  EXPECT_EQ(sparseFraction("0.5"), 0.5);
  EXPECT_EQ(sparseFraction("1"), 1.0);
  EXPECT_FALSE(sparseFraction("0"));
  EXPECT_FALSE(sparseFraction("1.01"));
  EXPECT_FALSE(sparseFraction("-0.5"));
  EXPECT_FALSE(sparseFraction("0.5x"));
  EXPECT_FALSE(sparseFraction(""));
  EXPECT_FALSE(sparseFraction("nan"));
}

TEST(SparseChannels, CountRoundsAndKeepsAtLeastOne) {
  EXPECT_EQ(sparseCount(0.5, 8), 4);
  EXPECT_EQ(sparseCount(0.75, 6), 5); // 4.5 rounds away from zero
  EXPECT_EQ(sparseCount(0.5, 3), 2);
  EXPECT_EQ(sparseCount(0.01, 10), 1);
  EXPECT_EQ(sparseCount(1.0, 7), 7);
}

TEST(SparseChannels, FirstTakesTheLeadingChannels) {
  EXPECT_EQ(chooseChannels(ChannelPolicy::First, {9, 8, 7, 6, 5}, 3, 1),
            (std::vector<int64_t>{0, 1, 2}));
}

TEST(SparseChannels, MagnitudeTakesTheLargestAscendingWithTiesToTheLowerIndex) {
  EXPECT_EQ(chooseChannels(ChannelPolicy::Magnitude, {1, 5, 3, 5, 0, 4}, 3, 1),
            (std::vector<int64_t>{1, 3, 5}));
  EXPECT_EQ(chooseChannels(ChannelPolicy::Magnitude, {2, 2, 2, 2}, 2, 1),
            (std::vector<int64_t>{0, 1}));
}

TEST(SparseChannels, RandomIsDeterministicDistinctAndSeeded) {
  std::vector<double> scores(64, 0.0);
  std::vector<int64_t> a = chooseChannels(ChannelPolicy::Random, scores, 16, 7);
  EXPECT_EQ(a, chooseChannels(ChannelPolicy::Random, scores, 16, 7));
  EXPECT_NE(a, chooseChannels(ChannelPolicy::Random, scores, 16, 8));
  ASSERT_EQ(a.size(), 16u);
  for (size_t i = 1; i < a.size(); ++i)
    EXPECT_LT(a[i - 1], a[i]);
  EXPECT_GE(a.front(), 0);
  EXPECT_LT(a.back(), 64);
  EXPECT_EQ(chooseChannels(ChannelPolicy::Random, scores, 64, 3).size(), 64u);
}

TEST(SparseChannels, PolicyNames) {
  ChannelPolicy p;
  EXPECT_TRUE(channelPolicyFromName("magnitude", p));
  EXPECT_EQ(p, ChannelPolicy::Magnitude);
  EXPECT_TRUE(channelPolicyFromName("velocity", p));
  EXPECT_EQ(p, ChannelPolicy::Velocity);
  EXPECT_STREQ(channelPolicyName(p), "velocity");
  EXPECT_FALSE(channelPolicyFromName("fastest", p));
}

TEST(SparseChannels, VelocityStartsFromTheMagnitudeChoice) {
  std::vector<double> scores = {0.5, 3.0, 1.0, 2.0};
  EXPECT_EQ(chooseChannels(ChannelPolicy::Velocity, scores, 2, 1),
            chooseChannels(ChannelPolicy::Magnitude, scores, 2, 1));
}

} // namespace
} // namespace odlc

// --sparse auto's ladder: from all at the minimum to all dense, one group one level per step,
// layers whose capacity costs the least kept activation first; no density ever falls.
TEST(SparseAuto, LadderRaisesCheapCapacityFirstAndNeverLowersADensity) {
  // kept / params: 100, 1, 10, 1000, 0.5 -> groups (4 of 5 layers) in order 4, 1, 2, 0+3.
  std::vector<odlc::SparseLayer> layers = {
      {0, 1000, 10}, {1, 10, 10}, {2, 100, 10}, {3, 10000, 10}, {4, 5, 10}};
  std::vector<std::vector<double>> ladder = odlc::densityLadder(layers);
  ASSERT_EQ(ladder.size(), 1u + 4u * 4u);
  EXPECT_EQ(ladder.front(), std::vector<double>(5, odlc::kAutoMinDensity));
  EXPECT_EQ(ladder.back(), std::vector<double>(5, 1.0));
  EXPECT_EQ(ladder[1], (std::vector<double>{0.5, 0.5, 0.5, 0.5, 0.625}));
  EXPECT_EQ(ladder[2], (std::vector<double>{0.5, 0.625, 0.5, 0.5, 0.625}));
  EXPECT_EQ(ladder[4], (std::vector<double>{0.625, 0.625, 0.625, 0.625, 0.625}));
  for (size_t k = 1; k < ladder.size(); ++k) {
    bool raised = false;
    for (size_t i = 0; i < layers.size(); ++i) {
      EXPECT_GE(ladder[k][i], ladder[k - 1][i]) << "step " << k << " layer " << i;
      raised = raised || ladder[k][i] > ladder[k - 1][i];
    }
    EXPECT_TRUE(raised) << "step " << k << " changes nothing";
  }
}

TEST(SparseAuto, NoLayerGivesOneEmptyStep) {
  EXPECT_EQ(odlc::densityLadder({}).size(), 1u);
  EXPECT_EQ(odlc::densityRange({0.5, 0.875}), "0.5 to 0.875");
  EXPECT_EQ(odlc::densityRange({0.75, 0.75}), "0.75");
}
