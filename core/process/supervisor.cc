#include "core/process/supervisor.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/base/log.h"
#include "core/base/mono_time.h"
#include "core/process/reaper.h"

namespace conch {
namespace {

int PollTimeoutMs(MonoTime until) {
  if (until == MonoTime::Infinite()) return 1000;
  const absl::Duration left = until - MonoNow();
  if (left <= absl::ZeroDuration()) return 0;
  // Round up: waking a hair early would only loop once more.
  return static_cast<int>(
      std::min<int64_t>(1000, absl::ToInt64Milliseconds(left) + 1));
}

// Job control, as a shell would see it: the child (the terminal's
// foreground job) stopped, so conch takes the terminal back and stops
// itself with the same kind of signal, which returns the prompt to the
// shell. On SIGCONT (`fg` or `bg`) the child gets the terminal again if
// conch has it, and is continued.
void StopWithTheChild(Child& child) {
  const int sig = child.stop_signal() == SIGSTOP ? SIGSTOP : SIGTSTP;
  Log(LogLevel::kDebug,
      absl::StrCat("the child stopped (signal ", child.stop_signal(),
                   "): stopping too, until continued"));
  child.TakeTerminalBack();
  // To this thread: it stops before raise() returns, and returns only once
  // continued (a signal to the process could be taken by another thread,
  // and this one would run on for a moment).
  raise(sig);
  if (tcgetpgrp(STDIN_FILENO) == getpgrp()) child.GiveTerminal();
  child.SignalGroup(SIGCONT);
  child.SetContinued();
  Log(LogLevel::kDebug, "continued: so is the child");
}

// Whether `sig`, forwarded to the child, asks it to end: a stopped group
// must be continued to act on it.
bool AsksToEnd(int sig) {
  return sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT;
}

}  // namespace

SupervisorResult Supervise(GroupRun& run, etcd::Session& session,
                           SignalSet& signals, const Notifier& wake) {
  SupervisorResult result;
  const Fuse* const fuse = run.fuse().get();
  Child& child = run.child();
  Reaper reaper;
  reaper.Watch(&child);
  while (true) {
    reaper.Reap();
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
    // Until the group is empty, the holder is still running.
    if (run.Done()) break;
    if (child.stop_signal() != 0 && child.has_terminal() && !child.exited() &&
        !lost && !run.stopping()) {
      StopWithTheChild(child);
      continue;  // time passed while stopped: look at the session first
    }
    const MonoTime now = MonoNow();
    if (lost) run.StopForLoss(now);
    if (child.exited() && !run.stopping()) {
      Log(LogLevel::kInfo,
          "the child exited; stopping what is left of its process group");
    }
    run.Advance(now);

    MonoTime wake_at = run.NextWake(now);
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
      if (AsksToEnd(sig)) {
        child.SignalGroup(SIGCONT);  // a stopped group could not act on it
        result.stop_signal = sig;
      }
    }
  }
  reaper.Unwatch(child.pid());
  result.exit_code = ExitCodeFromWaitStatus(child.wait_status());
  result.reason = result.loss.ok() ? SupervisorResult::Reason::kChildExited
                                   : SupervisorResult::Reason::kLeaseLost;
  return result;
}

}  // namespace conch
