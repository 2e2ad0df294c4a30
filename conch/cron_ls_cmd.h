// `conch cron ls [NAME] [--history K]`: the stored jobs, each with its
// next tick and its last one, in the output format of -o/--json
// (conch/output.h; docs/cli.md, "Output formats").
//
// Tables (aligned on a terminal, tab-separated when piped):
//   NAME SCHEDULE TZ OVERLAP NEXT LAST STATE
// NEXT and LAST in the job's zone ("2026-03-08T02:30:00+01:00"); an
// unschedulable job's NEXT is its problem in parentheses. `-o wide` adds
// NEXT_UTC DAEMON USER DIR KEEP_OUTPUT COMMAND (DAEMON: who ran the last
// tick; COMMAND last, as a shell would read it back).
// --history K adds, after one empty line, a second table of the newest K
// ticks of each job (newest first, jobs in the order above):
//   JOB TICK STATE DAEMON REV          (`wide` adds TICK_UTC)
// printed (header included) whenever K > 0, so that a program splits the
// output at the empty line. STATE reads as in core/cron/cron_state.h.
// -o json: one array, one object per job (name, schedule, tz, overlap,
// next in the job's zone, next_utc, argv, dir, user, keep_output, last,
// history; each tick with tick, state, text, daemon, rev and, once
// recorded, started, ended, exit_code|signal|skipped, output_tail,
// output_cut; ticks in UTC).
//
// A job record that cannot be read is named on stderr, one line each
// ("conch: unreadable job <key>: <why>"), never in the table.
//
// Exit codes: 0 listed; 1 NAME given and no such job (one line on stderr,
// nothing on stdout); 64 bad flags; 69/77 etcd.
//
// Thread-compatible; runs on the main thread.
//
// Example:
//   conch cron ls backup --history 5 -o wide
#ifndef CONCH_CONCH_CRON_LS_CMD_H_
#define CONCH_CONCH_CRON_LS_CMD_H_

#include <string>

#include "conch/common_flags.h"

namespace CLI {
class App;
}  // namespace CLI

namespace conch {

struct CronLsArgs {
  std::string name;  // empty: every job
  int history = 0;   // --history K
};

// Registers `ls` under `cron`; returns it.
CLI::App* SetupCronLs(CLI::App& cron, CronLsArgs* args);
int RunCronLs(const CronLsArgs& args, const CommonOptions& options);

}  // namespace conch

#endif  // CONCH_CONCH_CRON_LS_CMD_H_
