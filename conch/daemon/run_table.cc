#include "conch/daemon/run_table.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/base/log.h"
#include "core/process/child.h"
#include "core/records/records.h"

namespace conch::daemon {
namespace {

std::string TickName(const Tick& t) {
  return absl::StrCat("job ", t.job->name, " tick ",
                      records::FormatRfc3339(t.instant));
}

}  // namespace

absl::StatusOr<RunAs> LookUpUser(const std::string& user) {
  if (geteuid() != 0) {
    struct passwd* self = getpwuid(geteuid());
    if (self == nullptr || user != self->pw_name) {
      return absl::PermissionDeniedError(absl::StrCat(
          "cannot run as ", user, ": conchd runs as ",
          self != nullptr ? self->pw_name : absl::StrCat("uid ", geteuid()),
          ", not root"));
    }
  }
  std::vector<char> buf(16384);
  struct passwd pw;
  struct passwd* found = nullptr;
  const int err = getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
  if (err != 0 || found == nullptr) {
    return absl::NotFoundError(absl::StrCat("no user ", user, " on this host"));
  }
  RunAs as;
  ChildSpec::Credentials c;
  c.uid = pw.pw_uid;
  c.gid = pw.pw_gid;
  int n = 64;
  std::vector<gid_t> groups(static_cast<size_t>(n));
  if (getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n) < 0) {
    groups.resize(static_cast<size_t>(n));
    getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n);
  }
  groups.resize(static_cast<size_t>(std::max(n, 0)));
  c.groups = std::move(groups);
  as.credentials = std::move(c);
  as.env = {{"USER", pw.pw_name}, {"LOGNAME", pw.pw_name}, {"HOME", pw.pw_dir}};
  return as;
}

size_t KeptOutput(const Tick& tick) {
  const int32_t keep = tick.job->job.keep_output();
  if (keep <= 0) return records::kOutputTailBytes;
  return std::min<size_t>(static_cast<size_t>(keep),
                          records::kMaxOutputTailBytes);
}

RunOutcome NotRun(Tick tick, const std::string& daemon_id,
                  const std::string& why, int exit_code, absl::Time now) {
  RunOutcome o{std::move(tick), {}, {}};
  o.result.set_daemon(daemon_id);
  o.result.set_started(records::FormatRfc3339(now));
  o.result.set_ended(o.result.started());
  if (exit_code >= 0) {
    o.result.set_exit_code(exit_code);
    o.result.set_output_tail(records::Utf8Tail(records::SanitizeUtf8(why),
                                               records::kOutputTailBytes));
    o.line = absl::StrCat("not started: ", why, " (exit ", exit_code, ")");
  } else {
    o.result.set_skipped(why);
    o.line = absl::StrCat("skipped (", why, ")");
  }
  return o;
}

RunTable::RunTable(RunTableOptions options, CompletionQueue* done,
                   Reaper* reaper)
    : o_(std::move(options)), done_(done), reaper_(reaper) {}

RunTable::~RunTable() {
  for (auto& [pid, run] : runs_) {
    reaper_->Unwatch(pid);
    if (run->out_fd >= 0) close(run->out_fd);
  }
}

absl::StatusOr<std::string> RunTable::Resolve(const std::string& command) {
  const MonoTime now = MonoNow();
  auto it = resolved_.find(command);
  if (it != resolved_.end() && now - it->second.at < kResolveFor) {
    return it->second.path;
  }
  if (resolved_.size() > 4096) resolved_.clear();  // bounded, whatever runs
  Resolved r{now, ResolveCommand(command)};
  resolved_.insert_or_assign(command, r);
  return r.path;
}

