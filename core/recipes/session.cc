#include "core/recipes/session.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/etcd/etcd_status.h"
#include "core/etcd/kv.h"

namespace conch::etcd {

absl::StatusOr<std::unique_ptr<Session>> Session::Create(Connection* conn,
                                                         WatchStream* watches,
                                                         SessionOptions options,
                                                         absl::Time deadline) {
  absl::StatusOr<LeaseGrant> grant = Leases(conn).Grant(options.ttl, deadline);
  if (!grant.ok()) return grant.status();
  std::unique_ptr<Session> session(
      new Session(conn, watches, *grant, std::move(options.on_event)));
  Session* self = session.get();
  KeepAlive::Listener user = std::move(options.on_deadline);
  session->keepalive_ = KeepAlive::Start(
      conn, *grant,
      [self, user](MonoTime deadline, const absl::Status& status) {
        if (user) user(deadline, status);
        self->Ping();
      },
      options.loss_lead);
  return session;
}

Session::Session(Connection* conn, WatchStream* watches,
                 const LeaseGrant& grant, std::function<void()> on_event)
    : conn_(conn),
      watches_(watches),
      lease_(grant.id),
      ttl_(grant.ttl),
      on_event_(std::move(on_event)) {}

Session::~Session() {
  bool closed;
  {
    absl::MutexLock lock(&mu_);
    closed = closed_;
  }
  if (!closed) Close(absl::Now() + absl::Seconds(1)).IgnoreError();
  // Stop the keepalive (and its callbacks into this object) before the
  // guards and the mutexes go away.
  keepalive_.reset();
  absl::MutexLock lock(&guard_mu_);
  guards_.clear();
}

void Session::Ping() {
  {
    absl::MutexLock lock(&mu_);
    pinged_ = true;
    pinged_cv_.SignalAll();
  }
  if (on_event_) on_event_();
}

void Session::SetLost(absl::Status reason) {
  absl::MutexLock lock(&mu_);
  if (lost_.ok()) lost_ = std::move(reason);
  pinged_cv_.SignalAll();
}

absl::Status Session::Guard(std::string key, int64_t create_revision) {
  WatchOptions options;
  options.start_revision = create_revision + 1;
  options.no_put = true;
  options.await_created = false;
  options.on_ready = [this] { Ping(); };
  absl::StatusOr<std::unique_ptr<Watcher>> watcher =
      watches_->Watch(key, std::move(options), absl::InfiniteFuture());
  if (!watcher.ok()) return watcher.status();
  absl::MutexLock lock(&guard_mu_);
  guards_.push_back(GuardedKey{std::move(key), *std::move(watcher)});
  return absl::OkStatus();
}

absl::Status Session::Poll() {
  absl::Status ka = keepalive_->status();
  if (!ka.ok()) SetLost(ka);
  {
    absl::MutexLock lock(&guard_mu_);
    for (GuardedKey& g : guards_) {
      while (true) {
        absl::StatusOr<std::optional<WatchBatch>> batch = g.watcher->TryNext();
        if (batch.ok() && !batch->has_value()) break;  // none ready
        if (!batch.ok()) {
          // Compaction or a refused watch: the key can no longer be
          // followed, so its survival cannot be proven.
          SetLost(absl::Status(batch.status().code(),
                               absl::StrCat("cannot follow holder key ", g.key,
                                            ": ", batch.status().message())));
          break;
        }
        for (const Event& e : (*batch)->events) {
          if (e.type == Event::Type::kDelete) {
            SetLost(MakeEtcdStatus(
                absl::StatusCode::kNotFound,
                absl::StrCat("holder key ", g.key, " was deleted (revision ",
                             e.kv.mod_revision, ")"),
                EtcdCondition::kLeaseNotFound));
          }
        }
      }
    }
  }
  absl::MutexLock lock(&mu_);
  return lost_;
}

absl::Status Session::status() { return Poll(); }

absl::Status Session::WaitLost(MonoTime until) {
  while (true) {
    absl::Status lost = Poll();
    if (!lost.ok()) return lost;
    const MonoTime now = MonoNow();
    if (now >= until) return absl::OkStatus();
    const MonoTime wake = std::min(until, keepalive_->loss_at());
    absl::MutexLock lock(&mu_);
    if (!pinged_ && lost_.ok()) {
      pinged_cv_.WaitWithTimeout(&mu_,
                                 std::max(wake - now, absl::ZeroDuration()));
    }
    pinged_ = false;
  }
}

absl::Status Session::Close(absl::Time deadline) {
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return absl::OkStatus();
    closed_ = true;
    if (lost_.ok()) {
      lost_ = absl::CancelledError("session closed");
    }
    pinged_cv_.SignalAll();
  }
  {
    // Stop following our own keys before deleting them, so that etcd does
    // not send us their deletion: a release then costs it one watch event
    // per waiter it wakes. The cancels are queued on the watch stream
    // ahead of the revoke and etcd handles them in microseconds, against a
    // raft write for the revoke, so the handover does not wait for their
    // confirmation (that was one more round trip on every handover).
    absl::MutexLock lock(&guard_mu_);
    guards_.clear();
  }
  absl::Status revoked = Leases(conn_).Revoke(lease_, deadline);
  if (IsLeaseNotFound(revoked)) return absl::OkStatus();
  return revoked;
}

}  // namespace conch::etcd
