// ResultBatcher: when conchd's pending results go out, and in what
// batches (the pure policy; the write itself is WriteResultBatch).
//
// Starting comes first. While a burst of runs is being spawned, results
// wait until the spawners have been idle for kQuiet (the other daemons'
// bursts of the same instant end about then too), so that neither the
// daemons nor etcd spend a burst's CPU on bookkeeping. After that they go
// out at most every kQuiet, as the burst's runs end: without the spacing
// each loop turn would write the few that ended since the last one, in a
// Txn of its own, several times the etcd revisions per tick (docs/cron.md,
// "Running a tick"). A daemon that never stops starting still writes every
// kMaxWait.
//
// No etcd, no clock of its own: time comes in as arguments. Thread-
// compatible (conchd's loop thread).
//
// Example:
//   ResultBatcher results;
//   results.Add(outcome, MonoNow());
//   for (auto& batch : results.TakeDue(MonoNow(), spawning, false)) {
//     pool.Submit(... WriteResultBatch(store, batch, ...) ...);
//   }
#ifndef CONCH_CONCH_DAEMON_RESULT_BATCHER_H_
#define CONCH_CONCH_DAEMON_RESULT_BATCHER_H_

#include <cstddef>
#include <vector>

#include "absl/time/time.h"
#include "conch/daemon/run_table.h"
#include "core/base/mono_time.h"

namespace conch::daemon {

class ResultBatcher {
 public:
  static constexpr absl::Duration kQuiet = absl::Milliseconds(100);
  static constexpr absl::Duration kMaxWait = absl::Seconds(1);

  explicit ResultBatcher(size_t batch_size) : batch_size_(batch_size) {}

  void Add(RunOutcome outcome, MonoTime now);
  // A run was started (its spawn reported) at `now`.
  void NoteStart(MonoTime now) { last_start_ = now; }

  // When the pending results are to go out (Infinite when none).
  MonoTime Due(bool spawning) const;
  // The pending results in batches of at most batch_size, if they are due
  // at `now` (or `now_anyway`: a stopping daemon writes at once); else
  // nothing.
  std::vector<std::vector<RunOutcome>> TakeDue(MonoTime now, bool spawning,
                                               bool now_anyway);

  bool empty() const { return pending_.empty(); }
  size_t size() const { return pending_.size(); }

 private:
  // Constant after construction.
  const size_t batch_size_;

  std::vector<RunOutcome> pending_;
  MonoTime oldest_;      // when pending_ became non-empty
  MonoTime last_start_;  // a start was last reported
  MonoTime last_flush_;  // results last went out
};

}  // namespace conch::daemon

#endif  // CONCH_CONCH_DAEMON_RESULT_BATCHER_H_
