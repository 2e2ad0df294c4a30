#include "conch/daemon/admission.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace conch::daemon {
namespace {

const absl::Time kInstant = absl::FromUnixSeconds(1780000000);

TEST(AdmissionTest, WithoutLimitsOrMeasurementsEverythingIsAdmitted) {
  Admission a({});
  EXPECT_EQ(a.Capacity(kInstant, kInstant, {.running = 100000}),
            Admission::kUnlimited);
}

TEST(AdmissionTest, MaxRunningCountsRunsQueuedStartsAndClaimsInFlight) {
  Admission a({.max_running = 10});
  EXPECT_EQ(a.Capacity(kInstant, kInstant, {}), 10);
  EXPECT_EQ(a.Capacity(kInstant, kInstant,
                       {.running = 4, .spawning = 2, .claiming = 1}),
            3);
  EXPECT_EQ(a.Capacity(kInstant, kInstant, {.running = 10}), 0);
  EXPECT_EQ(a.Capacity(kInstant, kInstant, {.running = 12}), 0);
}

TEST(AdmissionTest, TheStartRateBoundsWhatCanStartWithinTheBudget) {
  // 10 ms a start on 2 spawners, 5 s of budget (half of 10 s): 1000 starts.
  Admission a({.max_late = absl::Seconds(10), .spawners = 2, .budget = 0.5});
  a.RecordStart(absl::Milliseconds(10));
  EXPECT_EQ(a.start_cost(), absl::Milliseconds(10));
  EXPECT_EQ(a.Capacity(kInstant, kInstant, {}), 1000);
  // Starts already queued (or being claimed) come first.
  EXPECT_EQ(a.Capacity(kInstant, kInstant, {.spawning = 300, .claiming = 200}),
            500);
  // Running jobs do not queue on the spawners.
  EXPECT_EQ(a.Capacity(kInstant, kInstant, {.running = 5000}), 1000);
  // A tick already 4 s old has 1 s of budget left: 200 starts.
  EXPECT_EQ(a.Capacity(kInstant, kInstant + absl::Seconds(4), {}), 200);
  // Past the budget: nothing.
  EXPECT_EQ(a.Capacity(kInstant, kInstant + absl::Seconds(6), {}), 0);
}

TEST(AdmissionTest, TheTighterLimitWins) {
  // The rate allows 1000 starts within the budget.
  Admission a({.max_running = 5000, .max_late = absl::Seconds(10)});
  a.RecordStart(absl::Milliseconds(10));
  EXPECT_EQ(a.Capacity(kInstant, kInstant, {.running = 4950}), 50);
  EXPECT_EQ(a.Capacity(kInstant, kInstant, {.spawning = 990}), 10);
  EXPECT_EQ(a.Capacity(kInstant, kInstant, {.spawning = 1200}), 0);
}

TEST(AdmissionTest, TheCostFollowsRecentStarts) {
  Admission a({});
  a.RecordStart(absl::Milliseconds(2));
  for (int i = 0; i < 100; ++i) a.RecordStart(absl::Milliseconds(20));
  // After 100 dearer starts the average is close to the new cost.
  EXPECT_GT(a.start_cost(), absl::Milliseconds(19));
  EXPECT_LE(a.start_cost(), absl::Milliseconds(20));
  a.RecordStart(-absl::Milliseconds(5));  // a clock step: counted as 0
  EXPECT_LT(a.start_cost(), absl::Milliseconds(20));
  EXPECT_GT(a.start_cost(), absl::Milliseconds(18));
}

TEST(AdmissionTest, LateStartsCutTheLimitAndOnTimeSecondsRaiseIt) {
  Admission a({.max_late = absl::Seconds(10)});
  absl::Time now = kInstant;
  // On time: nothing changes while the limit is unlimited.
  a.RecordLag(absl::Milliseconds(100), 500, now);
  EXPECT_EQ(a.adaptive_limit(), Admission::kUnlimited);
  // A start 3 s late (over a quarter of --max-late) with 1000 committed:
  // the limit becomes 700.
  now += absl::Milliseconds(200);
  EXPECT_TRUE(a.RecordLag(absl::Seconds(3), 1000, now));
  EXPECT_EQ(a.adaptive_limit(), 700);
  EXPECT_EQ(a.cut_reason(), "a start 3s late");
  EXPECT_EQ(a.Capacity(now, now, {.running = 650}), 50);
  EXPECT_EQ(a.Capacity(now, now, {.running = 800}), 0);
  // Another late start within the second does not cut again.
  EXPECT_FALSE(
      a.RecordLag(absl::Seconds(4), 1000, now + absl::Milliseconds(500)));
  EXPECT_EQ(a.adaptive_limit(), 700);
  // A second later it does, from what is committed then.
  now += absl::Seconds(1);
  a.RecordLag(absl::Seconds(4), 600, now);
  EXPECT_EQ(a.adaptive_limit(), 420);
  // A whole second of on-time starts (under 1.25 s), then the next second
  // begins: +10 % (at least 16).
  now += absl::Seconds(1);
  a.RecordLag(absl::Milliseconds(50), 400, now);
  a.RecordLag(absl::Milliseconds(60), 400, now + absl::Milliseconds(400));
  now += absl::Seconds(1);
  a.RecordLag(absl::Milliseconds(50), 400, now);
  EXPECT_EQ(a.adaptive_limit(), 462);
  // A second with a start between 1.25 s and 2.5 s: no raise, no cut.
  a.RecordLag(absl::Seconds(2), 400, now + absl::Milliseconds(100));
  now += absl::Seconds(1);
  a.RecordLag(absl::Milliseconds(50), 400, now);
  EXPECT_EQ(a.adaptive_limit(), 462);
}

// Starts on time, runs starved: a job that takes 3 ms alone takes 2 s.
TEST(AdmissionTest, StretchedRunsCutTheLimit) {
  Admission a({.max_late = absl::Seconds(10)});
  absl::Time now = kInstant;
  for (int j = 0; j < 20; ++j) {
    a.RecordEnd(absl::StrCat("j", j), absl::Milliseconds(3), 100, now);
  }
  EXPECT_EQ(a.adaptive_limit(), Admission::kUnlimited);
  now += absl::Seconds(1);
  // Seven stretched runs in a second are not enough...
  for (int j = 0; j < 7; ++j) {
    a.RecordEnd(absl::StrCat("j", j), absl::Seconds(2), 1000, now);
  }
  now += absl::Seconds(1);
  a.RecordEnd("j19", absl::Milliseconds(3), 1000, now);
  EXPECT_EQ(a.adaptive_limit(), Admission::kUnlimited);
  // ...eight are, when they are half of the runs that ended; the cut comes
  // as the next second begins, from what is committed then.
  for (int j = 0; j < 8; ++j) {
    a.RecordEnd(absl::StrCat("j", j), absl::Seconds(2), 1000, now);
  }
  EXPECT_EQ(a.adaptive_limit(), Admission::kUnlimited);
  now += absl::Seconds(1);
  EXPECT_TRUE(a.RecordEnd("j19", absl::Milliseconds(3), 1000, now));
  EXPECT_EQ(a.adaptive_limit(), 700);
  EXPECT_EQ(a.cut_reason(), "8 of 9 runs stretched");
  // A pile-up that lasts is cut again the next second.
  for (int j = 0; j < 8; ++j) {
    a.RecordEnd(absl::StrCat("j", j), absl::Seconds(3), 600, now);
  }
  now += absl::Seconds(1);
  a.RecordEnd("j19", absl::Milliseconds(3), 600, now);
  EXPECT_EQ(a.adaptive_limit(), 420);
  // A clean second raises.
  now += absl::Seconds(1);
  a.RecordEnd("j1", absl::Milliseconds(3), 400, now);
  EXPECT_EQ(a.adaptive_limit(), 462);
}

TEST(AdmissionTest, RunsThatVaryOrAreFewDoNotCut) {
  Admission a({.max_late = absl::Seconds(10)});
  absl::Time now = kInstant;
  // Under the floor (250 ms): 3 ms then 990 ms is not stretched.
  for (int j = 0; j < 20; ++j) {
    a.RecordEnd(absl::StrCat("j", j), absl::Milliseconds(3), 100, now);
  }
  now += absl::Seconds(1);
  for (int j = 0; j < 20; ++j) {
    a.RecordEnd(absl::StrCat("j", j), absl::Milliseconds(990), 100, now);
  }
  EXPECT_EQ(a.adaptive_limit(), Admission::kUnlimited);
  // A first run is never stretched (nothing to compare with).
  for (int j = 0; j < 20; ++j) {
    a.RecordEnd(absl::StrCat("new", j), absl::Hours(1), 100, now);
  }
  EXPECT_EQ(a.adaptive_limit(), Admission::kUnlimited);
  // Stretched runs among many that are not, even first in the second:
  // no cut.
  now += absl::Seconds(1);
  for (int j = 0; j < 10; ++j) {
    a.RecordEnd(absl::StrCat("j", j), absl::Seconds(5), 100, now);
  }
  for (int k = 0; k < 20; ++k) {
    a.RecordEnd(absl::StrCat("new", k % 20), absl::Hours(1), 100, now);
  }
  now += absl::Seconds(1);
  a.RecordEnd("j19", absl::Milliseconds(3), 100, now);
  EXPECT_EQ(a.adaptive_limit(), Admission::kUnlimited);
  // A forgotten job starts over: its next run is a first one (without
  // ForgetJob, eight of eight would be stretched).
  for (int j = 0; j < 8; ++j) a.ForgetJob(absl::StrCat("j", j));
  for (int j = 0; j < 8; ++j) {
    a.RecordEnd(absl::StrCat("j", j), absl::Seconds(5), 100, now);
  }
  now += absl::Seconds(1);
  a.RecordEnd("j19", absl::Milliseconds(3), 100, now);
  EXPECT_EQ(a.adaptive_limit(), Admission::kUnlimited);
}

TEST(AdmissionTest, TheAdaptiveLimitNeverGoesBelowTheMinimum) {
  Admission a({.max_late = absl::Seconds(10)});
  a.RecordLag(absl::Seconds(9), 3, kInstant);
  EXPECT_EQ(a.adaptive_limit(), Admission::kMinLimit);
}

}  // namespace
}  // namespace conch::daemon
