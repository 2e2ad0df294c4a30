// conchd: the cron daemon (spec 04). main() only builds the command line
// and hands over to RunCronDaemon (conch/daemon/daemon.h).
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "conch/common_flags.h"
#include "conch/daemon/daemon.h"
#include "conch/exit_codes.h"
#include "conch/identity.h"
#include "conch/version.h"
#include "core/base/duration.h"
#include "core/base/log.h"

int main(int argc, char** argv) {
#ifdef NDEBUG
  // Debian's abseil is built with Mutex deadlock detection on: a debugging
  // aid that updates a lock graph on every contended Mutex operation. Release
  // builds switch it off; tests (built without NDEBUG) keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  conch::SetProgramName("conchd");
  CLI::App app{"conchd: runs the ticks of conch cron jobs, each at most once",
               "conchd"};
  app.set_version_flag("--version", std::string("conchd ") + conch::kVersion);
  conch::CommonFlags common;
  common.log_level = "info";  // one line per tick by default
  conch::AddCommonFlags(app, &common);
  std::string id = conch::HostName();
  std::string max_late = "10s";
  int workers = 8;
  std::optional<int> job_nice;
  app.add_option("--id", id,
                 "this daemon's id, unique among live daemons (default: the "
                 "host name)")
      ->envname("CONCHD_ID");
  app.add_option("--max-late", max_late,
                 "never claim a tick older than this (default 10s)");
  app.add_option("--workers", workers,
                 "threads for etcd calls (claims, results), 1 to 64");
  app.add_option("--job-nice", job_nice,
                 "run jobs at this nice value, -20 to 19, not below conchd's "
                 "own (default: conchd's own)");
  if (std::optional<int> done =
          conch::ParseCommandLine(app, argc, argv, nullptr)) {
    return *done;
  }
  conch::SetLogProgram("conchd", /*wall_clock=*/true);
  absl::StatusOr<conch::CommonOptions> options = conch::Resolve(common);
  if (!options.ok()) return conch::ReportFailure(options.status());
  absl::StatusOr<absl::Duration> late =
      conch::ParsePositiveDuration("--max-late", max_late);
  if (!late.ok()) return conch::ReportFailure(late.status());
  if (workers < 1 || workers > 64) {
    std::cerr << "conchd: invalid --workers " << workers
              << ": must be 1 to 64\n";
    return conch::kExitUsage;
  }
  if (job_nice.has_value()) {
    errno = 0;
    const int own = getpriority(PRIO_PROCESS, 0);
    if (*job_nice < own || *job_nice > 19) {
      std::cerr << "conchd: invalid --job-nice " << *job_nice << ": must be "
                << own << " (conchd's own nice) to 19\n";
      return conch::kExitUsage;
    }
  }
  conch::CronDaemonOptions o;
  o.common = *options;
  o.id = id;
  o.max_late = *late;
  o.workers = workers;
  o.job_nice = job_nice;
  return conch::RunCronDaemon(o);
}
