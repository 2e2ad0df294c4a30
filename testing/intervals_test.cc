#include "testing/intervals.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace conch::test {
namespace {

using ::testing::SizeIs;

constexpr int64_t kMs = 1000000;

TEST(ParseIntervalsTest, PairsStartAndEndAndFillsKilledOnes) {
  const char* log =
      "S g 10 5 -1 100\n"
      "S g 11 7 -1 150\n"
      "E g 10 5 -1 140\n"
      "garbage line\n"
      "S g 12 9 0 200\n";
  std::vector<Interval> iv = ParseIntervals(log, 1000, {{11, 300}});
  ASSERT_THAT(iv, SizeIs(3));
  EXPECT_EQ(iv[0].pid, 10);
  EXPECT_EQ(iv[0].end_ns, 140);
  EXPECT_TRUE(iv[0].end_written);
  EXPECT_EQ(iv[1].pid, 11);
  EXPECT_EQ(iv[1].end_ns, 300);  // observed death
  EXPECT_FALSE(iv[1].end_written);
  EXPECT_EQ(iv[2].end_ns, 1000);  // still running at the end
  EXPECT_EQ(iv[2].slot, 0);
}

TEST(CheckOverlapTest, HandoverIsNotOverlap) {
  std::vector<Interval> iv = {{"g", 1, 1, -1, 0, 100 * kMs, true},
                              {"g", 2, 2, -1, 100 * kMs, 200 * kMs, true}};
  OverlapReport r = CheckOverlap(iv, 1, {}, absl::Seconds(1));
  EXPECT_TRUE(r.over.empty());
  EXPECT_EQ(r.max_holders, 1);
}

TEST(CheckOverlapTest, OverlapWithoutAFaultIsAViolation) {
  std::vector<Interval> iv = {{"g", 1, 1, -1, 0, 100 * kMs, true},
                              {"g", 2, 2, -1, 90 * kMs, 200 * kMs, true}};
  OverlapReport r = CheckOverlap(iv, 1, {}, absl::Seconds(1));
  ASSERT_THAT(r.violations, SizeIs(1));
  EXPECT_EQ(r.violations[0].to_ns - r.violations[0].from_ns, 10 * kMs);
  EXPECT_THAT(r.Describe(iv), ::testing::HasSubstr("pid 2"));
}

TEST(CheckOverlapTest, OverlapInsideALossWindowIsAccountedPerKind) {
  std::vector<Interval> iv = {{"g", 1, 1, -1, 0, 120 * kMs, false},
                              {"g", 2, 2, -1, 100 * kMs, 300 * kMs, true}};
  std::vector<Fault> faults = {{"revoke", 95 * kMs, true, ""},
                               {"stop_short", 99 * kMs, false, ""}};
  OverlapReport r = CheckOverlap(iv, 1, faults, absl::Seconds(1));
  EXPECT_TRUE(r.violations.empty());
  ASSERT_THAT(r.over, SizeIs(1));
  EXPECT_EQ(r.over[0].blamed_kind, "revoke");
  EXPECT_EQ(r.max_window_by_kind["revoke"], absl::Milliseconds(20));
}

TEST(CheckOverlapTest, OverlapOutlastingTheWindowIsAViolation) {
  std::vector<Interval> iv = {{"g", 1, 1, -1, 0, 2000 * kMs, false},
                              {"g", 2, 2, -1, 100 * kMs, 3000 * kMs, true}};
  std::vector<Fault> faults = {{"kill", 50 * kMs, true, ""}};
  OverlapReport r = CheckOverlap(iv, 1, faults, absl::Seconds(1));
  EXPECT_THAT(r.violations, SizeIs(1));
}

TEST(CheckOverlapTest, CountsAgainstN) {
  std::vector<Interval> iv = {{"g", 1, 1, 0, 0, 100, true},
                              {"g", 2, 1, 1, 0, 100, true},
                              {"g", 3, 2, 2, 0, 100, true}};
  EXPECT_TRUE(CheckOverlap(iv, 3, {}, absl::Seconds(1)).over.empty());
  EXPECT_THAT(CheckOverlap(iv, 2, {}, absl::Seconds(1)).violations, SizeIs(1));
}

TEST(CheckTokensTest, TokensMustIncreasePerSlot) {
  std::vector<Interval> good = {{"g", 1, 5, 0, 0, 10, true},
                                {"g", 2, 3, 1, 1, 10, true},
                                {"g", 3, 8, 0, 20, 30, true},
                                {"g", 4, 9, 1, 20, 30, true}};
  EXPECT_TRUE(CheckTokens(good).empty());
  std::vector<Interval> bad = good;
  bad[2].token = 4;
  EXPECT_THAT(CheckTokens(bad), SizeIs(1));
}

}  // namespace
}  // namespace conch::test
