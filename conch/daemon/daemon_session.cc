#include "conch/daemon/daemon_session.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/base/log.h"
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
