// conch: run commands under cluster-wide coordination through etcd v3.
//
// main() only builds the command line and dispatches to the subcommands,
// each a Setup/Run pair in its own file. CLI11's exceptions end here.
#include <malloc.h>

#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "conch/common_flags.h"
#include "conch/cron_cmd.h"
#include "conch/elect_cmd.h"
#include "conch/exit_codes.h"
#include "conch/sema_cmd.h"
#include "conch/status_cmd.h"
#include "conch/version.h"

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

  conch::CommonFlags common;
  conch::AddCommonFlags(app, &common);

  conch::StatusArgs status_args;
  CLI::App* status = conch::SetupStatus(app, &status_args);
  conch::ElectArgs elect_args;
  CLI::App* elect = conch::SetupElect(app, &elect_args);
  conch::SemaArgs sema_args;
  CLI::App* sema = conch::SetupSema(app, &sema_args);
  conch::CronArgs cron_args;
  CLI::App* cron = conch::SetupCron(app, &cron_args);

  std::vector<std::string> command;  // after "--"
  if (std::optional<int> done =
          conch::ParseCommandLine(app, argc, argv, &command)) {
    return *done;
  }
  const bool takes_command =
      elect->parsed() || sema->parsed() || cron_args.apps.add->parsed();
  if (!command.empty() && !takes_command) {
    std::cerr << "conch: only elect, sema and cron add run a command after "
                 "-- (see conch --help)\n";
    return conch::kExitUsage;
  }
  elect_args.run.command = command;
  sema_args.run.command = command;
  cron_args.command = command;

  if (status->parsed()) return conch::RunStatus(status_args, common);
  if (elect->parsed()) return conch::RunElect(elect_args, common);
  if (sema->parsed()) return conch::RunSema(sema_args, common);
  if (cron->parsed()) return conch::RunCron(cron_args, common);
  std::cerr << "conch: no subcommand given (see conch --help)\n";
  return conch::kExitUsage;
}
