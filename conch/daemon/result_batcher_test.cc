// When results go out, with a fake monotonic clock: they wait while a
// burst is being started, go out kQuiet after the last start, at most
// every kQuiet after that, never later than kMaxWait, at once when the
// daemon stops, and in batches of the Txn size.
#include "conch/daemon/result_batcher.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "conch/daemon/run_table.h"
#include "core/base/mono_time.h"
#include "core/cron/cron.h"
#include "gtest/gtest.h"

namespace conch::daemon {
namespace {

const MonoTime kT0 = MonoTime::FromNanos(1'000'000'000'000);
constexpr absl::Duration kMs = absl::Milliseconds(1);

RunOutcome Outcome(int i) {
  auto job = std::make_shared<etcd::CronJob>();
  job->name = absl::StrCat("job-", i);
  job->encoded = job->name;
  return RunOutcome{Tick{job, absl::FromUnixSeconds(i)}, {}, "ok"};
}

size_t Count(const std::vector<std::vector<RunOutcome>>& batches) {
  size_t n = 0;
  for (const auto& b : batches) n += b.size();
  return n;
}

TEST(ResultBatcherTest, NothingIsDueWithoutResults) {
  ResultBatcher r(64);
  EXPECT_EQ(r.Due(false), MonoTime::Infinite());
  EXPECT_TRUE(r.TakeDue(kT0, false, true).empty());
}

TEST(ResultBatcherTest, WaitsForTheBurstToEndThenForQuiet) {
  ResultBatcher r(64);
  r.NoteStart(kT0);
  r.Add(Outcome(1), kT0 + 10 * kMs);
  // While spawning: only the max wait bounds it.
  EXPECT_EQ(r.Due(/*spawning=*/true), kT0 + 10 * kMs + ResultBatcher::kMaxWait);
  EXPECT_TRUE(r.TakeDue(kT0 + 500 * kMs, true, false).empty());
  // The burst ended with a start at +600 ms: kQuiet after it.
  r.NoteStart(kT0 + 600 * kMs);
  EXPECT_EQ(r.Due(false), kT0 + 600 * kMs + ResultBatcher::kQuiet);
  EXPECT_TRUE(r.TakeDue(kT0 + 699 * kMs, false, false).empty());
  EXPECT_EQ(Count(r.TakeDue(kT0 + 700 * kMs, false, false)), 1u);
  EXPECT_TRUE(r.empty());
}

TEST(ResultBatcherTest, AtMostOneFlushPerQuietPeriod) {
  ResultBatcher r(64);
  r.Add(Outcome(1), kT0);
  EXPECT_EQ(Count(r.TakeDue(kT0, false, false)), 1u);  // idle: at once
  r.Add(Outcome(2), kT0 + 20 * kMs);
  EXPECT_EQ(r.Due(false), kT0 + ResultBatcher::kQuiet);
  EXPECT_TRUE(r.TakeDue(kT0 + 50 * kMs, false, false).empty());
  r.Add(Outcome(3), kT0 + 60 * kMs);
  EXPECT_EQ(Count(r.TakeDue(kT0 + 100 * kMs, false, false)), 2u);
}

TEST(ResultBatcherTest, ADaemonThatNeverStopsStartingStillWrites) {
  ResultBatcher r(64);
  r.Add(Outcome(1), kT0);
  for (int i = 1; i < 10; ++i) {
    r.NoteStart(kT0 + i * 100 * kMs);
    EXPECT_TRUE(r.TakeDue(kT0 + i * 100 * kMs, true, false).empty()) << i;
  }
  EXPECT_EQ(Count(r.TakeDue(kT0 + ResultBatcher::kMaxWait, true, false)), 1u);
}

TEST(ResultBatcherTest, AStoppingDaemonWritesAtOnce) {
  ResultBatcher r(64);
  r.NoteStart(kT0);
  r.Add(Outcome(1), kT0);
  EXPECT_EQ(Count(r.TakeDue(kT0, true, /*now_anyway=*/true)), 1u);
}

TEST(ResultBatcherTest, CutsBatchesOfTheTxnSizeInOrder) {
  ResultBatcher r(64);
  for (int i = 0; i < 130; ++i) r.Add(Outcome(i), kT0);
  EXPECT_EQ(r.size(), 130u);
  std::vector<std::vector<RunOutcome>> b = r.TakeDue(kT0, false, true);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].size(), 64u);
  EXPECT_EQ(b[1].size(), 64u);
  EXPECT_EQ(b[2].size(), 2u);
  EXPECT_EQ(b[0][0].tick.job->name, "job-0");
  EXPECT_EQ(b[2][1].tick.job->name, "job-129");
}

}  // namespace
}  // namespace conch::daemon
