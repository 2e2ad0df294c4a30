// RunTable: the claimed ticks one conchd is running: starting them,
// reaping them, capturing their output, stopping them, and what each one
// came to.
//
// Start() resolves the command (remembered for a second: a burst starts
// the same commands hundreds of times) and hands the start itself (a vfork
// that waits for the exec) to one of two spawner threads, so that a burst
// starts on both cores; the spawner arms the run's fuse with its group and
// reports a Spawned completion, which the loop gives to Register(). A tick
// that could not start within --max-late is recorded as skipped (late)
// instead. Each run is a GroupRun: its output (stdout and stderr, one pipe)
// is read while it runs, the last KeptOutput() bytes kept; when the
// child exits, what is left of its group is stopped; once the group is
// gone, Advance() returns the run's outcome and its groups are released
// from their fuses, together.
//
// The environment of a run: CONCH_JOB and CONCH_NAME (the job), CONCH_TICK
// (the instant, RFC 3339), CONCH_REV (the claim's revision, its fencing
// token) and CONCH_LEASE.
//
// Ownership: owns the runs and the spawner threads (joined first on
// destruction); borrows the CompletionQueue and the Reaper, which must
// outlive it. Thread-compatible: everything but the spawners runs on the
// loop thread.
//
// Example:
//   RunTable runs(options, &done, &reaper);
//   if (std::optional<RunOutcome> no = runs.Start(start)) record(*no);
//   ... on a Spawned completion: runs.Register(std::move(s));
//   ... each loop turn:
//   reaper.Reap();
//   for (RunOutcome& o : runs.Advance(MonoNow())) record(o);
#ifndef CONCH_CONCH_DAEMON_RUN_TABLE_H_
#define CONCH_CONCH_DAEMON_RUN_TABLE_H_

#include <poll.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "conch/daemon/completion.h"
#include "conch/daemon/job_table.h"
#include "core/base/mono_time.h"
#include "core/base/work_pool.h"
#include "core/process/child.h"
#include "core/process/fuse.h"
#include "core/process/group_run.h"
#include "core/process/reaper.h"
#include "core/records/records.pb.h"

namespace conch::daemon {

// What became of a tick: the result record to write and a log line.
struct RunOutcome {
  Tick tick;
  records::Result result;
  std::string line;
};

// Who a job with `cron add --user` runs as: the user's uid, primary and
// supplementary groups, and USER, LOGNAME and HOME. A daemon that is not
// root can only run a job as itself: PermissionDenied otherwise, naming
// both users; NotFound for a user this host does not know.
struct RunAs {
  ChildSpec::Credentials credentials;
  std::vector<std::pair<std::string, std::string>> env;
};
absl::StatusOr<RunAs> LookUpUser(const std::string& user);

// How many bytes of output a run of `tick`'s job keeps (Job.keep_output,
// bounded; the default when unset).
size_t KeptOutput(const Tick& tick);

// The outcome of a claimed tick that did not run: skipped (`why` is the
// reason) when exit_code < 0, else failed to start with that exit code
// (`why` becomes its output).
RunOutcome NotRun(Tick tick, const std::string& daemon_id,
                  const std::string& why, int exit_code, absl::Time now);

struct RunTableOptions {
  std::string daemon_id;
  absl::Duration kill_after = absl::Seconds(2);
  absl::Duration max_late = absl::Seconds(10);
  std::optional<int> job_nice;  // unset: the daemon's own
};

// A claimed tick to start, under the session that claimed it.
struct RunStart {
  Tick tick;
  int64_t revision = 0;  // the claim's (CONCH_REV)
  std::string lease_hex;
  std::shared_ptr<const Fuse> fuse;  // the session's
  MonoTime deadline;                 // the session's lease deadline
};

class RunTable {
 public:
  // The spawner threads.
  static constexpr int kSpawners = 2;

  RunTable(RunTableOptions options, CompletionQueue* done, Reaper* reaper);
  RunTable(const RunTable&) = delete;
  RunTable& operator=(const RunTable&) = delete;
  ~RunTable();

  // Hands the start to a spawner; the outcome instead when the run cannot
  // be started at all (too many running, command not found).
  std::optional<RunOutcome> Start(const RunStart& start);
  // A spawner's report: the run is registered, or its outcome comes back
  // (late, or the start failed).
  std::optional<RunOutcome> Register(Spawned s);

  // The output pipes to poll, appended to `fds`; ReadOutputs takes the
  // same entries back after the poll.
  void AddPollFds(std::vector<struct pollfd>* fds);
  void ReadOutputs(const struct pollfd* fds, size_t n);

  // Stops what is due and returns the outcomes of the runs that are done.
  std::vector<RunOutcome> Advance(MonoTime now);
  // Stops every run (see GroupRun: after a loss, `lease_lost`, the fuses
  // send the SIGTERM). A run already told to stop is left alone.
  void StopAll(const char* why, bool lease_lost, MonoTime now);
  // When Advance has something to do without an outside event.
  MonoTime NextWake(MonoTime now) const;

  // Whether a run of the job is in progress here.
  bool RunningHere(const std::string& encoded) const {
    return running_jobs_.count(encoded) != 0;
  }
  size_t size() const { return runs_.size(); }
  bool empty() const { return runs_.empty(); }
  // Handed to a spawner, not yet registered.
  int spawning() const { return spawning_; }

 private:
  struct Run {
    Tick tick;
    int64_t revision = 0;
    std::unique_ptr<GroupRun> group;
    int out_fd = -1;  // read end of the output pipe, -1 once closed
    std::string tail;
    uint64_t output_bytes = 0;  // all it wrote, kept or not
    absl::Time started;
    bool stopped_by_daemon = false;
  };

  // Register, but for the count of spawns.
  std::optional<RunOutcome> Admit(Spawned s);
  absl::StatusOr<std::string> Resolve(const std::string& command);
  // Reads what `run`'s pipe holds now; closes it at EOF.
  static void Drain(Run& run);
  RunOutcome Finish(Run& run, absl::Time ended) const;

  // Constant after construction.
  const RunTableOptions o_;
  CompletionQueue* const done_;
  Reaper* const reaper_;

  std::map<pid_t, std::unique_ptr<Run>> runs_;
  // How many of runs_ each job has (by encoded name): RunningHere is asked
  // for every fallback tick, and a loaded daemon has thousands of runs.
  std::map<std::string, int> running_jobs_;
  int spawning_ = 0;
  std::vector<Run*> polled_;  // the run of each fd added by AddPollFds

  struct Resolved {
    MonoTime at;
    absl::StatusOr<std::string> path;
  };
  std::map<std::string, Resolved> resolved_;  // by command (argv[0])
  static constexpr absl::Duration kResolveFor = absl::Seconds(1);

  WorkPool spawner_{kSpawners};  // last: joined first, while the rest lives
};

}  // namespace conch::daemon

#endif  // CONCH_CONCH_DAEMON_RUN_TABLE_H_
