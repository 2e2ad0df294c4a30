// ZombieCensus: counts each job's zombie ticks (claimed by a daemon that
// went away before recording a result) among its newest kZombieWindow, for
// conchd's /metrics (conch_cron_zombie_ticks).
//
// A census is one history read per job, paced at 50 reads a second so that
// it never crowds out the claims on etcd (200 jobs take 4 s); it runs on a
// worker of the daemon's pool. Due(): at start, after Soon() (a daemon
// left the roster: only then can new zombies appear), and every 10
// minutes. Abort() ends a census under way without publishing it.
//
// Ownership: borrows the store and the metrics, which must outlive every
// census it submitted (the pool is joined first). Thread-safety: MaybeStart,
// Soon and Abort run on the loop thread; the census on one worker.
//
// Example:
//   ZombieCensus census(&store, &metrics, call_timeout);
//   census.MaybeStart(MonoNow(), jobs, pool);  // each loop turn
#ifndef CONCH_CONCH_DAEMON_ZOMBIE_CENSUS_H_
#define CONCH_CONCH_DAEMON_ZOMBIE_CENSUS_H_

#include <atomic>

#include "absl/time/time.h"
#include "conch/daemon/job_table.h"
#include "conch/daemon/metrics.h"
#include "core/base/mono_time.h"
#include "core/base/work_pool.h"
#include "core/cron/cron.h"

namespace conch::daemon {

class ZombieCensus {
 public:
  ZombieCensus(const etcd::CronStore* store, DaemonMetrics* metrics,
               absl::Duration call_timeout)
      : store_(store), metrics_(metrics), call_timeout_(call_timeout) {}

  // Starts a census of `jobs` on `pool` when one is due and none runs.
  void MaybeStart(MonoTime now, const JobTable& jobs, WorkPool& pool);
  // A census as soon as possible.
  void Soon() { next_ = MonoTime(); }
  void Abort() { abort_ = true; }

  static constexpr absl::Duration kEvery = absl::Minutes(10);

 private:
  // Constant after construction.
  const etcd::CronStore* const store_;
  DaemonMetrics* const metrics_;
  const absl::Duration call_timeout_;

  MonoTime next_;  // the epoch: a census at start
  std::atomic<bool> running_{false};
  std::atomic<bool> abort_{false};
};

}  // namespace conch::daemon

#endif  // CONCH_CONCH_DAEMON_ZOMBIE_CENSUS_H_
