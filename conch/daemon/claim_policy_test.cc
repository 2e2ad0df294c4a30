// Who claims a tick, without etcd: every daemon computes the same
// preferred claimer; ticks go to the batched, single or fallback
// path; fallback ticks come due after the delay; batches are cut in order.
#include "conch/daemon/claim_policy.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/cron/cron.h"
#include "gtest/gtest.h"

namespace conch::daemon {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

Tick TickOf(const std::string& name, absl::Time instant,
            const std::string& overlap = "") {
  auto job = std::make_shared<etcd::CronJob>();
  job->name = name;
  job->encoded = name;
  job->job.set_overlap(overlap);
  return Tick{job, instant};
}

TEST(StableHashTest, StaysTheSameAcrossVersions) {
  // Every daemon of a cluster must agree: these values are pinned.
  EXPECT_EQ(StableHash(""), 1469598103934665603ull);
  EXPECT_EQ(StableHash("a"), 4953267810257967366ull);
}

TEST(RosterTest, EveryDaemonPicksTheSamePreferredClaimer) {
  Roster a("a");
  Roster b("b");
  Roster c("c");
  a.Set({"c", "b"}, /*registered=*/true);  // its own key not read yet
  b.Set({"a", "b", "c"}, true);
  c.Set({"b", "a", "c", "c"}, true);
  EXPECT_EQ(a.live(), (std::vector<std::string>{"a", "b", "c"}));
  std::map<std::string, int> per_daemon;
  for (int i = 0; i < 300; ++i) {
    const std::string job = absl::StrCat("job-", i);
    const std::string& chosen = a.PreferredClaimer(job);
    EXPECT_EQ(b.PreferredClaimer(job), chosen) << job;
    EXPECT_EQ(c.PreferredClaimer(job), chosen) << job;
    EXPECT_EQ(a.Prefers(job) + b.Prefers(job) + c.Prefers(job), 1) << job;
    ++per_daemon[chosen];
  }
  // Spread over all three (a hash, not a fixed owner).
  EXPECT_EQ(per_daemon.size(), 3u);
  for (const auto& [id, n] : per_daemon) EXPECT_GT(n, 50) << id;
}

TEST(RosterTest, AloneOrUnregisteredADaemonPrefersItselfOnlyWhenListed) {
  Roster a("a");
  EXPECT_TRUE(a.Prefers("x"));         // nothing read yet: claim everything
  a.Set({"b"}, /*registered=*/false);  // session lost: not in the list
  EXPECT_FALSE(a.Prefers("x"));
  EXPECT_EQ(a.PreferredClaimer("x"), "b");
}

TEST(FallbackQueueTest, ATickComesDueTheDelayAfterItsInstant) {
  FallbackQueue q(absl::Milliseconds(250));
  EXPECT_EQ(q.next(), absl::InfiniteFuture());
  q.Add(TickOf("late", kT0 + absl::Seconds(1)));
  q.Add(TickOf("early", kT0));
  EXPECT_EQ(q.next(), kT0 + absl::Milliseconds(250));
  EXPECT_TRUE(q.TakeDue(kT0 + absl::Milliseconds(249)).empty());
  std::vector<Tick> due = q.TakeDue(kT0 + absl::Milliseconds(250));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].job->name, "early");
  EXPECT_EQ(q.next(), kT0 + absl::Milliseconds(1250));
  due = q.TakeDue(kT0 + absl::Seconds(5));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].job->name, "late");
  EXPECT_TRUE(q.empty());
  q.Add(TickOf("x", kT0));
  q.Clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.next(), absl::InfiniteFuture());
}

TEST(PlanClaimsTest, SortsEachTickIntoItsPath) {
  Roster roster("a");
  roster.Set({"a", "b"}, true);
  // Find one job name preferred by each daemon.
  std::string mine;
  std::string theirs;
  for (int i = 0; mine.empty() || theirs.empty(); ++i) {
    const std::string job = absl::StrCat("j", i);
    (roster.Prefers(job) ? mine : theirs) = job;
  }
  ClaimPlan plan =
      PlanClaims({TickOf(mine, kT0), TickOf(mine, kT0, "skip"),
                  TickOf(theirs, kT0), TickOf(mine, kT0 + absl::Seconds(1))},
                 roster);
  ASSERT_EQ(plan.batched.size(), 2u);
  EXPECT_EQ(plan.batched[0].job->job.overlap(), "");
  ASSERT_EQ(plan.single.size(), 1u);
  EXPECT_EQ(plan.single[0].job->job.overlap(), "skip");
  ASSERT_EQ(plan.fallback.size(), 1u);
  EXPECT_EQ(plan.fallback[0].job->name, theirs);
}

TEST(BatchesTest, CutsInOrderWithTheRestLast) {
  std::vector<std::vector<int>> b = Batches(std::vector<int>{1, 2, 3, 4, 5}, 2);
  EXPECT_EQ(b, (std::vector<std::vector<int>>{{1, 2}, {3, 4}, {5}}));
  EXPECT_TRUE(Batches(std::vector<int>{}, 64).empty());
}

}  // namespace
}  // namespace conch::daemon
