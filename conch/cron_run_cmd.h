// `conch cron run NAME [--timeout D] [--wait]`: asks the daemons for an
// extra tick of a job now (a run request, core/cron/cron.h) and says which
// daemon claimed it; with --wait, waits for the run's result.
//
// Output:
//   (text)        "tick <T> claimed by <ID> (rev <N>)" on stdout; with
//                 --wait that line goes to stderr, the job's output to
//                 stdout, and a failure, signal, skip or zombie is one line
//                 on stderr ("conch: tick <T> on <ID>: failed (code 3)").
//   -o json       one object on stdout: job, tick (UTC), claimed_by, rev;
//                 with --wait also outcome (ok, failed, skipped, zombie),
//                 started, ended, exit_code|signal|skipped, output (the
//                 kept output, never raw on stdout) and output_cut. Nothing
//                 about the claim or the outcome on stderr.
// Errors of conch's own (no such job, nobody claimed it, etcd) are one
// line on stderr in every format, with nothing on stdout.
//
// Exit codes: 0 claimed (--wait: the job's code); 128+S killed by signal
// S; 75 nobody claimed it within --timeout (the request is withdrawn) or
// the tick was recorded as skipped; 70 a zombie (its daemon went away
// before recording a result); 1 no such job; 64 bad flags; 69/77 etcd.
//
// Thread-compatible; runs on the main thread.
//
// Example:
//   conch cron run backup --wait --json
#ifndef CONCH_CONCH_CRON_RUN_CMD_H_
#define CONCH_CONCH_CRON_RUN_CMD_H_

#include <string>

#include "conch/common_flags.h"

namespace CLI {
class App;
}  // namespace CLI

namespace conch {

struct CronRunArgs {
  std::string name;
  std::string timeout = "10s";
  bool wait = false;
};

// Registers `run` under `cron`; returns it.
CLI::App* SetupCronRun(CLI::App& cron, CronRunArgs* args);
int RunCronRun(const CronRunArgs& args, const CommonOptions& options);

}  // namespace conch

#endif  // CONCH_CONCH_CRON_RUN_CMD_H_
