// TickClaimer: conchd's claim Txns, run on its WorkPool (the policy of who
// claims what is in claim_policy.h).
//
//   - ClaimBatched: the ticks this daemon is the preferred claimer of, one
//     all-or-nothing Txn per CronStore::kMaxBatch; when any one of a batch
//     is taken (or the Txn fails) its ticks are claimed one by one;
//   - ClaimFallbacks: ticks preferred by another daemon, after the delay:
//     one read-only Txn per 128 says which are claimed already (nothing to
//     do), the rest are claimed one by one;
//   - ClaimOverloaded: ticks nobody had room for (admission.h): held in a
//     SkipSpanBuffer for kSkipSpanHold, then FlushOverloaded records them
//     as `skipped (overload)` with one skip span per job
//     (CronStore::WriteSkipSpans, 128 jobs per Txn), leaving out what
//     another daemon claimed meanwhile. Every kCronHistorySlack spans of a
//     job written here, its spans are pruned back to kCronSpanHistory;
//   - ClaimOne: one tick, one Txn; with --overlap skip, first a look at
//     whether a run of the job is still in progress (here, or in the
//     job's history on a live daemon): then the tick is claimed with a
//     `skipped (overlap)` result in the same Txn. A run request's claim
//     also consumes the request (request_revision > 0).
// Every tick reports one ClaimDone on the CompletionQueue (Expect()ed
// here); an overload tick reports it when its span is written.
//
// Ownership: borrows the store, the pool and the queue, which must outlive
// it (and the pool must be joined before the store goes). Thread-
// compatible: call from the loop thread; the Txns run on the pool.
//
// Example:
//   TickClaimer claimer(&store, &pool, &done, "host1", absl::Seconds(5));
//   claimer.ClaimBatched(plan.batched, claim);
#ifndef CONCH_CONCH_DAEMON_TICK_CLAIMER_H_
#define CONCH_CONCH_DAEMON_TICK_CLAIMER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "conch/daemon/completion.h"
#include "conch/daemon/job_table.h"
#include "conch/daemon/skip_spans.h"
#include "core/base/work_pool.h"
#include "core/cron/cron.h"
#include "core/records/records.pb.h"

namespace conch::daemon {

class TickClaimer {
 public:
  TickClaimer(const etcd::CronStore* store, WorkPool* pool,
              CompletionQueue* done, std::string daemon_id,
              absl::Duration call_timeout)
      : store_(store),
        pool_(pool),
        done_(done),
        daemon_id_(std::move(daemon_id)),
        call_timeout_(call_timeout) {}

  // `claim` names this daemon, its session's lease and the time.
  void ClaimBatched(std::vector<Tick> ticks, const records::Claim& claim);
  // running_here[i]: whether a run of ticks[i]'s job is in progress here.
  void ClaimFallbacks(std::vector<Tick> ticks, std::vector<bool> running_here,
                      const records::Claim& claim);
  void ClaimOne(Tick tick, const records::Claim& claim,
                int64_t request_revision, bool running_here);
  // Holds `ticks` (Tick::overload) for FlushOverloaded.
  void ClaimOverloaded(std::vector<Tick> ticks, absl::Time now);
  // Writes the held ticks once the oldest has waited kSkipSpanHold, or all
  // of them now with `all` (a stopping daemon).
  void FlushOverloaded(absl::Time now, bool all);
  // When FlushOverloaded has work (InfiniteFuture: none held).
  absl::Time next_overload_flush() const { return spans_.next(); }

  // How long overload ticks are held before their spans are written: a
  // job `@every 1s` past saturation costs etcd one key per 5 ticks.
  static constexpr absl::Duration kSkipSpanHold = absl::Seconds(5);

  // How many ticks one fallback read covers.
  static constexpr size_t kFallbackRead = 128;

 private:
  // On a worker: the overlap check, then the Txn.
  ClaimDone ClaimNow(const Tick& tick, const records::Claim& claim,
                     int64_t request_revision, bool running_here) const;
  // On a worker: one batch of FlushOverloaded; prunes the spans of the
  // jobs in `prune`.
  void WriteSpans(const std::vector<SkipSpanBuffer::Span>& batch,
                  const std::vector<std::string>& prune) const;

  // Constant after construction.
  const etcd::CronStore* const store_;
  WorkPool* const pool_;
  CompletionQueue* const done_;
  const std::string daemon_id_;
  const absl::Duration call_timeout_;

  SkipSpanBuffer spans_{kSkipSpanHold};
  // Spans written per job since this daemon last pruned its spans.
  std::map<std::string, int> spans_since_prune_;
};

}  // namespace conch::daemon

#endif  // CONCH_CONCH_DAEMON_TICK_CLAIMER_H_
