// KeepAlive: keeps one etcd lease alive and knows, without asking anyone,
// when that can no longer be proven.
//
// It runs etcd's LeaseKeepAlive bidirectional stream (a gRPC callback
// reactor: no thread of its own) and sends a keepalive every TTL/3. It keeps
// the *local deadline*: the CLOCK_MONOTONIC send time of the last answered
// keepalive plus the TTL granted in that answer. The server cannot expire
// the lease before that instant, so until then the holder may act.
//
// The lease is *lost*, for good, when
//   - an answer carries TTL ≤ 0 (revoked or expired on the server): NotFound;
//   - the local deadline minus `loss_lead` passes with no newer answer
//     (etcd down or frozen, partition, this process paused):
//     DeadlineExceeded. `loss_lead` is how long before the deadline the
//     holder must start stopping its child (StopPlan::lead(); zero by
//     default). Noticing this needs no RPC: status() and WaitLost() compare
//     with the monotonic clock, so a waiter wakes at that instant itself.
// A keepalive that stays unanswered for TTL/3 retires its connection (see
// Connection: a fresh TCP connection, or the next endpoint) and a new
// stream sends one at once; the old stream stays open for a while, so that
// its late answer still extends the deadline (a slow round trip is not a
// loss). A broken stream is re-opened at once, then every 250 ms while etcd
// stays unreachable.
//
// Ownership: borrows the Connection (must outlive it). Destroying a
// KeepAlive stops the stream; it does not revoke the lease (Leases::Revoke
// does). Thread-safe.
//
// Example:
//   absl::StatusOr<LeaseGrant> g = leases.Grant(absl::Seconds(10), deadline);
//   std::unique_ptr<KeepAlive> ka = KeepAlive::Start(&conn, *g);
//   absl::Status lost = ka->WaitLost(MonoTime::Infinite());  // blocks
#ifndef CONCH_CORE_ETCD_KEEPALIVE_H_
#define CONCH_CORE_ETCD_KEEPALIVE_H_

#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/base/mono_time.h"
#include "core/etcd/connection.h"
#include "core/etcd/lease.h"
#include "core/etcd/types.h"

namespace grpc {
class Alarm;
}  // namespace grpc

namespace conch::etcd {

class KeepAlive {
 public:
  // Called from a gRPC thread after every extension of the local deadline
  // (with an OK status) and once when an answer reports the lease gone
  // (with the loss reason). Must not block: hand the news on. Loss by the
  // deadline passing is not reported here (nothing runs then): waiters see
  // it through WaitLost/status.
  using Listener =
      std::function<void(MonoTime deadline, const absl::Status& status)>;

  static std::unique_ptr<KeepAlive> Start(
      Connection* conn, const LeaseGrant& grant, Listener listener = nullptr,
      absl::Duration loss_lead = absl::ZeroDuration());

  KeepAlive(const KeepAlive&) = delete;
  KeepAlive& operator=(const KeepAlive&) = delete;
  ~KeepAlive();

  LeaseId id() const { return id_; }

  // The current local deadline (see above).
  MonoTime deadline() const ABSL_LOCKS_EXCLUDED(mu_);
  // When the lease counts as lost unless an answer comes first:
  // deadline() - loss_lead.
  MonoTime loss_at() const ABSL_LOCKS_EXCLUDED(mu_);

  // OK while the lease is provably alive; the loss reason once lost (and
  // forever after).
  absl::Status status() const ABSL_LOCKS_EXCLUDED(mu_);

  // Blocks until the lease is lost or `until` passes. Returns the loss
  // reason, or OK when `until` came first.
  absl::Status WaitLost(MonoTime until) const ABSL_LOCKS_EXCLUDED(mu_);

  // Number of keepalive answers received (for tests and benchmarks).
  int64_t answers() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  class Stream;

  KeepAlive(Connection* conn, const LeaseGrant& grant, Listener listener,
            absl::Duration loss_lead);

  // Sets lost_ when the deadline has passed.
  void LatchDeadlineLocked(MonoTime now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::shared_ptr<Stream> OpenStream() ABSL_LOCKS_EXCLUDED(mu_);
  void SetAlarmLocked(MonoTime at) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnAlarm() ABSL_LOCKS_EXCLUDED(mu_);
  // Called by Stream.
  void OnAnswer(Stream* stream, MonoTime sent_at, int64_t ttl_seconds)
      ABSL_LOCKS_EXCLUDED(mu_);
  void OnStreamDone(Stream* stream) ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  Connection* const conn_;  // not owned
  const LeaseId id_;
  const Listener listener_;
  const absl::Duration loss_lead_;

  mutable absl::Mutex mu_;
  mutable absl::CondVar changed_;
  MonoTime deadline_ ABSL_GUARDED_BY(mu_);
  absl::Duration ttl_ ABSL_GUARDED_BY(mu_);
  mutable absl::Status lost_ ABSL_GUARDED_BY(mu_);
  int64_t answers_ ABSL_GUARDED_BY(mu_) = 0;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  // True from setting the alarm until its callback has finished without
  // setting it again: the destructor waits for false.
  bool alarm_armed_ ABSL_GUARDED_BY(mu_) = false;
  // A fresh gRPC alarm per tick (an alarm is not re-armed from its own
  // callback).
  std::unique_ptr<grpc::Alarm> alarm_ ABSL_GUARDED_BY(mu_);
  // Every stream not yet done (an old one may still be finishing while its
  // successor runs); `current_` is the one keepalives go to, if any. A
  // stream is dropped from `streams_` in its OnDone, never before.
  std::vector<std::shared_ptr<Stream>> streams_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<Stream> current_ ABSL_GUARDED_BY(mu_);
  // Streams replaced after a stall, oldest first, kept open for their late
  // answers until they have none pending (at most kMaxRetired).
  std::deque<std::shared_ptr<Stream>> retired_ ABSL_GUARDED_BY(mu_);
  static constexpr size_t kMaxRetired = 2;
};

}  // namespace conch::etcd

#endif  // CONCH_CORE_ETCD_KEEPALIVE_H_
