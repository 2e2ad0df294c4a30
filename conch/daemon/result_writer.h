// WriteResultBatch: writes one batch of conchd's results to etcd, and
// prunes the histories that went over the bound.
//
// A result must not be lost to a short etcd hiccup: Unavailable and
// timeouts are retried (backoff 100 ms to 2 s) for `retry_for`; a tick
// left without a result shows as a zombie. One Txn writes the batch and
// counts each job's history, so pruning costs nothing until a job is over
// etcd::kCronHistory by etcd::kCronHistorySlack; the jobs over it are
// pruned together, back to kCronHistory.
//
// Blocking: runs on one of conchd's workers. Thread-safe.
//
// Example:
//   absl::Status s = WriteResultBatch(store, batch, absl::Seconds(30),
//                                     absl::Seconds(5));
#ifndef CONCH_CONCH_DAEMON_RESULT_WRITER_H_
#define CONCH_CONCH_DAEMON_RESULT_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "conch/daemon/run_table.h"
#include "core/cron/cron.h"

namespace conch::daemon {

// The status of the write (a failed prune is logged only). At most
// CronStore::kMaxBatch outcomes. Each call is given `call_timeout`.
absl::Status WriteResultBatch(const etcd::CronStore& store,
                              const std::vector<RunOutcome>& batch,
                              absl::Duration retry_for,
                              absl::Duration call_timeout);

// Prunes, in one go, the jobs (encoded names) whose history count, as a
// write's Txn returned it, is over etcd::kCronHistory by more than
// etcd::kCronHistorySlack; back to kCronHistory. A failure is logged only:
// the next write over the bound prunes again.
void PruneOverBound(const etcd::CronStore& store,
                    const std::vector<std::string>& encoded,
                    const std::vector<int64_t>& counts,
                    absl::Duration call_timeout);

}  // namespace conch::daemon

#endif  // CONCH_CONCH_DAEMON_RESULT_WRITER_H_
