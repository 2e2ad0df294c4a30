// JobTable with a fake clock: which ticks are due, never one before the
// daemon started, a changed definition's ticks from the change on, ticks
// by instant across jobs, and no scan while nothing is due.
#include "conch/daemon/job_table.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/cron/cron.h"
#include "gtest/gtest.h"

namespace conch::daemon {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);  // :00 UTC

etcd::CronJob Job(const std::string& name, const std::string& schedule,
                  const std::string& tz = "UTC") {
  etcd::CronJob job;
  job.name = name;
  job.encoded = name;
  job.job.set_schedule(schedule);
  job.job.set_tz(tz);
  job.job.add_argv("true");
  return job;
}

std::vector<absl::Time> Instants(const std::vector<Tick>& ticks) {
  std::vector<absl::Time> out;
  for (const Tick& t : ticks) out.push_back(t.instant);
  return out;
}

TEST(JobTableTest, HandsOutEachTickOnceWhenItsInstantComes) {
  JobTable table(kT0);
  ASSERT_TRUE(table.Upsert(Job("a", "@every 10s"), kT0).ok());
  EXPECT_EQ(table.next_due(), kT0);
  EXPECT_EQ(Instants(table.TakeDue(kT0)), std::vector<absl::Time>{kT0});
  EXPECT_TRUE(table.TakeDue(kT0 + absl::Seconds(9)).empty());
  EXPECT_EQ(table.next_due(), kT0 + absl::Seconds(10));
  const std::vector<Tick> due = table.TakeDue(kT0 + absl::Seconds(10));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].job->name, "a");
  EXPECT_EQ(due[0].instant, kT0 + absl::Seconds(10));
}

TEST(JobTableTest, ATickMissedByTheLoopIsStillHandedOutOldestFirst) {
  JobTable table(kT0);
  ASSERT_TRUE(table.Upsert(Job("a", "@every 1s"), kT0).ok());
  // The loop woke 2.5 s late: every tick since is due (none is older
  // than the bound here).
  EXPECT_EQ(Instants(table.TakeDue(kT0 + absl::Milliseconds(2500))),
            (std::vector<absl::Time>{kT0, kT0 + absl::Seconds(1),
                                     kT0 + absl::Seconds(2)}));
  EXPECT_EQ(table.next_due(), kT0 + absl::Seconds(3));
}

// A loop that slept through an hour (a suspend, SIGSTOP) with --max-late
// 10s: what is older than the bound is one MissedTicks per job, not 3,590
// Ticks each; the rest is handed out; an instant exactly at the bound is
// still on time.
TEST(JobTableTest, TicksOlderThanTheBoundAreCountedPerJobNotHandedOut) {
  JobTable table(kT0);
  ASSERT_TRUE(table.Upsert(Job("a", "@every 1s"), kT0).ok());
  ASSERT_TRUE(table.Upsert(Job("b", "@every 1m"), kT0).ok());
  ASSERT_TRUE(table.Upsert(Job("c", "@every 2h"), kT0).ok());
  EXPECT_EQ(Instants(table.TakeDue(kT0)),
            (std::vector<absl::Time>{kT0, kT0, kT0}));
  const absl::Time now = kT0 + absl::Hours(1);
  const absl::Time oldest = now - absl::Seconds(10);
  JobTable::Due due = table.TakeDue(now, oldest);
  ASSERT_EQ(due.missed.size(), 2u);  // c has no tick in the hour
  for (const MissedTicks& m : due.missed) {
    if (m.job->name == "a") {
      EXPECT_EQ(m.count, 3589);  // 1 s … 3589 s
      EXPECT_EQ(m.first, kT0 + absl::Seconds(1));
      EXPECT_EQ(m.last, oldest - absl::Seconds(1));
      EXPECT_EQ(m.Text(),
                "job a: 3589 tick(s) from 2027-01-15T08:00:01.000Z to "
                "2027-01-15T08:59:49.000Z missed (too late), not run");
    } else {
      EXPECT_EQ(m.job->name, "b");
      EXPECT_EQ(m.count, 59);  // 1 m … 59 m; 60 m is `now`: on time
      EXPECT_EQ(m.first, kT0 + absl::Minutes(1));
      EXPECT_EQ(m.last, kT0 + absl::Minutes(59));
    }
  }
  std::vector<absl::Time> want;
  for (int s = 3590; s <= 3600; ++s) want.push_back(kT0 + absl::Seconds(s));
  want.push_back(now);                 // b's, after a's (by instant, then name)
  EXPECT_EQ(Instants(due.due), want);  // 3590 s is exactly at the bound
  EXPECT_EQ(table.next_due(), now + absl::Seconds(1));
  // Nothing missed twice.
  EXPECT_TRUE(table.TakeDue(now + absl::Seconds(1), oldest).missed.empty());
}

