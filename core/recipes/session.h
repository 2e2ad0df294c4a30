// Session: one etcd lease, kept alive, that a recipe (election, semaphore,
// cron daemon) borrows to attach its keys to, and the single place that
// decides whether that lease is still provably held.
//
// The session is *lost*, for good, as soon as any of these is observable:
//   - a keepalive answer says the lease is gone (revoked or expired);
//   - the local deadline (send time of the last answered keepalive + TTL,
//     CLOCK_MONOTONIC) comes within `loss_lead` with no newer answer (the
//     holder's child must be stopped before the deadline: StopPlan);
//   - a guarded key (a holder key attached to the lease) is deleted.
// WaitLost() returns within milliseconds of the cause: the guarded key's
// deletion arrives by watch, a keepalive answer wakes the waiter, and the
// deadline is a timed wait.
// Close() revokes the lease, which deletes every key attached to it in one
// raft write: that is how a holder hands over at once.
//
// Ownership: borrows the Connection and WatchStream (both must outlive it).
// Destroying an open session revokes its lease on a best-effort basis.
// Thread-safe.
//
// Example:
//   absl::StatusOr<std::unique_ptr<Session>> s = Session::Create(
//       &conn, &watches, {.ttl = absl::Seconds(10)}, absl::Now() + dial);
//   ... put <key> with lease (*s)->lease(), then:
//   (*s)->Guard(key, put_revision);
//   absl::Status lost = (*s)->WaitLost(MonoTime::Infinite());
//   (*s)->Close(absl::Now() + absl::Seconds(2));
#ifndef CONCH_CORE_RECIPES_SESSION_H_
#define CONCH_CORE_RECIPES_SESSION_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/base/mono_time.h"
#include "core/etcd/connection.h"
#include "core/etcd/keepalive.h"
#include "core/etcd/lease.h"
#include "core/etcd/types.h"
#include "core/etcd/watch.h"

namespace conch::etcd {

struct SessionOptions {
  absl::Duration ttl = absl::Seconds(10);
  // The session counts as lost this long before its local deadline
  // (StopPlan::lead() of the holder's --kill-after).
  absl::Duration loss_lead = absl::ZeroDuration();
  // Told about every extension of the local deadline (for the fuse) and
  // about loss reported by etcd; see KeepAlive::Listener.
  KeepAlive::Listener on_deadline;
  // Called from gRPC threads whenever something the session watches may
  // have changed (keepalive answer, guarded key event): a hint to re-check
  // status(). Must not block or call into the session (use a Notifier).
  std::function<void()> on_event;
};

class Session {
 public:
  static absl::StatusOr<std::unique_ptr<Session>> Create(Connection* conn,
                                                         WatchStream* watches,
                                                         SessionOptions options,
                                                         absl::Time deadline);

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  LeaseId lease() const { return lease_; }
  // The connection and watch stream the session was created on, for the
  // recipes that borrow it.
  Connection* connection() const { return conn_; }
  WatchStream* watches() const { return watches_; }
  absl::Duration ttl() const { return ttl_; }
  MonoTime deadline() const { return keepalive_->deadline(); }
  // When the session counts as lost unless a keepalive answer comes first.
  MonoTime loss_at() const { return keepalive_->loss_at(); }

  // From now on, the deletion of `key` (attached to this lease and created
  // at `create_revision`) means the session is lost. The watch starts right
  // after `create_revision`, so a deletion that already happened counts,
  // and Guard does not wait for etcd to confirm the watch: a refused watch
  // (compaction, permission) later makes the session lost.
  absl::Status Guard(std::string key, int64_t create_revision)
      ABSL_LOCKS_EXCLUDED(mu_);

  // OK while held; the loss reason once lost (forever after).
  absl::Status status() ABSL_LOCKS_EXCLUDED(mu_);

  // Blocks until the session is lost (returns why) or `until` passes
  // (returns OK).
  absl::Status WaitLost(MonoTime until) ABSL_LOCKS_EXCLUDED(mu_);

  // Revokes the lease (idempotent). NotFound from etcd counts as done.
  absl::Status Close(absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct GuardedKey {
    std::string key;
    std::unique_ptr<Watcher> watcher;
  };

  Session(Connection* conn, WatchStream* watches, const LeaseGrant& grant,
          std::function<void()> on_event);
  void Ping() ABSL_LOCKS_EXCLUDED(mu_);
  // Drains guard watchers and the keepalive state; sets lost_.
  absl::Status Poll() ABSL_LOCKS_EXCLUDED(mu_);
  void SetLost(absl::Status reason) ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  Connection* const conn_;      // not owned
  WatchStream* const watches_;  // not owned
  const LeaseId lease_;
  const absl::Duration ttl_;
  const std::function<void()> on_event_;
  std::unique_ptr<KeepAlive> keepalive_;  // set once in Create

  // Only touched by the thread in Poll/Guard (guard_mu_ serializes them).
  absl::Mutex guard_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::vector<GuardedKey> guards_ ABSL_GUARDED_BY(guard_mu_);

  absl::Mutex mu_;
  absl::CondVar pinged_cv_;
  bool pinged_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status lost_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace conch::etcd

#endif  // CONCH_CORE_RECIPES_SESSION_H_
