#include "conch/daemon/run_table.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
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

// `g`'s SIGKILL instant (Infinite unless it was told to stop): its NextWake
// at the end of time, where the "soon" of an exited or stopping group
// (now + kRecheck) never comes.
MonoTime KillAt(const GroupRun& g) { return g.NextWake(MonoTime::Infinite()); }

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
    : o_(std::move(options)),
      done_(done),
      reaper_(reaper),
      epoll_fd_(epoll_create1(EPOLL_CLOEXEC)) {
  if (epoll_fd_ < 0) {
    Log(LogLevel::kError,
        absl::StrCat("epoll_create1: ", std::strerror(errno)));
    abort();  // out of file descriptors at start-up
  }
}

RunTable::~RunTable() {
  for (auto& [pid, run] : runs_) {
    reaper_->Unwatch(pid);
    CloseOutput(*run);
  }
  close(epoll_fd_);
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
  if (run->out_fd >= 0) {
    struct epoll_event ev = {};
    ev.events = EPOLLIN;  // level-triggered; EPOLLHUP comes anyway
    ev.data.u64 = static_cast<uint64_t>(pid);
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, run->out_fd, &ev) == 0) {
      run->in_epoll = true;
      ++in_epoll_;
    } else {
      Log(LogLevel::kWarn,
          absl::StrCat(TickName(run->tick), ": output polled on its own (",
                       "epoll_ctl: ", std::strerror(errno), ")"));
      poll_instead_.insert(pid);
    }
  }
  // It may have exited (and been reaped) before the loop heard of it: the
  // reaper kept its status.
  reaper_->Watch(&run->group->child());
  Log(LogLevel::kDebug,
      absl::StrCat(TickName(run->tick), ": started pid ", pid));
  ++running_jobs_[run->tick.job->encoded];
  // Its child may have exited already (above): due at once.
  NoteWake(*run);
  runs_[pid] = std::move(run);
  return std::nullopt;
}

void RunTable::NoteWake(const Run& run) {
  const GroupRun& group = *run.group;
  wake_kill_ = std::min(wake_kill_, KillAt(group));
  if (group.child().exited() || group.stopping()) wake_recheck_ = true;
}

void RunTable::AddPollFds(std::vector<struct pollfd>* fds) {
  fds->push_back({epoll_fd_, POLLIN, 0});
  polled_.clear();
  for (pid_t pid : poll_instead_) {
    fds->push_back({runs_.at(pid)->out_fd, POLLIN, 0});
    polled_.push_back(pid);
  }
}

void RunTable::CloseOutput(Run& run) {
  if (run.out_fd < 0) return;
  if (run.in_epoll) {
    // Out of the set first: closing the fd would not remove it while
    // another process (a child between its fork and its exec) still holds
    // the pipe, and its events would come back for a pid reused.
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, run.out_fd, nullptr);
    run.in_epoll = false;
    --in_epoll_;
  } else {
    poll_instead_.erase(run.group->child().pid());
  }
  close(run.out_fd);
  run.out_fd = -1;
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
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) CloseOutput(run);
    return;
  }
}

void RunTable::ReadOutputs(const struct pollfd* fds, size_t n) {
  // Nothing polled (a timeout): nothing read, as when polling each pipe.
  if (fds != nullptr && n > 0 && fds[0].fd == epoll_fd_) {
    if (fds[0].revents != 0) ReadReady();
    for (size_t i = 1; i < n && i - 1 < polled_.size(); ++i) {
      if (fds[i].revents == 0) continue;
      auto it = runs_.find(polled_[i - 1]);
      if (it != runs_.end() && it->second->out_fd == fds[i].fd) {
        Drain(*it->second);
      }
    }
  }
  polled_.clear();
}

void RunTable::ReadReady() {
  struct epoll_event events[kMaxEvents];
  // Level-triggered: a pipe drained is not reported again, and one that
  // is still ready goes to the back of epoll's ready list. A full batch
  // may have left some: another, but no more batches than the set could
  // fill, so that pipes that keep filling do not hold the loop (they are
  // read again next turn).
  const int batches = in_epoll_ / kMaxEvents + 1;
  for (int b = 0; b < batches; ++b) {
    const int got = epoll_wait(epoll_fd_, events, kMaxEvents, /*timeout=*/0);
    if (got < 0) {
      if (errno == EINTR) continue;
      Log(LogLevel::kError, absl::StrCat("epoll_wait: ", std::strerror(errno)));
      return;
    }
    for (int i = 0; i < got; ++i) {
      // By pid, in runs_: a run that is gone is not found (its pipe left
      // the set before it was closed anyway).
      auto it = runs_.find(static_cast<pid_t>(events[i].data.u64));
      if (it != runs_.end() && it->second->in_epoll) Drain(*it->second);
    }
    if (got < kMaxEvents) return;
  }
}

RunOutcome RunTable::Finish(Run& run, absl::Time ended) const {
  RunOutcome o{run.tick, {}, {}};
  o.ran = ended - run.started;
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
  // The cached wake is taken again from the runs that stay (see
  // NextWake).
  wake_kill_ = MonoTime::Infinite();
  wake_recheck_ = false;
  for (auto it = runs_.begin(); it != runs_.end();) {
    Run& run = *it->second;
    // A child not reaped (as far as the Reaper told it) in a group not
    // told to stop: GroupRun::Advance has nothing to do (the run cannot
    // be done, there is nothing to stop, no SIGKILL is due) and its
    // NextWake is Infinite. Most runs of a loaded daemon are so.
    if (!run.group->child().exited() && !run.group->stopping()) {
      ++it;
      continue;
    }
    if (!run.group->Advance(now)) {
      NoteWake(run);
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
      CloseOutput(run);
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
  // Every run is walked anyway: the cached wake is taken again from all.
  wake_kill_ = MonoTime::Infinite();
  wake_recheck_ = false;
  for (auto& [pid, run] : runs_) {
    if (!run->group->stopping()) {
      Log(LogLevel::kWarn,
          absl::StrCat(TickName(run->tick), ": stopping (", why, ")"));
      run->stopped_by_daemon = true;
      if (lease_lost) {
        run->group->StopForLoss(now);
      } else {
        run->group->Stop(now);
      }
    }
    NoteWake(*run);
  }
}

// The earliest GroupRun::NextWake(now) of the runs, without asking each:
//   min over runs of min(kill_at, exited || stopping ? now + kRecheck : inf)
//   = min(min of kill_at, any exited or stopping ? now + kRecheck : inf).
// Both parts are kept by every call that changes what they are made of:
//   - kill_at (absolute) changes only in GroupRun::Stop, StopForLoss and
//     Advance, which only StopAll and Advance call, and both take the
//     cache again from the runs they leave; a new run (Register) has
//     none. An instant cached in the past is what the scan returned too
//     (a SIGKILL due, for the next Advance).
//   - stopping() turns on only there too. exited() turns on in
//     Reaper::Reap, out of sight; Register notes a status the Reaper kept
//     for it, and the loop calls Advance right after every Reap, which
//     sees the rest. A Reap without an Advance after it would leave an
//     exit unnoticed here until the next Advance: the exit itself
//     (SIGCHLD) wakes the loop, which reaps and advances.
//   - the "soon" part (now + kRecheck) moves with `now`: only whether it
//     applies is cached, and it is added to this call's `now`.
// Runs that Advance erased were left out when it took the cache again.
MonoTime RunTable::NextWake(MonoTime now) const {
  MonoTime wake = wake_kill_;
  if (wake_recheck_) wake = std::min(wake, now + GroupRun::kRecheck);
  return wake;
}

}  // namespace conch::daemon