// Issue 18: the jobs are kept in the order of their next tick, so ticks
// come out by instant across jobs, and a removed or changed job leaves no
// stale entry behind.
TEST(JobTableTest, TicksComeOutByInstantAcrossManyJobs) {
  JobTable table(kT0);
  // 10,000 daily jobs at 06:00, and two frequent ones.
  for (int i = 0; i < 10000; ++i) {
    ASSERT_TRUE(
        table.Upsert(Job(absl::StrCat("daily", i), "0 6 * * *"), kT0).ok());
  }
  ASSERT_TRUE(table.Upsert(Job("b", "@every 3s"), kT0).ok());
  ASSERT_TRUE(table.Upsert(Job("a", "@every 2s"), kT0).ok());
  std::vector<std::string> names;
  const std::vector<Tick> due = table.TakeDue(kT0 + absl::Seconds(4));
  for (const Tick& t : due) names.push_back(t.job->name);
  EXPECT_EQ(Instants(due),
            (std::vector<absl::Time>{kT0, kT0, kT0 + absl::Seconds(2),
                                     kT0 + absl::Seconds(3),
                                     kT0 + absl::Seconds(4)}));
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "a", "b", "a"}));
  EXPECT_EQ(table.next_due(), kT0 + absl::Seconds(6));
  // Replaced and erased jobs are gone from the order too.
  ASSERT_TRUE(
      table.Upsert(Job("a", "@every 10s"), kT0 + absl::Seconds(5)).ok());
  table.Erase("b");
  EXPECT_EQ(table.next_due(), kT0 + absl::Seconds(10));
  EXPECT_EQ(Instants(table.TakeDue(kT0 + absl::Seconds(10))),
            (std::vector<absl::Time>{kT0 + absl::Seconds(10)}));
  // A schedule that no longer parses drops the job and its place.
  etcd::CronJob bad = Job("a", "not a schedule");
  EXPECT_FALSE(table.Upsert(bad, kT0 + absl::Seconds(11)).ok());
  EXPECT_EQ(table.size(), 10000u);
  const absl::Time six = table.next_due();  // the next 06:00 UTC
  EXPECT_GT(six, kT0 + absl::Seconds(11));
  EXPECT_LE(six, kT0 + absl::Hours(24));
  EXPECT_TRUE(table.TakeDue(six - absl::Seconds(1)).empty());
  EXPECT_EQ(table.TakeDue(six).size(), 10000u);
  table.Clear();
  EXPECT_EQ(table.next_due(), absl::InfiniteFuture());
}

TEST(JobTableTest, NeverATickBeforeTheDaemonStarted) {
  const absl::Time start = kT0 + absl::Milliseconds(1);
  JobTable table(start);
  // Seen before the start (a list read just before): still no tick at kT0.
  ASSERT_TRUE(table.Upsert(Job("a", "@every 1s"), kT0).ok());
  EXPECT_EQ(table.next_due(), kT0 + absl::Seconds(1));
  EXPECT_TRUE(table.TakeDue(kT0 + absl::Milliseconds(999)).empty());
}

TEST(JobTableTest, AChangedDefinitionTicksFromTheChangeOn) {
  JobTable table(kT0);
  ASSERT_TRUE(table.Upsert(Job("a", "@every 10s"), kT0).ok());
  table.TakeDue(kT0);
  // Replaced at +12 s by a 1 s schedule: its ticks from +12 s on, none of
  // the old schedule's (+20 s) nor any before the change.
  ASSERT_TRUE(
      table.Upsert(Job("a", "@every 1s"), kT0 + absl::Seconds(12)).ok());
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(Instants(table.TakeDue(kT0 + absl::Seconds(13))),
            (std::vector<absl::Time>{kT0 + absl::Seconds(12),
                                     kT0 + absl::Seconds(13)}));
}

TEST(JobTableTest, ABadScheduleIsRefusedAndDropsTheOldDefinition) {
  JobTable table(kT0);
  ASSERT_TRUE(table.Upsert(Job("a", "@every 1s"), kT0).ok());
  absl::Status bad = table.Upsert(Job("a", "61 * * * *"), kT0);
  EXPECT_TRUE(absl::IsInvalidArgument(bad)) << bad;
  EXPECT_EQ(table.Find("a"), nullptr);
  EXPECT_TRUE(table.TakeDue(kT0 + absl::Seconds(5)).empty());
  absl::Status zone = table.Upsert(Job("b", "@every 1s", "Mars/Olympus"), kT0);
  EXPECT_TRUE(absl::IsInvalidArgument(zone)) << zone;
}

TEST(JobTableTest, ErasedAndClearedJobsTickNoMore) {
  JobTable table(kT0);
  ASSERT_TRUE(table.Upsert(Job("a", "@every 1s"), kT0).ok());
  ASSERT_TRUE(table.Upsert(Job("b", "@every 1s"), kT0).ok());
  table.Erase("a");
  ASSERT_NE(table.Find("b"), nullptr);
  std::vector<Tick> due = table.TakeDue(kT0);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].job->name, "b");
  table.Clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.next_due(), absl::InfiniteFuture());
  EXPECT_TRUE(table.TakeDue(kT0 + absl::Seconds(5)).empty());
}

TEST(JobTableTest, TicksFollowTheJobsZone) {
  const absl::Time before = absl::FromCivil(
      absl::CivilSecond(2027, 3, 27, 12, 0, 0), absl::UTCTimeZone());
  JobTable berlin(before);
  ASSERT_TRUE(
      berlin.Upsert(Job("b", "0 9 * * *", "Europe/Berlin"), before).ok());
  // 09:00 in Berlin on the 28th is 07:00 UTC (summer time).
  EXPECT_EQ(berlin.next_due(),
            absl::FromCivil(absl::CivilSecond(2027, 3, 28, 7, 0, 0),
                            absl::UTCTimeZone()));
}

}  // namespace
}  // namespace conch::daemon
