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
// A loaded daemon has thousands of runs in progress, and the loop turns
// often: what it does per turn does not grow with them.
//   - Output: the table owns one epoll set holding every run's open pipe
//     (level-triggered EPOLLIN, keyed by pid; added by Register, removed
//     before the pipe is closed). The loop polls that one fd (AddPollFds)
//     and ReadOutputs() drains only the pipes epoll reports ready.
//   - NextWake() is cached by the calls that already walk every run
//     (Advance, StopAll) and updated by Register: see NextWake.
//   - Advance() still looks at every run (an exit shows only as its
//     Child's flag, set by the Reaper), but calls GroupRun::Advance only
//     for the runs whose child has exited or that were told to stop (the
//     others have nothing due).
// Contract: a child's exit counts from the Advance() after the
// Reaper::Reap() that reaped it (the loop calls them together).
//
// The environment of a run: CONCH_JOB and CONCH_NAME (the job), CONCH_TICK
// (the instant, RFC 3339), CONCH_REV (the claim's revision, its fencing
// token) and CONCH_LEASE.
//
// Ownership: owns the runs, their output pipes, the epoll fd (created by the
// constructor, closed by the destructor) and the spawner threads (joined
// first on destruction); borrows the CompletionQueue and the Reaper, which
// must outlive it. Thread-compatible: everything but the spawners runs on
// the loop thread (the spawners touch neither the runs nor the epoll set).
//
// Example:
//   RunTable runs(options, &done, &reaper);
//   if (std::optional<RunOutcome> no = runs.Start(start)) record(*no);
//   ... on a Spawned completion: runs.Register(std::move(s));
//   ... each loop turn:
//   reaper.Reap();
//   for (RunOutcome& o : runs.Advance(MonoNow())) record(o);
//   std::vector<struct pollfd> fds;
//   runs.AddPollFds(&fds);  // one entry: the epoll fd
//   ppoll(fds.data(), fds.size(), until(runs.NextWake(MonoNow())), nullptr);
//   runs.ReadOutputs(fds.data(), fds.size());
#ifndef CONCH_CONCH_DAEMON_RUN_TABLE_H_
#define CONCH_CONCH_DAEMON_RUN_TABLE_H_

#include <poll.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
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
  // How long the run took, start to end (zero for a tick that did not run).
  absl::Duration ran = absl::ZeroDuration();
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

  // What to poll for output, appended to `fds`: the epoll fd (POLLIN once
  // some run's pipe has data or hung up), whatever the number of runs; a
  // pipe that could not join the epoll set (out of kernel memory, see
  // max_user_watches) is appended on its own. ReadOutputs takes the same
  // entries back after the poll (`n` may be fewer, then only those) and
  // reads the pipes that are ready now, without blocking: epoll_wait with
  // no timeout, a bounded batch at a time. ReadOutputs(nullptr, 0) (the
  // poll timed out, or the fds were not polled) reads nothing.
  void AddPollFds(std::vector<struct pollfd>* fds);
  void ReadOutputs(const struct pollfd* fds, size_t n);

  // Stops what is due and returns the outcomes of the runs that are done.
  std::vector<RunOutcome> Advance(MonoTime now);
  // Stops every run (see GroupRun: after a loss, `lease_lost`, the fuses
  // send the SIGTERM). A run already told to stop is left alone.
  void StopAll(const char* why, bool lease_lost, MonoTime now);
  // When Advance has something to do without an outside event: the
  // earliest GroupRun::NextWake(now) of the runs, as of the last Advance,
  // StopAll or Register (a child reaped since counts from the next
  // Advance). O(1): the walks that change a run's wake cache it.
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
    bool in_epoll = false;  // out_fd is in epoll_fd_, else in poll_instead_
  };

  // Register, but for the count of spawns.
  std::optional<RunOutcome> Admit(Spawned s);
  absl::StatusOr<std::string> Resolve(const std::string& command);
  // Reads what `run`'s pipe holds now; closes it at EOF.
  void Drain(Run& run);
  // Takes `run`'s pipe out of the epoll set (or the poll list), closes it.
  void CloseOutput(Run& run);
  // Drains the runs whose pipes epoll reports ready now.
  void ReadReady();
  // Folds `run` (after any change to it) into the cached wake.
  void NoteWake(const Run& run);
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

  // The epoll set of the runs' open pipes, each keyed by its run's pid
  // (epoll_event.data.u64): an event is looked up in runs_, so it cannot
  // reach a run that is gone. A pipe leaves the set before it is closed,
  // so that no event of a closed pipe comes back (a pid can be reused).
  const int epoll_fd_;
  int in_epoll_ = 0;  // how many pipes the set holds
  // The runs whose pipe could not join the set (EPOLL_CTL_ADD failed):
  // polled on their own, as before epoll. Empty unless the kernel ran
  // short.
  std::set<pid_t> poll_instead_;
  std::vector<pid_t> polled_;  // the run of each such fd AddPollFds added
  // The batch of events ReadOutputs takes at a time.
  static constexpr int kMaxEvents = 256;

  // NextWake's cache. A run's GroupRun::NextWake(now) is its SIGKILL
  // instant (kill_at_, Infinite unless told to stop), or now + kRecheck
  // if that is sooner while its child has exited or it is stopping. The
  // first part is an absolute instant, cached as is: only Stop,
  // StopForLoss and GroupRun::Advance change it, and only RunTable calls
  // them. The second part moves with `now`, so only whether any run has
  // it is cached, and NextWake adds kRecheck to the caller's `now`
  // (caching Advance's now + kRecheck would put a wake in the past 20 ms
  // later and make the loop spin until the next Advance).
  MonoTime wake_kill_ = MonoTime::Infinite();  // earliest SIGKILL instant
  bool wake_recheck_ = false;  // some run's child exited, or it is stopping

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
