// `conch cron logs NAME [--tick T | --last N] [--follow]`: the output of a
// job's runs, as conchd recorded it (Result.output_tail), oldest first.
//
//   (default)    the newest recorded run
//   --last N     the newest N recorded runs (1 to 100)
//   --tick T     the run of tick T (RFC 3339 with any offset, as `cron
//                ls` prints it in the job's zone; matched to the
//                millisecond)
//   --follow     then every new run as its result is recorded, until
//                interrupted (SIGINT/SIGTERM: exit 0)
//
// Each run is preceded by a header line when more than one can be printed
// (`--last N` with N > 1, `--follow`), its tick in UTC as conch/output.h's
// Timestamp prints it (milliseconds only when the instant has some):
//   ==> tick 2026-12-03T07:00:00Z on node2: failed (code 3) <==
// When the output was longer than what the job keeps (cron add
// --keep-output, 4 KiB by default), the kept part starts at a line
// boundary and is preceded by
//   [... 12345 bytes of output before this were not kept ...]
// -o json: one array of runs, oldest first (with --follow: one object per
// line, the runs already recorded first), each {"job", "tick" (UTC),
// "daemon", "state" (ok, failed, skipped), "text" ("failed (code 3)"),
// "started", "ended", "exit_code"|"signal"|"skipped", "output",
// "output_cut"}: the output inside the JSON, never raw. Other formats
// print the text above.
// Runs still in progress, and zombies, have no output yet: they are left
// out of --last, and --tick names them on stderr (exit 75 running, 70
// zombie).
//
// Exit codes: 0 printed (or nothing recorded yet); 1 no such job and no
// history; 64 bad flags; 69/77 etcd.
//
// Thread-compatible; runs on the main thread.
//
// Example:
//   conch cron logs backup --last 3
#ifndef CONCH_CONCH_CRON_LOGS_CMD_H_
#define CONCH_CONCH_CRON_LOGS_CMD_H_

#include <string>

#include "conch/common_flags.h"

namespace CLI {
class App;
}  // namespace CLI

namespace conch {

struct CronLogsArgs {
  std::string name;
  std::string tick;  // --tick: RFC 3339
  int last = 1;
  bool follow = false;
};

// Registers `logs` under `cron`; returns it.
CLI::App* SetupCronLogs(CLI::App& cron, CronLogsArgs* args);
int RunCronLogs(const CronLogsArgs& args, const CommonOptions& options);

}  // namespace conch

#endif  // CONCH_CONCH_CRON_LOGS_CMD_H_