std::optional<RunOutcome> RunTable::Start(const RunStart& start) {
  const Tick& tick = start.tick;
  if (runs_.size() + static_cast<size_t>(spawning_) >=
      static_cast<size_t>(Fuse::kMaxGroups)) {
    return NotRun(tick, o_.daemon_id, "too many running jobs", -1, absl::Now());
  }
  const records::Job& job = tick.job->job;
  std::vector<std::string> argv(job.argv().begin(), job.argv().end());
  // A command with a slash but not absolute is relative to the job's
  // directory (cron add refuses one without --dir).
  std::string command = argv[0];
  if (!job.dir().empty() && command.find('/') != std::string::npos &&
      command[0] != '/') {
    command = absl::StrCat(job.dir(), "/", command);
  }
  absl::StatusOr<std::string> path = Resolve(command);
  if (!path.ok()) {
    return NotRun(tick, o_.daemon_id, std::string(path.status().message()),
                  ExitCodeForCommand(path.status()), absl::Now());
  }
  auto spec = std::make_shared<ChildSpec>();
  spec->path = *path;
  spec->dir = job.dir();
  std::vector<std::pair<std::string, std::string>> run_as_env;
  if (!job.user().empty()) {
    absl::StatusOr<RunAs> as = LookUpUser(job.user());
    if (!as.ok()) {
      return NotRun(tick, o_.daemon_id, std::string(as.status().message()), 126,
                    absl::Now());
    }
    spec->credentials = as->credentials;
    run_as_env = std::move(as->env);
  }
  spec->argv = std::move(argv);
  spec->take_terminal = false;
  // No PR_SET_PDEATHSIG (it would tie the job to the spawner thread that
  // started it): the session's fuse covers the daemon's death.
  spec->die_with_parent = false;
  spec->nice = o_.job_nice;
  // The job's own variables first: the first of two equal names wins.
  for (const auto& [k, v] : job.env()) spec->env.emplace_back(k, v);
  for (auto& kv : run_as_env) spec->env.push_back(std::move(kv));
  for (auto& kv : std::vector<std::pair<std::string, std::string>>{
           {"CONCH_JOB", tick.job->name},
           {"CONCH_NAME", tick.job->name},
           {"CONCH_TICK", records::FormatRfc3339(tick.instant)},
           {"CONCH_REV", absl::StrCat(start.revision)},
           {"CONCH_LEASE", start.lease_hex}}) {
    spec->env.push_back(std::move(kv));
  }
  done_->Expect();
  // Starts ahead of this one, and when it was queued: what a start really
  // costs under load (admission.h) shows as the wait in this queue.
  const int ahead = spawning_;
  const absl::Time queued = absl::Now();
  ++spawning_;
  reaper_->KeepUnwatched(true);
  spawner_.Submit([this, spec, start, ahead, queued] {
    Spawned s;
    s.tick = start.tick;
    s.revision = start.revision;
    s.fuse = start.fuse;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      s.child =
          absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
      done_->Push(std::move(s));
      return;
    }
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    ChildSpec local = *spec;
    local.output_fd = fds[1];
    s.started = absl::Now();
    if (s.started - start.tick.instant > o_.max_late) {
      // An overloaded daemon does not start a tick later than it would
      // claim one: the tick is recorded as skipped (late) instead.
      s.child = absl::DeadlineExceededError("late");
    } else {
      s.child = Child::Spawn(local);
    }
    close(fds[1]);
    if (s.child.ok()) {
      start.fuse->Arm((*s.child)->pgid(), start.deadline);
      s.out_fd = fds[0];
      // The spawn itself, or, behind a queue, the wait per start ahead
      // (the spawners' real throughput: descheduled threads, a busy
      // machine), whichever is more.
      s.spawn_cost = std::max(absl::Now() - s.started,
                              (s.started - queued) * kSpawners / (ahead + 1));
    } else {
      close(fds[0]);
    }
    // The loop only registers the run (its exit waits for housekeeping
    // anyway): it is woken once the spawners have nothing queued, not once
    // per start. Whoever takes the last queued start pokes it after that.
    done_->Push(std::move(s), /*notify=*/spawner_.Queued() == 0);
  });
  return std::nullopt;
}

std::optional<RunOutcome> RunTable::Register(Spawned s) {
  --spawning_;
  std::optional<RunOutcome> outcome = Admit(std::move(s));
  // Statuses are kept for runs not registered yet; the last is now.
  if (spawning_ == 0) reaper_->KeepUnwatched(false);
  return outcome;
}

std::optional<RunOutcome> RunTable::Admit(Spawned s) {
  if (absl::IsDeadlineExceeded(s.child.status())) {
    Log(LogLevel::kWarn,
        absl::StrCat(TickName(s.tick),
                     ": could not start within --max-late (overloaded)"));
    return NotRun(std::move(s.tick), o_.daemon_id, "late", -1, absl::Now());
  }
  if (!s.child.ok()) {
    return NotRun(std::move(s.tick), o_.daemon_id,
                  std::string(s.child.status().message()),
                  ExitCodeForCommand(s.child.status()), absl::Now());
  }
  // ESRCH: the job has already exited and been reaped (by this loop, as
  // an early exit) before its spawner got to set the nice value.
  if (const int err = (*s.child)->nice_errno(); err != 0 && err != ESRCH) {
    Log(LogLevel::kWarn,
        absl::StrCat(TickName(s.tick), ": --job-nice ", *o_.job_nice,
                     " not set (", std::strerror(err),
                     "), runs at conchd's priority"));
  }
  auto run = std::make_unique<Run>();
  run->tick = std::move(s.tick);
  run->revision = s.revision;
  run->group = std::make_unique<GroupRun>(*std::move(s.child),
                                          std::move(s.fuse), o_.kill_after);
  run->out_fd = s.out_fd;
  run->started = s.started;
  const pid_t pid = run->group->child().pid();
  // It may have exited (and been reaped) before the loop heard of it: the
  // reaper kept its status.
  reaper_->Watch(&run->group->child());
  Log(LogLevel::kDebug,
      absl::StrCat(TickName(run->tick), ": started pid ", pid));
  ++running_jobs_[run->tick.job->encoded];
  runs_[pid] = std::move(run);
  return std::nullopt;
}

