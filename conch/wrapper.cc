#include "conch/wrapper.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "conch/exit_codes.h"
#include "conch/identity.h"
#include "core/log.h"
#include "core/records.h"

namespace conch {

records::Holder MakeHolder(etcd::LeaseId lease,
                           const std::vector<std::string>& argv) {
  records::Holder h;
  h.set_host(HostName());
  h.set_pid(getpid());
  h.set_user(UserName());
  h.set_since(records::FormatRfc3339(absl::Now()));
  h.set_lease(etcd::LeaseHex(lease));
  for (const std::string& a : argv) h.add_argv(records::SanitizeUtf8(a));
  return h;
}

etcd::KeepAlive::Listener FuseLink::Listener() {
  return [this](MonoTime deadline, const absl::Status& status) {
    if (!status.ok()) return;  // the supervisor acts on loss itself
    absl::MutexLock lock(&mu_);
    if (fuse_ != nullptr) fuse_->SetDeadline(deadline);
  };
}

void FuseLink::Set(const Fuse* fuse) {
  absl::MutexLock lock(&mu_);
  fuse_ = fuse;
}

WaitResult WaitForEvent(SignalSet& signals, const Notifier& wake,
                        MonoTime until) {
  while (true) {
    for (int sig : signals.ReadPending()) {
      if (sig == SIGCHLD) {
        int status;
        while (waitpid(-1, &status, WNOHANG) > 0) {
        }
        continue;
      }
      if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT) {
        return WaitResult{WaitResult::What::kStop, sig};
      }
    }
    const MonoTime now = MonoNow();
    if (now >= until) return WaitResult{WaitResult::What::kTimeout, 0};
    int timeout_ms = 1000;
    if (until != MonoTime::Infinite()) {
      timeout_ms = static_cast<int>(
          std::min<int64_t>(1000, absl::ToInt64Milliseconds(until - now) + 1));
    }
    struct pollfd fds[2] = {{signals.fd(), POLLIN, 0}, {wake.fd(), POLLIN, 0}};
    const int n = poll(fds, 2, timeout_ms);
    if (n > 0 && (fds[1].revents & POLLIN) != 0) {
      wake.Drain();
      return WaitResult{WaitResult::What::kEvent, 0};
    }
  }
}

absl::StatusOr<Fuse*> LiveFuse(std::unique_ptr<Fuse>* fuse,
                               absl::Duration kill_after) {
  // A fuse that fired (or may have) is never armed again: it would stop
  // the new child at once.
  if (*fuse != nullptr && (*fuse)->GuardAlive() && !(*fuse)->Fired()) {
    return fuse->get();
  }
  fuse->reset();
  absl::StatusOr<std::unique_ptr<Fuse>> started = Fuse::Start(kill_after);
  if (!started.ok()) return started.status();
  *fuse = *std::move(started);
  return fuse->get();
}

absl::StatusOr<SupervisorResult> RunHeld(const HeldRunSpec& spec,
                                         etcd::Session& session,
                                         std::unique_ptr<Fuse>* fuse_slot,
                                         FuseLink& link, SignalSet& signals,
                                         const Notifier& wake) {
  // A wrapper paused between acquiring and here (SIGSTOP, starvation) may
  // hold nothing any more: never start a child on a lease that cannot be
  // proven alive (its slot may already be someone else's, with a newer
  // token).
  if (absl::Status alive = session.status(); !alive.ok()) {
    SupervisorResult lost;
    lost.reason = SupervisorResult::Reason::kLeaseLost;
    lost.loss = alive;
    lost.exit_code = kExitSoftware;
    return lost;
  }
  absl::StatusOr<Fuse*> fuse = LiveFuse(fuse_slot, spec.kill_after);
  if (!fuse.ok()) return fuse.status();
  ChildSpec child_spec;
  child_spec.path = spec.path;
  child_spec.argv = spec.argv;
  child_spec.env = spec.env;
  absl::StatusOr<std::unique_ptr<Child>> child = Child::Spawn(child_spec);
  if (!child.ok()) return child.status();
  Log(LogLevel::kDebug, absl::StrCat("child ", (*child)->pid(), " started"));
  (*fuse)->Arm((*child)->pgid(), session.deadline());
  link.Set(*fuse);
  // A keepalive answer may have come between reading the deadline and
  // linking the fuse: push the latest once more.
  (*fuse)->SetDeadline(session.deadline());
  SupervisorOptions options;
  options.kill_after = spec.kill_after;
  options.fuse = *fuse;
  SupervisorResult result = Supervise(**child, session, signals, wake, options);
  link.Set(nullptr);
  (*fuse)->Release((*child)->pgid());
  return result;
}

}  // namespace conch
