// conch: run commands under cluster-wide coordination through etcd v3.
//
// main() only builds the command line and dispatches to the subcommands,
// each a Setup/Run pair in its own file. CLI11's exceptions end in
// ParseCommandLine (common_flags.h).
#include <malloc.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "conch/common_flags.h"
#include "conch/completion_cmd.h"
#include "conch/cron_cmd.h"
#include "conch/elect_cmd.h"
#include "conch/sema_cmd.h"
#include "conch/status_cmd.h"
#include "conch/version.h"
#include "core/process/stop_plan.h"

int main(int argc, char** argv) {
#ifdef NDEBUG
  // Debian's abseil is built with Mutex deadlock detection on: a debugging
  // aid that updates a lock graph on every contended Mutex operation. Release
  // builds switch it off; tests (built without NDEBUG) keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  // One malloc arena: gRPC's threads would each map (and at exit unmap) a
  // 64 MB arena of their own, which costs a short-lived wrapper more than
  // the little contention it saves.
  mallopt(M_ARENA_MAX, 1);
  CLI::App app{
      "conch: run commands under cluster-wide coordination through etcd v3",
      "conch"};
  app.set_version_flag("--version", std::string("conch ") + conch::kVersion);
  app.require_subcommand(1);
  app.fallthrough();
  app.footer(
      "Examples:\n"
      "  conch elect backup -- /usr/local/bin/backup\n"
      "  conch sema db-dump --max 2 --timeout 10m -- pg_dump mydb\n"
      "  conch cron add sync --schedule '@every 15s' -- ./sync.sh\n"
      "\n"
      "The command goes after --; the common flags go anywhere before it. "
      "See conch SUBCOMMAND --help.");

  conch::CommonFlags common;
  conch::AddCommonFlags(app, &common);
  conch::AddOutputFlags(app, &common);

  conch::ElectArgs elect_args;
  CLI::App* elect = conch::SetupElect(app, &elect_args);
  conch::SemaArgs sema_args;
  CLI::App* sema = conch::SetupSema(app, &sema_args);
  conch::CronArgs cron_args;
  CLI::App* cron = conch::SetupCron(app, &cron_args);
  conch::StatusArgs status_args;
  CLI::App* status = conch::SetupStatus(app, &status_args);
  conch::CompletionArgs completion_args;
  CLI::App* completion = conch::SetupCompletion(app, &completion_args);
  // The subcommands that run a command after "--".
  const std::vector<const CLI::App*> runners = {elect, sema,
                                                cron_args.apps.add};

  std::vector<std::string> command;  // after "--"
  if (std::optional<int> done =
          conch::ParseCommandLine(app, argc, argv, &command, runners)) {
    return *done;
  }
  // Needs only the command definitions: no etcd, no Resolve().
  if (completion->parsed()) {
    return conch::RunCompletion(app, completion_args, runners);
  }
  // What only the combination of flags can tell, with the subcommand's
  // help as the hint (the subcommands check again).
  const bool who =
      (elect->parsed() && elect_args.who) || (sema->parsed() && sema_args.who);
  const bool runs = (elect->parsed() || sema->parsed()) && !who;
  const bool separator = std::any_of(argv + 1, argv + argc, [](const char* a) {
    return std::strcmp(a, "--") == 0;
  });
  if (who && (separator || !command.empty())) {
    return conch::UsageError(app,
                             "--who only looks: it does not go with a command");
  }
  if ((runs || cron_args.apps.add->parsed()) && command.empty()) {
    return conch::UsageError(app, "nothing to run: give the command after --");
  }
  if (sema->parsed() && !who && sema_args.max.empty()) {
    return conch::UsageError(app, "--max N is required");
  }
  // --cert without --key, --user without a password, a --kill-after that
  // does not fit --ttl.
  absl::StatusOr<conch::CommonOptions> resolved = conch::Resolve(common);
  if (!resolved.ok()) return conch::ReportUsage(app, resolved.status());
  if (runs) {
    if (absl::Status fits =
            conch::CheckStopBudget(resolved->ttl, resolved->kill_after);
        !fits.ok()) {
      return conch::ReportUsage(
          app, conch::NameVariables(app, fits, {"--kill-after", "--ttl"}));
    }
  }
  elect_args.run.command = command;
  sema_args.run.command = command;
  cron_args.command = command;

  if (status->parsed()) return conch::RunStatus(status_args, common);
  if (elect->parsed()) return conch::RunElect(elect_args, common);
  if (sema->parsed()) return conch::RunSema(sema_args, common);
  if (cron->parsed()) return conch::RunCron(cron_args, common);
  return conch::UsageError(app, "no subcommand given");
}
