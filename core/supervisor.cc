#include "core/supervisor.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "core/mono_time.h"

namespace conch {
namespace {

// Reaps every exited child; records the supervised one's status.
void ReapAll(Child& child) {
  int status = 0;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    if (pid == child.pid()) child.SetExited(status);
  }
}

int PollTimeoutMs(MonoTime until) {
  if (until == MonoTime::Infinite()) return 1000;
  const absl::Duration left = until - MonoNow();
  if (left <= absl::ZeroDuration()) return 0;
  // Round up: waking a hair early would only loop once more.
  return static_cast<int>(
      std::min<int64_t>(1000, absl::ToInt64Milliseconds(left) + 1));
}

}  // namespace

void BecomeSubreaper() { prctl(PR_SET_CHILD_SUBREAPER, 1); }

SupervisorResult Supervise(Child& child, etcd::Session& session,
                           SignalSet& signals, const Notifier& wake,
                           const SupervisorOptions& options) {
  SupervisorResult result;
  const Fuse* const fuse = options.fuse;
  bool stopping = false;  // the group was told to stop
  MonoTime kill_at = MonoTime::Infinite();
  while (true) {
    ReapAll(child);
    if (result.loss.ok()) {
      absl::Status status = session.status();
      if (status.ok() && fuse != nullptr && fuse->Fired()) {
        // The guard saw the SIGTERM instant before a keepalive answer it
        // had not been told of yet: the child is being stopped, so the
        // lease is as good as lost.
        status = absl::DeadlineExceededError(
            "the fuse stopped the child: no keepalive answer in time");
      }
      if (!status.ok()) {
        result.loss = status;
        Log(LogLevel::kWarn,
            absl::StrCat("lease lost: ", status.message(),
                         "; stopping the child's process group"));
      }
    }
    const bool lost = !result.loss.ok();
    const MonoTime now = MonoNow();
    if (child.exited()) {
      // Until the group is empty, the holder is still running.
      if (!child.GroupAlive()) break;
      if (!stopping) {
        Log(LogLevel::kInfo,
            "the child exited; stopping what is left of its "
            "process group");
      }
    }
    if ((lost || child.exited()) && !stopping) {
      stopping = true;
      if (lost && fuse != nullptr && fuse->GuardAlive()) {
        // One SIGTERM per loss: the fuse sends it (at once, or it already
        // did), and SIGKILL before the deadline. The loop sends SIGKILL
        // only if the group outlives that.
        fuse->Fire();
        kill_at = now + options.kill_after + absl::Milliseconds(100);
      } else {
        child.SignalGroup(SIGTERM);
        child.SignalGroup(SIGCONT);  // a stopped group cannot act on it
        kill_at = now + options.kill_after;
      }
    }
    if (stopping && now >= kill_at) {
      child.SignalGroup(SIGKILL);
      kill_at = now + absl::Milliseconds(100);  // re-send until gone
    }

    MonoTime wake_at = kill_at;
    if (!lost) wake_at = std::min(wake_at, session.loss_at());
    struct pollfd fds[3] = {
        {signals.fd(), POLLIN, 0}, {wake.fd(), POLLIN, 0}, {-1, POLLIN, 0}};
    // The guard's report, until the loss is known (its EOF stays readable).
    if (fuse != nullptr && !lost) fds[2].fd = fuse->report_fd();
    poll(fds, 3, PollTimeoutMs(wake_at));
    wake.Drain();
    for (int sig : signals.ReadPending()) {
      if (!SignalSet::IsForwarded(sig)) continue;
      child.SignalGroup(sig);
      if (sig != SIGUSR1 && sig != SIGUSR2) result.stop_signal = sig;
    }
  }
  result.exit_code = ExitCodeFromWaitStatus(child.wait_status());
  result.reason = result.loss.ok() ? SupervisorResult::Reason::kChildExited
                                   : SupervisorResult::Reason::kLeaseLost;
  return result;
}

}  // namespace conch