void RunTable::AddPollFds(std::vector<struct pollfd>* fds) {
  polled_.clear();
  for (const auto& [pid, run] : runs_) {
    if (run->out_fd < 0) continue;
    fds->push_back({run->out_fd, POLLIN, 0});
    polled_.push_back(run.get());
  }
}

void RunTable::Drain(Run& run) {
  char buf[8192];
  while (true) {
    const ssize_t n = read(run.out_fd, buf, sizeof(buf));
    if (n > 0) {
      run.tail.append(buf, static_cast<size_t>(n));
      run.output_bytes += static_cast<uint64_t>(n);
      const size_t keep = KeptOutput(run.tick);
      if (run.tail.size() > 4 * keep) {
        run.tail.erase(0, run.tail.size() - keep);
      }
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      close(run.out_fd);
      run.out_fd = -1;
    }
    return;
  }
}

void RunTable::ReadOutputs(const struct pollfd* fds, size_t n) {
  for (size_t i = 0; i < n && i < polled_.size(); ++i) {
    if (fds[i].revents != 0 && polled_[i]->out_fd >= 0) Drain(*polled_[i]);
  }
  polled_.clear();
}

RunOutcome RunTable::Finish(Run& run, absl::Time ended) const {
  RunOutcome o{run.tick, {}, {}};
  const int ws = run.group->child().wait_status();
  o.result.set_daemon(o_.daemon_id);
  o.result.set_started(records::FormatRfc3339(run.started));
  o.result.set_ended(records::FormatRfc3339(ended));
  if (WIFSIGNALED(ws)) {
    o.result.set_signal(WTERMSIG(ws));
    o.line = absl::StrCat("failed (signal ", WTERMSIG(ws), ")");
  } else {
    o.result.set_exit_code(WEXITSTATUS(ws));
    o.line = WEXITSTATUS(ws) == 0
                 ? std::string("ok")
                 : absl::StrCat("failed (code ", WEXITSTATUS(ws), ")");
  }
  records::OutputTail tail =
      records::LineTail(run.tail, run.output_bytes, KeptOutput(run.tick));
  o.result.set_output_tail(std::move(tail.tail));
  o.result.set_output_cut(static_cast<int32_t>(
      std::min<int64_t>(tail.cut, std::numeric_limits<int32_t>::max())));
  absl::StrAppend(&o.line, " after ",
                  absl::FormatDuration(
                      absl::Trunc(ended - run.started, absl::Milliseconds(1))),
                  ", rev ", run.revision,
                  run.stopped_by_daemon ? ", stopped by conchd" : "");
  return o;
}

std::vector<RunOutcome> RunTable::Advance(MonoTime now) {
  std::vector<RunOutcome> outcomes;
  // The groups of the runs that ended, per fuse: released together (one
  // datagram, one wakeup of the guard), then the runs' hold on their fuse
  // goes (the last run of a lost session disarms its guard).
  std::map<const Fuse*,
           std::pair<std::shared_ptr<const Fuse>, std::vector<pid_t>>>
      released;
  for (auto it = runs_.begin(); it != runs_.end();) {
    Run& run = *it->second;
    if (!run.group->Advance(now)) {
      ++it;
      continue;
    }
    if (auto j = running_jobs_.find(run.tick.job->encoded);
        j != running_jobs_.end() && --j->second == 0) {
      running_jobs_.erase(j);
    }
    // What is left in the pipe, without waiting for EOF.
    if (run.out_fd >= 0) {
      Drain(run);
      if (run.out_fd >= 0) close(run.out_fd);
      run.out_fd = -1;
    }
    if (const std::shared_ptr<const Fuse>& fuse = run.group->fuse()) {
      auto& [held, groups] = released[fuse.get()];
      held = fuse;
      groups.push_back(run.group->child().pgid());
    }
    outcomes.push_back(Finish(run, absl::Now()));
    reaper_->Unwatch(it->first);
    it = runs_.erase(it);
  }
  for (auto& [key, fuse_and_groups] : released) {
    fuse_and_groups.first->Release(fuse_and_groups.second);
  }
  return outcomes;
}

void RunTable::StopAll(const char* why, bool lease_lost, MonoTime now) {
  for (auto& [pid, run] : runs_) {
    if (run->group->stopping()) continue;
    Log(LogLevel::kWarn,
        absl::StrCat(TickName(run->tick), ": stopping (", why, ")"));
    run->stopped_by_daemon = true;
    if (lease_lost) {
      run->group->StopForLoss(now);
    } else {
      run->group->Stop(now);
    }
  }
}

MonoTime RunTable::NextWake(MonoTime now) const {
  MonoTime wake = MonoTime::Infinite();
  for (const auto& [pid, run] : runs_) {
    wake = std::min(wake, run->group->NextWake(now));
  }
  return wake;
}

}  // namespace conch::daemon
