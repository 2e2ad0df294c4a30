// Supervise: runs a spawned child for as long as its session holds, and
// decides what the wrapper exits with.
//
// The loop (one thread, poll(2) on the signalfd and a Notifier):
//   - SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 sent to conch are
//     forwarded to the child's process group; the first four (requests to
//     end) are followed by SIGCONT, so that a stopped group acts on them;
//   - job control: when a child that has the terminal (the foreground job
//     of an interactive shell) stops (Ctrl-Z), conch takes the terminal
//     back and stops itself likewise, so the shell shows its prompt; once
//     continued (`fg`), it gives the terminal back and continues the child.
//     While stopped, conch keeps no lease: a stop past the loss threshold
//     is a loss (the fuse stops the group; exit 70 once continued);
//   - children are reaped (Reaper: the wrapper is a child subreaper, so
//     orphaned grandchildren are reaped too);
//   - the session is re-checked on every wake-up and at the instant it
//     would count as lost (Session::loss_at: StopPlan's SIGTERM instant).
//     On loss the group is stopped (GroupRun::StopForLoss: the fuse sends
//     the one SIGTERM, SIGKILL before the lease's deadline). A fuse that
//     reports having fired (its view of the deadline came first) is a loss
//     too. Then it waits for the group, result kLeaseLost (exit 70);
//   - when the child exits on its own, what is left of its group is
//     stopped (GroupRun::Advance) — the whole group is the holder and must
//     be gone before the lease is released — and the result is the
//     child's exit code (128+S for a signal).
// The caller then closes the session (revokes the lease) for a handover.
//
// Thread-compatible: call from the thread that owns the SignalSet.
//
// Example:
//   GroupRun run(*std::move(child), *fuses.Current(), kill_after);
//   SupervisorResult r = Supervise(run, *session, *signals, wake);
//   session->Close(absl::Now() + absl::Seconds(2));
//   return r.exit_code;
#ifndef CONCH_CORE_PROCESS_SUPERVISOR_H_
#define CONCH_CORE_PROCESS_SUPERVISOR_H_

#include "absl/status/status.h"
#include "core/base/notifier.h"
#include "core/process/group_run.h"
#include "core/process/signals.h"
#include "core/recipes/session.h"

namespace conch {

struct SupervisorResult {
  enum class Reason { kChildExited, kLeaseLost };
  Reason reason = Reason::kChildExited;
  // The child's exit code (128+S when killed by signal S).
  int exit_code = 0;
  // Why the session was lost (kLeaseLost only).
  absl::Status loss;
  // The last stop request (SIGINT, SIGTERM, SIGHUP, SIGQUIT) forwarded to
  // the child, or 0: a restart policy must not restart after one.
  int stop_signal = 0;
};

// Supervises `run` (whose fuse, if any, is armed with its group) until its
// group is gone.
SupervisorResult Supervise(GroupRun& run, etcd::Session& session,
                           SignalSet& signals, const Notifier& wake);

}  // namespace conch

#endif  // CONCH_CORE_PROCESS_SUPERVISOR_H_
