#include "conch/daemon/daemon_session.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "conch/identity.h"
#include "core/base/log.h"
#include "core/etcd/lease.h"
#include "core/process/stop_plan.h"

namespace conch::daemon {

DaemonSession::DaemonSession(DaemonSessionOptions options,
                             etcd::Connection* conn, etcd::WatchStream* watches,
                             const etcd::CronStore* store, FuseKeeper* fuses,
                             const Notifier* wake)
    : o_(std::move(options)),
      conn_(conn),
      watches_(watches),
      store_(store),
      fuses_(fuses),
      wake_(wake),
      retry_(kRetry, static_cast<uint64_t>(getpid())) {}

absl::Status DaemonSession::Open() {
  etcd::SessionOptions so;
  so.ttl = o_.ttl;
  so.loss_lead = StopPlan{o_.kill_after}.lead();
  so.on_deadline = fuses_->DeadlineListener();
  so.on_event = [wake = wake_] { wake->Notify(); };
  absl::StatusOr<std::unique_ptr<etcd::Session>> s =
      etcd::Session::Create(conn_, watches_, so, absl::Now() + o_.call_timeout);
  if (!s.ok()) return s.status();
  absl::Status reg = store_->RegisterDaemon(o_.id, o_.record, (*s)->lease(),
                                            absl::Now() + o_.call_timeout);
  if (!reg.ok()) {
    (*s)->Close(absl::Now() + o_.call_timeout).IgnoreError();
    return reg;
  }
  absl::StatusOr<std::shared_ptr<const Fuse>> fuse = fuses_->Current();
  if (!fuse.ok()) {
    (*s)->Close(absl::Now() + o_.call_timeout).IgnoreError();
    return fuse.status();
  }
  fuse_ = *std::move(fuse);
  session_ = *std::move(s);
  lease_hex_ = etcd::LeaseHex(session_->lease());
  Log(LogLevel::kInfo,
      absl::StrCat("daemon ", o_.id, " registered on lease ", lease_hex_));
  return absl::OkStatus();
}

namespace {

// Whether `d` was registered by a conchd that is provably gone: it ran on
// this host in this boot, and its pid is gone (or is ours now, as for a
// daemon that is pid 1 of its container).
bool IsDeadIncarnation(const records::Daemon& d) {
  if (d.host() != HostName() || d.boot_id().empty() ||
      d.boot_id() != BootId() || d.pid() <= 0) {
    return false;
  }
  if (d.pid() == getpid()) return true;
  return kill(d.pid(), 0) != 0 && errno == ESRCH;
}

}  // namespace

absl::Status DaemonSession::OpenAtStart() {
  absl::Status opened = Open();
  if (!absl::IsAlreadyExists(opened)) return opened;
  absl::StatusOr<etcd::CronStore::Registration> reg =
      store_->DaemonRegistration(o_.id, absl::Now() + o_.call_timeout);
  if (absl::IsNotFound(reg.status())) return Open();  // gone meanwhile
  if (!reg.ok()) return reg.status();
  const std::string who =
      absl::StrCat("pid ", reg->daemon.pid(), " on ", reg->daemon.host(),
                   ", lease ", etcd::LeaseHex(reg->lease));
  etcd::Leases leases(conn_);
  if (IsDeadIncarnation(reg->daemon)) {
    Log(LogLevel::kWarn,
        absl::StrCat("daemon id ", o_.id, " was registered by ", who,
                     ", which is gone: taking the id over"));
    absl::Status revoked =
        leases.Revoke(reg->lease, absl::Now() + o_.call_timeout);
    if (!revoked.ok() && !absl::IsNotFound(revoked)) return revoked;
    return Open();
  }
  absl::StatusOr<etcd::LeaseInfo> info =
      leases.TimeToLive(reg->lease, false, absl::Now() + o_.call_timeout);
  const absl::Duration left =
      info.ok() ? std::max(info->remaining, absl::ZeroDuration())
                : absl::ZeroDuration();
  Log(LogLevel::kWarn, absl::StrCat("daemon id ", o_.id, " is registered by ",
                                    who, " (", absl::FormatDuration(left),
                                    " left): waiting for it to expire"));
  // Until the lease's TTL has passed: etcd reports whole seconds (rounded
  // down) and finds expired leases every 500 ms, so 2 s more.
  const MonoTime until = MonoNow() + left + absl::Seconds(2);
  while (MonoNow() < until) {
    absl::SleepFor(std::min(absl::Milliseconds(250), until - MonoNow()));
    absl::StatusOr<etcd::CronStore::Registration> now =
        store_->DaemonRegistration(o_.id, absl::Now() + o_.call_timeout);
    if (absl::IsNotFound(now.status())) return Open();
  }
  return Open();  // AlreadyExists if a live duplicate is still there
}

absl::Status DaemonSession::health() const {
  return session_ == nullptr ? absl::OkStatus() : session_->status();
}

void DaemonSession::Drop() {
  if (session_ == nullptr) return;
  session_->Close(absl::Now() + o_.call_timeout).IgnoreError();
  session_.reset();
  lease_hex_.clear();
  fuses_->Retire();
  fuse_.reset();
  next_try_ = MonoNow();
}

void DaemonSession::Reopen() {
  if (session_ != nullptr || MonoNow() < next_try_) return;
  absl::Status opened = Open();
  if (opened.ok()) {
    retry_ = Backoff(kRetry, static_cast<uint64_t>(getpid()));
    return;
  }
  const absl::Duration delay = retry_.Next();
  Log(LogLevel::kWarn,
      absl::StrCat("no session (", opened.message(), "); retrying in ",
                   absl::FormatDuration(delay)));
  next_try_ = MonoNow() + delay;
}

void DaemonSession::Close() {
  if (session_ == nullptr) return;
  session_->Close(absl::Now() + o_.call_timeout).IgnoreError();
  session_.reset();
  fuse_.reset();
}

}  // namespace conch::daemon
