// What conchd's workers report back to its loop, and the queue it comes
// back on.
//
// Claims and results are etcd calls on a WorkPool, starts run on spawner
// threads; each reports one Completion, which the loop takes and
// dispatches (std::visit) on its own thread. The queue also counts what
// is still out, so that a stopping daemon waits for every answer.
//
// Thread-safety: Push from any thread; Expect, TakeAll and outstanding()
// from the loop thread only. It locks with std::mutex, like WorkPool:
// ThreadSanitizer cannot see Debian's absl::Mutex's happens-before edges.
//
// Example:
//   CompletionQueue done(&wake);
//   done.Expect();
//   pool.Submit([&] { done.Push(LiveDone{...}); });
//   ... after a wake-up:
//   for (Completion& c : done.TakeAll()) std::visit(handler, c);
#ifndef CONCH_CONCH_DAEMON_COMPLETION_H_
#define CONCH_CONCH_DAEMON_COMPLETION_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "conch/daemon/job_table.h"
#include "core/base/notifier.h"
#include "core/cron/cron.h"
#include "core/process/child.h"
#include "core/process/fuse.h"

namespace conch::daemon {

// A claim Txn answered (or failed). A fallback tick found claimed by
// another daemon comes back as not claimed, without a Txn.
struct ClaimDone {
  Tick tick;
  absl::StatusOr<etcd::ClaimOutcome> claim;
  std::string claim_lease;  // the session lease the claim was made under
  // Recorded as skipped in the same Txn: (overload) for an overload tick,
  // else (overlap).
  bool skipped = false;
  // Whether a claim Txn was sent (a fallback read that found the tick
  // taken sends none), and its round trip.
  bool sent = true;
  absl::Duration latency;
};

// One result written (or not).
struct ResultDone {
  Tick tick;
  absl::Status status;
};

// The registered daemon ids, read.
struct LiveDone {
  absl::StatusOr<std::vector<std::string>> live;
};

// A run started (or why it could not): the child, the read end of its
// output pipe, the fuse armed with its group, the claim's revision.
struct Spawned {
  Tick tick;
  int64_t revision = 0;
  absl::StatusOr<std::unique_ptr<Child>> child =
      absl::UnknownError("not started");
  int out_fd = -1;
  std::shared_ptr<const Fuse> fuse;
  absl::Time started;
  // What the start cost (admission.h): the spawn itself, or, behind a
  // queue of starts, the wait per start ahead times the spawners.
  absl::Duration spawn_cost;
};

using Completion = std::variant<ClaimDone, ResultDone, LiveDone, Spawned>;

class CompletionQueue {
 public:
  explicit CompletionQueue(const Notifier* wake) : wake_(wake) {}
  CompletionQueue(const CompletionQueue&) = delete;
  CompletionQueue& operator=(const CompletionQueue&) = delete;

  // `n` more completions will come.
  void Expect(int n = 1) { outstanding_ += n; }
  // With `notify` false the loop is not woken (it will look anyway).
  void Push(Completion c, bool notify = true);
  std::vector<Completion> TakeAll();
  // Expected and not yet taken.
  int outstanding() const { return outstanding_; }

 private:
  // Constant after construction.
  const Notifier* const wake_;

  int outstanding_ = 0;  // loop thread only
  std::mutex mu_;
  std::vector<Completion> done_;  // guarded by mu_
};

}  // namespace conch::daemon

#endif  // CONCH_CONCH_DAEMON_COMPLETION_H_
