// JobTable: the job definitions one conchd schedules, and which of their
// ticks are due.
//
// Each definition gets its schedule parsed once; its next tick is never
// before the daemon started (restarts do not replay missed ticks) and, for
// a changed definition, never before the change was seen. TakeDue(now)
// hands out every tick whose instant has come, oldest first, and moves each
// job past `now`. The jobs are also ordered by their next tick, so TakeDue
// costs O(log n) per tick it hands out and nothing while none is due: the
// work of a tick does not grow with the number of jobs (100,000 daily jobs
// cost nothing between their instants; issue 18).
//
// No etcd, no clock of its own: time comes in as arguments (tests use a
// fake one). Thread-compatible (conchd's loop thread).
//
// Example:
//   JobTable table(absl::Now());
//   table.Upsert(job, absl::Now());
//   for (const Tick& t : table.TakeDue(absl::Now())) { ... claim t ... }
//   sleep until table.next_due();
#ifndef CONCH_CONCH_DAEMON_JOB_TABLE_H_
#define CONCH_CONCH_DAEMON_JOB_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/cron/cron.h"
#include "core/cron/schedule.h"

namespace conch::daemon {

// A job definition, shared (never copied) by every tick, claim and run of
// it that is in flight.
using JobRef = std::shared_ptr<const etcd::CronJob>;

// The consecutive ticks of one job that TakeDue found older than its
// `oldest`: counted, never handed out (a daemon resumed after a stall, a
// suspend or a SIGSTOP would otherwise make a Tick of every instant it
// slept through, for every job, only to drop them).
struct MissedTicks {
  JobRef job;
  absl::Time first;
  absl::Time last;
  int64_t count = 0;

  // conchd's log line: "job NAME: N tick(s) from FIRST to LAST missed (too
  // late), not run".
  std::string Text() const;
};

// One tick of one job.
struct Tick {
  JobRef job;
  absl::Time instant;
  // Claimed only to be recorded as skipped (overload): no daemon had room
  // for it (admission.h).
  bool overload = false;
};

class JobTable {
 public:
  // No tick before `start`.
  explicit JobTable(absl::Time start) : start_(start) {}

  // Adds or replaces a definition seen at `now`. InvalidArgument (and the
  // job is dropped) when its schedule or zone cannot be parsed.
  absl::Status Upsert(etcd::CronJob job, absl::Time now);
  void Erase(const std::string& encoded);
  void Clear();

  // The definition of `encoded`, or nullptr.
  JobRef Find(const std::string& encoded) const;
  size_t size() const { return jobs_.size(); }
  // The encoded names of every definition, in order.
  std::vector<std::string> Names() const;

  // Every tick with instant <= now, oldest first (by instant, then name);
  // each job moves on to its first tick after `now`.
  std::vector<Tick> TakeDue(absl::Time now) {
    return TakeDue(now, absl::InfinitePast()).due;
  }
  // The same, except that the ticks before `oldest` are not handed out but
  // reported in `missed`, one entry per job (its work is still one step of
  // its schedule per instant, but nothing is kept per instant).
  struct Due {
    std::vector<Tick> due;
    std::vector<MissedTicks> missed;
  };
  Due TakeDue(absl::Time now, absl::Time oldest);
  // The earliest next tick of any job (InfiniteFuture without jobs).
  absl::Time next_due() const {
    return queue_.empty() ? absl::InfiniteFuture() : queue_.begin()->first;
  }

 private:
  struct Scheduled {
    JobRef job;
    Schedule schedule;
    absl::Time next;  // the next tick to hand out
  };

  // Constant after construction.
  const absl::Time start_;

  std::map<std::string, Scheduled> jobs_;  // by encoded name
  // Every job by (next tick, encoded name): one entry per jobs_ entry.
  std::set<std::pair<absl::Time, std::string>> queue_;
};

}  // namespace conch::daemon

#endif  // CONCH_CONCH_DAEMON_JOB_TABLE_H_
