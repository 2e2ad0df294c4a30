#include "conch/wrapper.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "conch/exit_codes.h"
#include "conch/identity.h"
#include "core/base/log.h"
#include "core/process/group_run.h"
#include "core/process/reaper.h"
#include "core/records/records.h"

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

WaitResult WaitForEvent(SignalSet& signals, const Notifier& wake,
                        MonoTime until) {
  while (true) {
    for (int sig : signals.ReadPending()) {
      if (sig == SIGCHLD) {
        Reaper().Reap();  // nothing here is watched: an old fuse guard
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

absl::StatusOr<SupervisorResult> RunHeld(const HeldRunSpec& spec,
                                         etcd::Session& session,
                                         FuseKeeper& fuses, SignalSet& signals,
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
  absl::StatusOr<std::shared_ptr<const Fuse>> fuse = fuses.Current();
  if (!fuse.ok()) return fuse.status();
  ChildSpec child_spec;
  child_spec.path = spec.path;
  child_spec.argv = spec.argv;
  child_spec.env = spec.env;
  absl::StatusOr<std::unique_ptr<Child>> child = Child::Spawn(child_spec);
  if (!child.ok()) return child.status();
  Log(LogLevel::kDebug, absl::StrCat("child ", (*child)->pid(), " started"));
  (*fuse)->Arm((*child)->pgid(), session.deadline());
  // A keepalive answer may have come between reading the deadline and
  // arming: push the latest once more.
  (*fuse)->SetDeadline(session.deadline());
  GroupRun run(*std::move(child), *fuse, spec.kill_after);
  SupervisorResult result = Supervise(run, session, signals, wake);
  (*fuse)->Release(run.child().pgid());
  return result;
}

}  // namespace conch
