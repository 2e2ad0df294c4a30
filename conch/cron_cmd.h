// `conch cron add|rm|ls|run|next`: the job definitions that conchd runs
// (spec 04, docs/cron.md).
//
//   add NAME --schedule SPEC [--tz ZONE] [--overlap allow|skip] [--replace]
//       [--keep-output N] [--dir DIR] [--env NAME=VALUE]... [--user USER]
//       -- CMD [ARGS…]
//                            store a job; 64 for a bad name, schedule, zone
//                            or overlap, or an existing NAME without
//                            --replace (nothing is written then), for an
//                            empty command, and for a relative one without
//                            --dir; a command missing on this host is only
//                            a warning. A name that was removed starts
//                            with a clean history. Prints "job NAME stored
//                            (or replaced); next tick T" (T in the job's
//                            zone); -o json: {"name", "replaced", "next",
//                            "next_utc"}
//   rm NAME [--purge]        delete the definition (exit 1: no such job); a
//                            run in progress finishes and records its result;
//                            --purge also deletes the job's history, also
//                            after a plain rm (exit 1: neither a job nor a
//                            history). Prints nothing; -o json: {"name",
//                            "purged", "deleted" (keys deleted)}
//   ls [NAME] [--history K]  the jobs (cron_ls_cmd.h)
//   run NAME [--timeout D] [--wait]
//                            an extra tick now (cron_run_cmd.h)
//   logs NAME ...            the output of its runs (cron_logs_cmd.h)
//   next --schedule SPEC [--tz ZONE] [--from T] [--count K]
//                            print the next K ticks after T (no etcd): a
//                            preview, and how DST edges are checked end
//                            to end. One time a line in the zone, no
//                            header; -o wide adds UTC as a second column;
//                            -o json: [{"time", "utc"}, ...]
//
// Times are printed as conch/output.h's Timestamp: RFC 3339, milliseconds
// only when the instant has some.
//
// Thread-compatible; runs on the main thread.
//
// Example:
//   conch cron add backup --schedule '30 2 * * *' --tz Europe/Berlin --
//       /usr/local/bin/backup
//   conch cron next --schedule '30 2 * * *' --tz Europe/Berlin -o wide
#ifndef CONCH_CONCH_CRON_CMD_H_
#define CONCH_CONCH_CRON_CMD_H_

#include <string>
#include <vector>

#include "conch/common_flags.h"
#include "conch/cron_logs_cmd.h"
#include "conch/cron_ls_cmd.h"
#include "conch/cron_run_cmd.h"

namespace CLI {
class App;
}  // namespace CLI

namespace conch {

struct CronArgs {
  std::string name;  // add, rm
  std::string schedule;
  std::string tz = "UTC";
  std::string overlap = "allow";
  bool replace = false;
  int keep_output = 0;           // add --keep-output; 0: the default
  std::string dir;               // add --dir
  std::vector<std::string> env;  // add --env NAME=VALUE...
  std::string user;              // add --user
  bool purge = false;            // rm --purge
  std::vector<std::string> command;
  std::string from;  // next: RFC 3339, default now
  int count = 5;
  CronLsArgs ls;
  CronRunArgs run;
  CronLogsArgs logs;
  // The subcommands (owned by the CLI11 app), set by SetupCron so that
  // RunCron can tell which one was parsed.
  struct Apps {
    CLI::App* add = nullptr;
    CLI::App* rm = nullptr;
    CLI::App* ls = nullptr;
    CLI::App* run = nullptr;
    CLI::App* next = nullptr;
    CLI::App* logs = nullptr;
  } apps;
};

// Registers `cron` and its subcommands; returns the `cron` app.
CLI::App* SetupCron(CLI::App& root, CronArgs* args);
// Runs whichever cron subcommand was parsed.
int RunCron(const CronArgs& args, const CommonFlags& common);

}  // namespace conch

#endif  // CONCH_CONCH_CRON_CMD_H_
