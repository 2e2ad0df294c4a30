// WriteResultBatch against a real etcd: the history of a job is pruned
// back to etcd::kCronHistory only once it is more than
// etcd::kCronHistorySlack over it (issue 18: pruning at the bound itself
// cost a delete Txn per job per result).
#include "conch/daemon/result_writer.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "conch/daemon/job_table.h"
#include "conch/daemon/run_table.h"
#include "core/cron/cron.h"
#include "core/etcd/test_dial.h"
#include "gtest/gtest.h"

namespace conch::daemon {
namespace {

class ResultWriterTest : public etcd::SharedEtcdTest {
 protected:
  absl::Time Soon() const { return absl::Now() + absl::Seconds(10); }

  // Claims ticks [from, to] of `job` and writes their results through
  // WriteResultBatch, 64 at a time.
  void RunTicks(const JobRef& job, int from, int to) {
    etcd::CronStore store(conn_.get(), p_);
    records::Claim claim;
    claim.set_daemon("d");
    claim.set_lease("0000000000000001");
    std::vector<RunOutcome> batch;
    for (int s = from; s <= to; ++s) {
      const absl::Time instant = absl::FromUnixSeconds(s);
      absl::StatusOr<etcd::ClaimOutcome> c =
          store.Claim(*job, instant, claim, std::nullopt, 0, Soon());
      ASSERT_TRUE(c.ok() && c->claimed) << s;
      RunOutcome o{Tick{job, instant}, {}, "ok"};
      o.result.set_daemon("d");
      o.result.set_exit_code(0);
      batch.push_back(std::move(o));
      if (batch.size() == etcd::CronStore::kMaxBatch || s == to) {
        ASSERT_TRUE(
            WriteResultBatch(store, batch, absl::Seconds(5), absl::Seconds(5))
                .ok());
        batch.clear();
      }
    }
  }

  int64_t HistorySize(const std::string& encoded) {
    etcd::CronStore store(conn_.get(), p_);
    absl::StatusOr<std::vector<etcd::CronTick>> h =
        store.History(encoded, 1000, Soon());
    EXPECT_TRUE(h.ok()) << h.status();
    return h.ok() ? static_cast<int64_t>(h->size()) : -1;
  }
};

TEST_F(ResultWriterTest, AHistoryIsPrunedOnlyPastTheSlack) {
  etcd::CronStore store(conn_.get(), p_);
  records::Job def;
  def.set_schedule("@every 1s");
  def.set_tz("UTC");
  def.add_argv("true");
  ASSERT_TRUE(store.AddJob("j", def, false, Soon()).ok());
  absl::StatusOr<etcd::CronJobList> list = store.ListJobs(Soon());
  ASSERT_TRUE(list.ok() && list->jobs.size() == 1);
  const JobRef job = std::make_shared<const etcd::CronJob>(list->jobs[0]);
  const int bound = etcd::kCronHistory + etcd::kCronHistorySlack;
  // Up to the bound plus the slack: nothing is pruned.
  RunTicks(job, 1, bound);
  EXPECT_EQ(HistorySize(job->encoded), bound);
  // One more: back to the newest kCronHistory.
  RunTicks(job, bound + 1, bound + 1);
  EXPECT_EQ(HistorySize(job->encoded), etcd::kCronHistory);
  absl::StatusOr<std::vector<etcd::CronTick>> h =
      store.History(job->encoded, 1, Soon());
  ASSERT_TRUE(h.ok() && h->size() == 1);
  EXPECT_EQ((*h)[0].instant, absl::FromUnixSeconds(bound + 1));
}

}  // namespace
}  // namespace conch::daemon
