// conchd: the cron daemon (spec 04). Any number of them run against one
// etcd; each tick of each job is run at most once, by whichever daemon wins
// the tick's claim Txn (core/cron/cron.h).
//
// What one daemon does:
//   - registers cron/daemon/<id> on its session's lease (its liveness: a
//     claim whose daemon key is gone and has no result is a zombie);
//   - reads the job definitions and watches them (the watch resumes after
//     reconnects; a compacted watch re-reads);
//   - at each tick instant, on its own clock, tries the claim: never a tick
//     before its own start, never one more than --max-late old, so restarts
//     and outages do not replay missed ticks;
//   - runs the winner's command like the wrapper does: own process group,
//     a fuse armed with the session's lease deadline, stdin /dev/null,
//     stdout+stderr captured (last 4 KiB kept), CONCH_JOB, CONCH_NAME,
//     CONCH_TICK, CONCH_REV (the claim's revision) and CONCH_LEASE; when it
//     exits, what is left of its group gets TERM, then KILL after
//     --kill-after; then the result record is written and the job's history
//     cut to the newest 100 ticks;
//   - with --job-nice N, jobs run at nice N while the daemon keeps its own
//     (higher) priority, so that starting a burst of ticks does not queue
//     behind the jobs already started (docs/cron.md, "Priority");
//   - `--overlap skip`: a tick whose previous run of the job is still running
//     (on any daemon) is recorded as skipped (overlap);
//   - `conch cron run` requests (cron/run/…) are claimed like ticks;
//   - a lost session stops every running job (TERM, KILL after
//     --kill-after), records their results, and registers again under a new
//     lease; nothing is claimed while there is no session;
//   - SIGTERM/SIGINT: stop claiming, let running jobs finish for
//     --kill-after, then TERM (and KILL after --kill-after) what is left,
//     record the results, revoke the lease and exit 0. A second signal
//     stops the jobs at once.
// One log line per tick on stderr (level info).
//
// With --listen, an HTTP side on threads of its own (http_server.h) serves
// the daemon's metrics (metrics.h), health (health.h), a status page and
// a JSON API (status_service.h); the loop only publishes counters and
// states to it, and never waits for it.
//
// The pieces, one per file in this package (docs/architecture.md):
//   JobTable (definitions, due ticks) kept by JobCatalog (list, watches,
//   run requests); Roster, FallbackQueue and PlanClaims (who claims what,
//   when) driving TickClaimer (the claim Txns); RunTable (start, reap,
//   output, stop); ResultBatcher (when results go out) and
//   WriteResultBatch; DaemonSession (session, registration, fuse). The
//   Daemon in daemon.cc keeps only the loop and the dispatch of the
//   workers' Completions.
//
// Thread-compatible: RunCronDaemon runs its loop on the calling thread;
// jobs are started on two spawner threads (without PR_SET_PDEATHSIG, which
// is per thread: the fuse covers the daemon's death) and etcd calls run on
// a small WorkPool.
//
// Example:
//   return RunCronDaemon({.common = *options, .id = "host1"});
#ifndef CONCH_CONCH_DAEMON_DAEMON_H_
#define CONCH_CONCH_DAEMON_DAEMON_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "conch/common_flags.h"
#include "conch/daemon/listen_address.h"

namespace conch {

struct CronDaemonOptions {
  CommonOptions common;
  std::string id;
  absl::Duration max_late = absl::Seconds(10);
  // Threads for etcd calls (claims, results).
  int workers = 8;
  // --max-running: at most this many runs in progress, starts queued and
  // claims in flight on this daemon (0: no limit; admission.h).
  int max_running = 0;
  // The nice value jobs run at (--job-nice); unset: the daemon's own.
  std::optional<int> job_nice;
  // --listen: serve /metrics, /healthz, /readyz, the status page and
  // /api/v1 there (status_service.h); unset: no HTTP side.
  std::optional<daemon::ListenAddress> listen;
};

// Checks a daemon id: 1 to 64 bytes of [A-Za-z0-9._-] (it is a key
// segment and a log field as is).
absl::Status ValidateDaemonId(const std::string& id);

// Runs the daemon until SIGTERM/SIGINT (exit 0) or a fatal error (69 etcd
// unreachable at start or the --listen address cannot be bound, 77
// refused, 75 the id is taken by a live daemon).
int RunCronDaemon(const CronDaemonOptions& options);

}  // namespace conch

#endif  // CONCH_CONCH_DAEMON_DAEMON_H_
