// conchd: the cron daemon (spec 04). main() only builds the command line
// and hands over to RunCronDaemon (conch/daemon/daemon.h).
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "conch/common_flags.h"
#include "conch/daemon/daemon.h"
#include "conch/daemon/listen_address.h"
#include "conch/exit_codes.h"
#include "conch/identity.h"
#include "conch/version.h"
#include "core/base/duration.h"
#include "core/base/log.h"
#include "core/process/stop_plan.h"

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
  int max_running = 0;
  std::optional<int> job_nice;
  std::string listen;
  bool listen_public = false;
  conch::CheckValues(app.add_option("--id", id,
                                    "this daemon's id, unique among live "
                                    "daemons: 1 to 64 of A-Z a-z 0-9 . _ - "
                                    "(default: the host name)")
                         ->type_name("ID")
                         ->envname("CONCHD_ID"),
                     [](const std::string& v) -> std::string {
                       const absl::Status ok = conch::ValidateDaemonId(v);
                       return ok.ok() ? ""
                                      : "want 1 to 64 characters of A-Z a-z "
                                        "0-9 . _ -";
                     });
  conch::CheckValues(
      app.add_option("--max-late", max_late,
                     "never claim a tick older than this (default 10s)")
          ->type_name("DURATION"),
      [](const std::string& v) {
        return conch::WhyNotDuration(v, absl::Nanoseconds(1));
      });
  conch::CheckWholeNumbers(
      app.add_option("--workers", workers,
                     "threads for etcd calls (claims, results), 1 to 64 "
                     "(default 8)")
          ->type_name("N"),
      [](const std::string& v) { return conch::WhyNotWholeNumber(v, 1, 64); });
  conch::CheckWholeNumbers(
      app.add_option("--max-running", max_running,
                     "at most N runs in progress here (with the starts "
                     "queued and the claims in flight); a daemon without "
                     "room leaves ticks to the others, 0 to 1000000 "
                     "(default 0: no limit)")
          ->type_name("N"),
      [](const std::string& v) {
        return conch::WhyNotWholeNumber(v, 0, 1000000);
      });
  conch::CheckWholeNumbers(
      app.add_option("--job-nice", job_nice,
                     "run jobs at this nice value, not below conchd's own, "
                     "up to 19 (default: conchd's own)")
          ->type_name("N"),
      [](const std::string& v) -> std::string {
        errno = 0;
        const int own = getpriority(PRIO_PROCESS, 0);
        const std::string why = conch::WhyNotWholeNumber(v, own, 19);
        if (why.empty() || why == "not a whole number") return why;
        return absl::StrCat(why, " (", own, " is conchd's own nice)");
      });
  conch::CheckValues(
      app.add_option("--listen", listen,
                     "serve the status page, /metrics, /healthz, /readyz "
                     "and /api/v1 on HOST:PORT, e.g. 127.0.0.1:9187 "
                     "(port 0: any free port; default: off)")
          ->type_name("ADDR")
          ->envname("CONCHD_LISTEN"),
      [](const std::string& v) -> std::string {
        const absl::StatusOr<conch::daemon::ListenAddress> a =
            conch::daemon::ParseListenAddress(v, /*public_ok=*/true);
        if (a.ok()) return "";
        const std::string m(a.status().message());
        const size_t colon = m.find("\": ");
        return colon == std::string::npos ? m : m.substr(colon + 3);
      });
  app.add_flag("--listen-public", listen_public,
               "allow a --listen address that is not loopback (the page "
               "shows every job's command and output)");
  app.footer(
      "Examples:\n"
      "  conchd --id node1 --endpoints https://etcd1:2379 --cacert ca.pem\n"
      "  conchd --listen 127.0.0.1:9187 --job-nice 10\n"
      "  CONCH_ENDPOINTS=10.0.0.5:2379 CONCHD_ID=node2 conchd\n"
      "\n"
      "Jobs are stored with conch cron add; see conch cron --help.");
  if (std::optional<int> done =
          conch::ParseCommandLine(app, argc, argv, nullptr)) {
    return *done;
  }
  conch::SetLogProgram("conchd", /*wall_clock=*/true);
  absl::StatusOr<conch::CommonOptions> options = conch::Resolve(common);
  if (!options.ok()) return conch::ReportUsage(app, options.status());
  if (absl::Status fits =
          conch::CheckStopBudget(options->ttl, options->kill_after);
      !fits.ok()) {
    return conch::ReportUsage(
        app, conch::NameVariables(app, fits, {"--kill-after", "--ttl"}));
  }
  absl::StatusOr<absl::Duration> late =
      conch::ParsePositiveDuration("--max-late", max_late);
  if (!late.ok()) return conch::ReportUsage(app, late.status());
  conch::CronDaemonOptions o;
  o.common = *options;
  o.id = id;
  o.max_late = *late;
  o.workers = workers;
  o.max_running = max_running;
  o.job_nice = job_nice;
  if (!listen.empty()) {
    absl::StatusOr<conch::daemon::ListenAddress> address =
        conch::daemon::ParseListenAddress(listen, listen_public);
    if (!address.ok()) {
      return conch::ReportUsage(
          app, conch::NameVariables(app, address.status(), {"--listen"}));
    }
    o.listen = *address;
  } else if (listen_public) {
    return conch::ReportUsage(
        app, absl::InvalidArgumentError("--listen-public goes with --listen"));
  }
  return conch::RunCronDaemon(o);
}
