#include "conch/cron_daemon.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "conch/exit_codes.h"
#include "conch/identity.h"
#include "conch/version.h"
#include "core/backoff.h"
#include "core/child.h"
#include "core/cron.h"
#include "core/cron_state.h"
#include "core/etcd_status.h"
#include "core/fuse.h"
#include "core/log.h"
#include "core/mono_time.h"
#include "core/notifier.h"
#include "core/records.h"
#include "core/schedule.h"
#include "core/session.h"
#include "core/signals.h"
#include "core/stop_plan.h"
#include "core/reaper.h"
#include "core/watch.h"
#include "core/work_pool.h"

namespace conch {
namespace {

using etcd::CronJob;
using etcd::CronStore;

// Every live fuse gets each new lease deadline (from gRPC threads).
class FuseSet {
 public:
  etcd::KeepAlive::Listener Listener() {
    return [this](MonoTime deadline, const absl::Status& status) {
      if (!status.ok()) return;  // the loop acts on loss itself
      absl::MutexLock lock(&mu_);
      for (const Fuse* f : fuses_) f->SetDeadline(deadline);
    };
  }
  void Add(const Fuse* f) {
    absl::MutexLock lock(&mu_);
    fuses_.insert(f);
  }
  void Remove(const Fuse* f) {
    absl::MutexLock lock(&mu_);
    fuses_.erase(f);
  }

 private:
  absl::Mutex mu_;
  std::set<const Fuse*> fuses_ ABSL_GUARDED_BY(mu_);
};

// A job definition, shared (never copied) by every tick, claim and run of
// it that is in flight.
using JobRef = std::shared_ptr<const CronJob>;

// A job as this daemon schedules it.
struct ScheduledJob {
  JobRef job;
  Schedule schedule;
  absl::Time next;  // the next tick to try
};

// One claimed tick being run here.
struct Run {
  JobRef job;
  absl::Time instant;
  int64_t revision = 0;
  std::unique_ptr<Child> child;
  std::shared_ptr<const Fuse> fuse;  // the session's, when it started
  int out_fd = -1;  // read end of the output pipe, -1 once closed
  std::string tail;
  absl::Time started;
  std::optional<int> wait_status;
  std::optional<MonoTime> kill_at;  // TERM sent; KILL at this time
  bool stopped_by_daemon = false;
};

// A result waiting to be written.
struct PendingResult {
  JobRef job;
  absl::Time instant;
  records::Result result;
};

// A tick waiting to be claimed.
struct PendingTick {
  JobRef job;
  absl::Time instant;
};

// What a worker reports back to the loop.
struct Completion {
  enum class Kind { kClaim, kResult, kLive, kSpawned } kind = Kind::kClaim;
  // kSpawned: the started child (or why it could not start), its output
  // pipe, the fuse that guards it, the claim revision, when it started.
  absl::StatusOr<std::unique_ptr<Child>> spawned = nullptr;
  int out_fd = -1;
  std::shared_ptr<const Fuse> fuse;
  int64_t revision = 0;
  absl::Time started;
  std::vector<std::string> live;  // kLive: the registered daemon ids
  JobRef job;
  absl::Time instant;
  absl::StatusOr<etcd::ClaimOutcome> claim = etcd::ClaimOutcome{};
  std::string claim_lease;  // the session lease the claim was made under
  bool skipped = false;
  bool request = false;
  absl::Status result_status;
};

class Daemon {
 public:
  Daemon(const CronDaemonOptions& o, SignalSet& signals, etcd::Connection& conn)
      : o_(o),
        signals_(signals),
        conn_(conn),
        store_(&conn, o.common.prefix),
        watches_(&conn),
        pool_(o.workers),
        start_(absl::Now()) {}

  int Run();

 private:
  absl::Time CallDeadline() const { return o_.common.CallDeadline(); }
  absl::Status OpenSession();
  absl::Status LoadJobs();
  absl::Status WatchRuns(int64_t from_revision);
  void UpsertJob(CronJob job);
  void DrainWatchers();
  void ClaimDue();
  void ClaimFallbacks();
  void SubmitClaim(const JobRef& job, absl::Time instant,
                   int64_t request_revision);
  // Runs on a worker: one tick, one Txn (after the overlap check).
  Completion ClaimOne(const JobRef& job, absl::Time instant,
                      const records::Claim& claim, int64_t request_revision,
                      bool running_here);
  bool Owns(const CronJob& job) const;
  records::Claim NewClaim() const;
  bool RunningHere(const CronJob& job) const;
  void RefreshLive();
  void HandleCompletions();
  void StartRun(const JobRef& job, absl::Time instant, int64_t revision);
  void RegisterRun(Completion& c);
  void RecordNotRun(const JobRef& job, absl::Time instant,
                    const std::string& why, int exit_code);
  void FlushResults();
  void SubmitResult(const JobRef& job, absl::Time instant,
                    records::Result result, const std::string& line);
  void Reap();
  void ReadOutputs(const std::vector<struct pollfd>& fds,
                   const std::vector<struct Run*>& polled);
  void AdvanceRuns();
  // SIGTERM to every run's group, SIGKILL after --kill-after. After a
  // loss (`lease_lost`) the runs' fuses do it, on the StopPlan's schedule.
  void StopAllRuns(const char* why, bool lease_lost = false);
  void CheckSession();
  MonoTime NextWake() const;
  // When the pending results are to be written (FlushResults).
  MonoTime ResultsDue() const;
  // ResolveCommand, remembered for kResolveFor: a burst starts the same
  // commands hundreds of times, and each lookup stats every PATH entry.
  absl::StatusOr<std::string> Resolve(const std::string& command);
  void Push(Completion c, bool notify = true) {
    {
      absl::MutexLock lock(&done_mu_);
      done_.push_back(std::move(c));
    }
    if (notify) wake_.Notify();
  }

  // Constant after construction.
  const CronDaemonOptions& o_;
  SignalSet& signals_;
  etcd::Connection& conn_;
  const CronStore store_;
  const std::string host_ = HostName();

  etcd::WatchStream watches_;
  Notifier wake_;
  FuseSet fuses_;
  std::unique_ptr<etcd::Session> session_;
  // One fuse per session guards every run started under it; a run keeps
  // its session's fuse alive until it ends.
  std::shared_ptr<const Fuse> fuse_;
  std::unique_ptr<etcd::Watcher> job_watcher_;
  std::unique_ptr<etcd::Watcher> run_watcher_;
  std::map<std::string, ScheduledJob> jobs_;  // by encoded name
  // No job's next tick comes before this (ClaimDue skips the scan until
  // then; InfinitePast forces one).
  absl::Time next_due_ = absl::InfinitePast();
  std::map<pid_t, std::unique_ptr<struct Run>> runs_;
  // How many of runs_ each job has (by encoded name): RunningHere is asked
  // for every fallback tick, and a loaded daemon has thousands of runs.
  std::map<std::string, int> running_jobs_;
  int in_flight_ = 0;  // work submitted, completion not yet handled
  // Every tick has a preferred claimer among the live daemons (a hash of
  // the job name): it claims its ticks at the instant, in batches; the
  // others claim only what is still unclaimed fallback_delay_ later.
  std::vector<std::string> live_ids_;  // sorted
  bool live_refreshing_ = false;
  MonoTime next_live_refresh_;
  std::vector<PendingTick> fallback_;
  absl::Time next_fallback_ = absl::InfiniteFuture();  // earliest in fallback_
  const absl::Duration fallback_delay_ =
      std::min(absl::Milliseconds(250), o_.max_late / 2);
  bool stopping_ = false;
  MonoTime grace_until_ = MonoTime::Infinite();
  MonoTime next_session_try_;
  static constexpr BackoffPolicy kSessionRetry{.initial = absl::Seconds(1),
                                               .max = absl::Seconds(10)};
  Backoff session_retry_{kSessionRetry, static_cast<uint64_t>(getpid())};

  absl::Mutex done_mu_;
  std::vector<Completion> done_ ABSL_GUARDED_BY(done_mu_);

  int spawning_ = 0;  // handed to the spawner, not yet registered
  std::vector<PendingResult> pending_results_;  // written by FlushResults
  // Results wait while this daemon starts runs and kResultQuiet after its
  // last start (see FlushResults), but never longer than kResultMaxWait;
  // and they go out at most once per kResultQuiet.
  MonoTime last_start_;             // a spawn completion was last handled
  MonoTime oldest_pending_result_;  // when pending_results_ became non-empty
  MonoTime last_flush_;             // results were last submitted
  static constexpr absl::Duration kResultQuiet = absl::Milliseconds(100);
  static constexpr absl::Duration kResultMaxWait = absl::Seconds(1);
  // Exit statuses reaped for pids not (yet) in runs_, while spawns are
  // pending: a quick child can exit before its run is registered.
  std::map<pid_t, int> early_exits_;
  // While a burst is being spawned, reaping, reading output and writing
  // results wait (at most kHousekeepingEvery) so that the starts get the
  // CPU; see Run().
  MonoTime next_housekeeping_;
  static constexpr absl::Duration kHousekeepingEvery = absl::Milliseconds(50);

  struct Resolved {
    MonoTime at;
    absl::StatusOr<std::string> path;
  };
  std::map<std::string, Resolved> resolved_;  // by command (argv[0])
  static constexpr absl::Duration kResolveFor = absl::Seconds(1);

  WorkPool pool_;  // last: joined first, while the rest is still alive
  WorkPool spawner_{2};
  const absl::Time start_;
};

absl::Status Daemon::OpenSession() {
  etcd::SessionOptions so;
  so.ttl = o_.common.ttl;
  so.loss_lead = StopPlan{o_.common.kill_after}.lead();
  so.on_deadline = fuses_.Listener();
  so.on_event = [this] { wake_.Notify(); };
  absl::StatusOr<std::unique_ptr<etcd::Session>> s =
      etcd::Session::Create(&conn_, &watches_, so, CallDeadline());
  if (!s.ok()) return s.status();
  records::Daemon d;
  d.set_host(host_);
  d.set_pid(getpid());
  d.set_since(records::FormatRfc3339(start_));
  d.set_version(kVersion);
  absl::Status reg =
      store_.RegisterDaemon(o_.id, d, (*s)->lease(), CallDeadline());
  if (!reg.ok()) {
    (*s)->Close(CallDeadline()).IgnoreError();
    return reg;
  }
  absl::StatusOr<std::unique_ptr<Fuse>> fuse =
      Fuse::Start(o_.common.kill_after);
  if (!fuse.ok()) {
    (*s)->Close(CallDeadline()).IgnoreError();
    return fuse.status();
  }
  fuse_ = *std::move(fuse);
  fuses_.Add(fuse_.get());
  session_ = *std::move(s);
  Log(LogLevel::kInfo, absl::StrCat("daemon ", o_.id, " registered on lease ",
                                    etcd::LeaseHex(session_->lease())));
  return absl::OkStatus();
}

absl::Status Daemon::LoadJobs() {
  absl::StatusOr<etcd::CronJobList> list = store_.ListJobs(CallDeadline());
  if (!list.ok()) return list.status();
  jobs_.clear();
  next_due_ = absl::InfinitePast();
  for (const etcd::BadCronJob& bad : list->bad) {
    Log(LogLevel::kWarn,
        absl::StrCat("ignoring job key ", bad.key, ": ", bad.error));
  }
  for (CronJob& job : list->jobs) UpsertJob(std::move(job));
  etcd::WatchOptions wo;
  wo.prefix = true;
  wo.start_revision = list->revision + 1;
  wo.on_ready = [this] { wake_.Notify(); };
  absl::StatusOr<std::unique_ptr<etcd::Watcher>> w =
      watches_.Watch(store_.JobPrefix(), wo, CallDeadline());
  if (!w.ok()) return w.status();
  job_watcher_ = *std::move(w);
  return WatchRuns(list->revision + 1);
}

absl::Status Daemon::WatchRuns(int64_t from_revision) {
  etcd::WatchOptions wo;
  wo.prefix = true;
  wo.start_revision = from_revision;
  wo.no_delete = true;
  wo.on_ready = [this] { wake_.Notify(); };
  absl::StatusOr<std::unique_ptr<etcd::Watcher>> w =
      watches_.Watch(store_.RunPrefix(), wo, CallDeadline());
  if (!w.ok()) return w.status();
  run_watcher_ = *std::move(w);
  return absl::OkStatus();
}

void Daemon::UpsertJob(CronJob job) {
  absl::StatusOr<Schedule> schedule =
      Schedule::Parse(job.job.schedule(), job.job.tz());
  if (!schedule.ok()) {
    Log(LogLevel::kWarn, absl::StrCat("job ", job.name, " not scheduled: ",
                                      schedule.status().message()));
    jobs_.erase(job.encoded);
    return;
  }
  // Never a tick before this daemon started; for a changed definition,
  // the ticks from now on.
  const absl::Time from = std::max(start_, absl::Now());
  const absl::Time next = schedule->Next(from - absl::Nanoseconds(1));
  const std::string key = job.encoded;
  next_due_ = std::min(next_due_, next);
  jobs_.insert_or_assign(
      key, ScheduledJob{std::make_shared<const CronJob>(std::move(job)),
                        *schedule, next});
}

void Daemon::DrainWatchers() {
  while (job_watcher_ != nullptr) {
    absl::StatusOr<std::optional<etcd::WatchBatch>> b = job_watcher_->TryNext();
    if (b.ok() && !b->has_value()) break;
    if (!b.ok()) {
      Log(LogLevel::kWarn, absl::StrCat("job watch ended (",
                                        b.status().message(), "); re-reading"));
      job_watcher_.reset();
      run_watcher_.reset();
      absl::Status s = LoadJobs();
      if (!s.ok()) {
        Log(LogLevel::kWarn, absl::StrCat("re-reading jobs: ", s.message()));
      }
      return;  // the next wake-up drains the new watchers
    }
    for (const etcd::Event& ev : (*b)->events) {
      if (ev.type == etcd::Event::Type::kDelete) {
        const std::string enc = store_.JobOfKey(ev.kv.key);
        jobs_.erase(enc);
        Log(LogLevel::kInfo, absl::StrCat("job ", enc, " removed"));
        continue;
      }
      absl::StatusOr<CronJob> job = store_.ParseJob(ev.kv);
      if (!job.ok()) {
        Log(LogLevel::kWarn, absl::StrCat("ignoring job key ", ev.kv.key, ": ",
                                          job.status().message()));
        jobs_.erase(store_.JobOfKey(ev.kv.key));
        continue;
      }
      Log(LogLevel::kInfo,
          absl::StrCat("job ", job->name, " defined: ", job->job.schedule()));
      UpsertJob(*std::move(job));
    }
  }
  while (run_watcher_ != nullptr) {
    absl::StatusOr<std::optional<etcd::WatchBatch>> b = run_watcher_->TryNext();
    if (b.ok() && !b->has_value()) break;
    if (!b.ok()) {
      run_watcher_.reset();
      absl::Status s = WatchRuns(0);
      if (!s.ok()) {
        Log(LogLevel::kWarn, absl::StrCat("run watch: ", s.message()));
      }
      return;
    }
    for (const etcd::Event& ev : (*b)->events) {
      absl::StatusOr<std::pair<std::string, absl::Time>> run =
          store_.ParseRunKey(ev.kv.key);
      if (!run.ok()) continue;
      const auto& [encoded, instant] = *run;
      auto it = jobs_.find(encoded);
      if (it == jobs_.end()) continue;
      if (instant < start_ || absl::Now() - instant > o_.max_late) continue;
      if (stopping_ || session_ == nullptr) continue;
      SubmitClaim(it->second.job, instant, ev.kv.mod_revision);
    }
  }
}

// FNV-1a: a hash every daemon computes alike, whatever its build.
uint64_t StableHash(absl::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

bool Daemon::Owns(const CronJob& job) const {
  if (live_ids_.empty()) return true;
  return live_ids_[StableHash(job.encoded) % live_ids_.size()] == o_.id;
}

records::Claim Daemon::NewClaim() const {
  records::Claim claim;
  claim.set_daemon(o_.id);
  claim.set_lease(etcd::LeaseHex(session_->lease()));
  claim.set_claimed_at(records::FormatRfc3339(absl::Now()));
  return claim;
}

bool Daemon::RunningHere(const CronJob& job) const {
  return running_jobs_.count(job.encoded) != 0;
}

void Daemon::ClaimDue() {
  const absl::Time now = absl::Now();
  if (now < next_due_) return;  // nothing due: no scan of every job
  next_due_ = absl::InfiniteFuture();
  std::vector<PendingTick> mine;
  for (auto& [key, sj] : jobs_) {
    while (sj.next <= now) {
      const absl::Time instant = sj.next;
      sj.next = sj.schedule.Next(instant);
      if (stopping_) continue;
      if (now - instant > o_.max_late || session_ == nullptr) {
        Log(LogLevel::kWarn,
            absl::StrCat("job ", sj.job->name, " tick ",
                         records::FormatRfc3339(instant), ": missed (",
                         session_ == nullptr ? "no session" : "too late",
                         "), not run"));
        continue;
      }
      if (!Owns(*sj.job)) {
        fallback_.push_back({sj.job, instant});
        next_fallback_ = std::min(next_fallback_, instant + fallback_delay_);
      } else if (sj.job->job.overlap() == "skip") {
        SubmitClaim(sj.job, instant, 0);
      } else {
        mine.push_back({sj.job, instant});
      }
    }
    next_due_ = std::min(next_due_, sj.next);
  }
  // The ticks this daemon is the preferred claimer of: one Txn per 64.
  for (size_t i = 0; i < mine.size(); i += CronStore::kMaxBatch) {
    const auto from = static_cast<std::ptrdiff_t>(i);
    const auto to = static_cast<std::ptrdiff_t>(
        std::min(mine.size(), i + CronStore::kMaxBatch));
    std::vector<PendingTick> chunk(mine.begin() + from, mine.begin() + to);
    in_flight_ += static_cast<int>(chunk.size());
    pool_.Submit([this, chunk = std::move(chunk), claim = NewClaim()] {
      std::vector<CronStore::BatchItem> items;
      for (const PendingTick& t : chunk)
        items.push_back({t.job.get(), t.instant});
      absl::StatusOr<etcd::ClaimOutcome> all = store_.ClaimBatch(
          items, claim, absl::Now() + o_.common.connection.dial_timeout);
      for (const PendingTick& t : chunk) {
        if (all.ok() && all->claimed) {
          Completion c;
          c.job = t.job;
          c.instant = t.instant;
          c.claim = *all;
          c.claim_lease = claim.lease();
          Push(std::move(c));
        } else {
          // Somebody took one of them (or the Txn failed): one by one.
          Push(ClaimOne(t.job, t.instant, claim, 0, false));
        }
      }
    });
  }
}

void Daemon::ClaimFallbacks() {
  // Ticks preferred by another daemon: after a short delay, claim the ones
  // it did not (it may be dead or slow). One read-only Txn per 128 ticks.
  const absl::Time now = absl::Now();
  const bool drop = stopping_ || session_ == nullptr;  // dropped, not run
  if (fallback_.empty() || (now < next_fallback_ && !drop)) return;
  std::vector<PendingTick> due;
  std::vector<PendingTick> later;
  next_fallback_ = absl::InfiniteFuture();
  for (PendingTick& t : fallback_) {
    if (drop) continue;
    if (t.instant + fallback_delay_ <= now) {
      due.push_back(std::move(t));
    } else {
      next_fallback_ = std::min(next_fallback_, t.instant + fallback_delay_);
      later.push_back(std::move(t));
    }
  }
  fallback_ = std::move(later);
  for (size_t i = 0; i < due.size(); i += 128) {
    const auto from = static_cast<std::ptrdiff_t>(i);
    const auto to =
        static_cast<std::ptrdiff_t>(std::min(due.size(), i + size_t{128}));
    std::vector<PendingTick> chunk(due.begin() + from, due.begin() + to);
    std::vector<bool> running_here;
    running_here.reserve(chunk.size());
    for (const PendingTick& t : chunk)
      running_here.push_back(RunningHere(*t.job));
    in_flight_ += static_cast<int>(chunk.size());
    pool_.Submit([this, chunk = std::move(chunk), claim = NewClaim(),
                  running_here = std::move(running_here)] {
      std::vector<CronStore::BatchItem> items;
      for (const PendingTick& t : chunk)
        items.push_back({t.job.get(), t.instant});
      absl::StatusOr<std::vector<bool>> taken = store_.Claimed(
          items, absl::Now() + o_.common.connection.dial_timeout);
      for (size_t k = 0; k < chunk.size(); ++k) {
        if (taken.ok() && (*taken)[k]) {
          Completion c;
          c.job = chunk[k].job;
          c.instant = chunk[k].instant;
          Push(std::move(c));  // claimed by another daemon: not ours
          continue;
        }
        Push(ClaimOne(chunk[k].job, chunk[k].instant, claim, 0,
                      running_here[k]));
      }
    });
  }
}

void Daemon::SubmitClaim(const JobRef& job, absl::Time instant,
                         int64_t request_revision) {
  ++in_flight_;
  pool_.Submit([this, job, instant, claim = NewClaim(), request_revision,
                running_here = RunningHere(*job)] {
    Push(ClaimOne(job, instant, claim, request_revision, running_here));
  });
}

Completion Daemon::ClaimOne(const JobRef& job, absl::Time instant,
                            const records::Claim& claim,
                            int64_t request_revision, bool running_here) {
  Completion c;
  c.kind = Completion::Kind::kClaim;
  c.job = job;
  c.instant = instant;
  c.request = request_revision > 0;
  const absl::Time deadline = absl::Now() + o_.common.connection.dial_timeout;
  // --overlap skip: a run of this job here already means "still running";
  // otherwise ask etcd whether any daemon still runs an earlier tick.
  bool skip = false;
  if (job->job.overlap() == "skip") {
    skip = running_here;
    if (!skip) {
      absl::StatusOr<std::vector<etcd::CronTick>> history =
          store_.History(job->encoded, etcd::kCronHistory, deadline);
      absl::StatusOr<std::map<std::string, std::string>> live =
          store_.LiveDaemons(deadline);
      if (!history.ok() || !live.ok()) {
        c.claim = !history.ok() ? history.status() : live.status();
        return c;
      }
      for (const etcd::CronTick& t : *history) {
        if (t.instant < instant && etcd::StateOfTick(t, *live).kind ==
                                       etcd::TickState::Kind::kRunning) {
          skip = true;
        }
      }
    }
  }
  std::optional<records::Result> skipped;
  if (skip) {
    records::Result r;
    r.set_daemon(o_.id);
    r.set_started(claim.claimed_at());
    r.set_ended(claim.claimed_at());
    r.set_skipped("overlap");
    skipped = r;
  }
  c.skipped = skip;
  c.claim_lease = claim.lease();
  c.claim =
      store_.Claim(*job, instant, claim, skipped, request_revision, deadline);
  return c;
}

void Daemon::RefreshLive() {
  if (MonoNow() < next_live_refresh_ || live_refreshing_) return;
  live_refreshing_ = true;
  ++in_flight_;
  pool_.Submit([this] {
    Completion c;
    c.kind = Completion::Kind::kLive;
    absl::StatusOr<std::map<std::string, std::string>> live =
        store_.LiveDaemons(absl::Now() + o_.common.connection.dial_timeout);
    if (live.ok()) {
      for (const auto& [id, lease] : *live) c.live.push_back(id);
    } else {
      c.result_status = live.status();
    }
    Push(std::move(c));
  });
}

void Daemon::HandleCompletions() {
  std::vector<Completion> done;
  {
    absl::MutexLock lock(&done_mu_);
    done.swap(done_);
  }
  for (Completion& c : done) {
    --in_flight_;
    // Formatted only for a log line (a burst has hundreds of completions).
    auto tick = [&c] { return records::FormatRfc3339(c.instant); };
    if (c.kind == Completion::Kind::kLive) {
      live_refreshing_ = false;
      next_live_refresh_ = MonoNow() + absl::Seconds(1);
      if (c.result_status.ok()) {
        if (std::find(c.live.begin(), c.live.end(), o_.id) == c.live.end() &&
            session_ != nullptr) {
          c.live.push_back(o_.id);
        }
        std::sort(c.live.begin(), c.live.end());
        live_ids_ = std::move(c.live);
      }
      continue;
    }
    if (c.kind == Completion::Kind::kSpawned) {
      RegisterRun(c);
      if (spawning_ == 0) early_exits_.clear();
      continue;
    }
    if (c.kind == Completion::Kind::kResult) {
      if (!c.result_status.ok()) {
        Log(LogLevel::kError,
            absl::StrCat("job ", c.job->name, " tick ", tick(),
                         ": result not recorded: ", c.result_status.message()));
      }
      continue;
    }
    if (!c.claim.ok()) {
      Log(LogLevel::kWarn,
          absl::StrCat("job ", c.job->name, " tick ", tick(),
                       ": claim failed: ", c.claim.status().message()));
      continue;
    }
    if (!c.claim->claimed) {
      Log(LogLevel::kDebug,
          absl::StrCat("job ", c.job->name, " tick ", tick(),
                       c.claim->job_changed ? ": job changed, not claimed"
                                            : ": claimed by another daemon"));
      continue;
    }
    if (c.skipped) {
      Log(LogLevel::kInfo,
          absl::StrCat("job ", c.job->name, " tick ", tick(),
                       ": skipped (overlap), rev ", c.claim->revision));
      continue;
    }
    if (stopping_) {
      RecordNotRun(c.job, c.instant, "shutdown", -1);
      continue;
    }
    if (session_ == nullptr ||
        etcd::LeaseHex(session_->lease()) != c.claim_lease) {
      // Claimed under a session that was lost before the answer came back:
      // without that lease there is no fuse for it, and the claim names a
      // dead lease (`ls` would call the run a zombie). Not run.
      RecordNotRun(c.job, c.instant, "session lost", -1);
      continue;
    }
    if (LogEnabled(LogLevel::kDebug)) {
      Log(LogLevel::kDebug,
          absl::StrCat("job ", c.job->name, " tick ", tick(), ": claimed ",
                       absl::FormatDuration(absl::Now() - c.instant),
                       " after the instant"));
    }
    StartRun(c.job, c.instant, c.claim->revision);
  }
}

void Daemon::RecordNotRun(const JobRef& job, absl::Time instant,
                          const std::string& why, int exit_code) {
  records::Result r;
  r.set_daemon(o_.id);
  r.set_started(records::FormatRfc3339(absl::Now()));
  r.set_ended(r.started());
  std::string line;
  if (exit_code >= 0) {
    r.set_exit_code(exit_code);
    r.set_output_tail(records::Utf8Tail(records::SanitizeUtf8(why),
                                        records::kOutputTailBytes));
    line = absl::StrCat("not started: ", why, " (exit ", exit_code, ")");
  } else {
    r.set_skipped(why);
    line = absl::StrCat("skipped (", why, ")");
  }
  SubmitResult(job, instant, std::move(r), line);
}

absl::StatusOr<std::string> Daemon::Resolve(const std::string& command) {
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

void Daemon::StartRun(const JobRef& job, absl::Time instant, int64_t revision) {
  if (runs_.size() + spawning_ >= static_cast<size_t>(Fuse::kMaxGroups)) {
    RecordNotRun(job, instant, "too many running jobs", -1);
    return;
  }
  std::vector<std::string> argv(job->job.argv().begin(), job->job.argv().end());
  absl::StatusOr<std::string> path = Resolve(argv[0]);
  if (!path.ok()) {
    RecordNotRun(job, instant, std::string(path.status().message()),
                 ExitCodeForCommand(path.status()));
    return;
  }
  auto spec = std::make_shared<ChildSpec>();
  spec->path = *path;
  spec->argv = std::move(argv);
  spec->take_terminal = false;
  // No PR_SET_PDEATHSIG (it would tie the job to the spawner thread that
  // started it): the session's fuse covers the daemon's death.
  spec->die_with_parent = false;
  spec->nice = o_.job_nice;
  spec->env = {{"CONCH_JOB", job->name},
               {"CONCH_NAME", job->name},
               {"CONCH_TICK", records::FormatRfc3339(instant)},
               {"CONCH_REV", absl::StrCat(revision)},
               {"CONCH_LEASE", etcd::LeaseHex(session_->lease())}};
  // The start itself (a vfork that waits for the exec) runs on one of two
  // spawner threads, so that a burst of ticks starts on both cores; the
  // loop registers the run when it hears back.
  ++in_flight_;
  ++spawning_;
  spawner_.Submit([this, spec, job, instant, revision, fuse = fuse_,
                   deadline = session_->deadline()] {
    Completion c;
    c.kind = Completion::Kind::kSpawned;
    c.job = job;
    c.instant = instant;
    c.revision = revision;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      c.spawned =
          absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
      Push(std::move(c));
      return;
    }
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    ChildSpec local = *spec;
    local.output_fd = fds[1];
    c.started = absl::Now();
    if (c.started - instant > o_.max_late) {
      // An overloaded daemon does not start a tick later than it would
      // claim one: the tick is recorded as skipped (late) instead.
      c.spawned = absl::DeadlineExceededError("late");
    } else {
      c.spawned = Child::Spawn(local);
    }
    close(fds[1]);
    if (c.spawned.ok()) {
      fuse->Arm((*c.spawned)->pgid(), deadline);
      c.out_fd = fds[0];
    } else {
      close(fds[0]);
    }
    c.fuse = fuse;
    // The loop only registers the run (its exit waits for housekeeping
    // anyway): it is woken once the spawners have nothing queued, not once
    // per start. Whoever takes the last queued start pokes it after that.
    Push(std::move(c), /*notify=*/spawner_.Queued() == 0);
  });
}

void Daemon::RegisterRun(Completion& c) {
  --spawning_;
  last_start_ = MonoNow();
  if (absl::IsDeadlineExceeded(c.spawned.status())) {
    Log(LogLevel::kWarn,
        absl::StrCat("job ", c.job->name, " tick ",
                     records::FormatRfc3339(c.instant),
                     ": could not start within --max-late (overloaded)"));
    RecordNotRun(c.job, c.instant, "late", -1);
    return;
  }
  if (!c.spawned.ok()) {
    RecordNotRun(c.job, c.instant, std::string(c.spawned.status().message()),
                 ExitCodeForCommand(c.spawned.status()));
    return;
  }
  // ESRCH: the job has already exited and been reaped (by this loop, as
  // an early exit) before its spawner got to set the nice value.
  if (const int err = (*c.spawned)->nice_errno(); err != 0 && err != ESRCH) {
    Log(LogLevel::kWarn,
        absl::StrCat("job ", c.job->name, " tick ",
                     records::FormatRfc3339(c.instant), ": --job-nice ",
                     *o_.job_nice, " not set (", std::strerror(err),
                     "), runs at conchd's priority"));
  }
  auto run = std::make_unique<struct Run>();
  run->job = c.job;
  run->instant = c.instant;
  run->revision = c.revision;
  run->child = *std::move(c.spawned);
  run->fuse = std::move(c.fuse);
  run->out_fd = c.out_fd;
  run->started = c.started;
  const pid_t pid = run->child->pid();
  // It may have exited (and been reaped) before the loop heard of it.
  auto early = early_exits_.find(pid);
  if (early != early_exits_.end()) {
    run->wait_status = early->second;
    run->child->SetExited(early->second);
    early_exits_.erase(early);
  }
  Log(LogLevel::kDebug,
      absl::StrCat("job ", c.job->name, " tick ",
                   records::FormatRfc3339(c.instant), ": started pid ", pid));
  ++running_jobs_[c.job->encoded];
  runs_[pid] = std::move(run);
}

void Daemon::SubmitResult(const JobRef& job, absl::Time instant,
                          records::Result result, const std::string& line) {
  Log(LogLevel::kInfo,
      absl::StrCat("job ", job->name, " tick ", records::FormatRfc3339(instant),
                   ": ", line));
  ++in_flight_;
  if (pending_results_.empty()) oldest_pending_result_ = MonoNow();
  pending_results_.push_back(PendingResult{job, instant, std::move(result)});
}

void Daemon::FlushResults() {
  // The results of one loop turn go out together: one Txn per 64, which
  // also counts each job's history, so that pruning costs nothing until a
  // job is over the bound.
  // While a burst of starts is being spawned, starting comes first:
  // results wait until this daemon's spawners have been idle for
  // kResultQuiet (the other daemons' bursts of the same instant end about
  // then too), so that neither the daemons nor etcd spend a burst's CPU on
  // bookkeeping. After that they go out at most every kResultQuiet, as the
  // burst's runs end. An overloaded daemon that never stops starting still
  // writes every kResultMaxWait.
  if (pending_results_.empty()) return;
  if (!stopping_ && MonoNow() < ResultsDue()) return;
  last_flush_ = MonoNow();
  for (size_t i = 0; i < pending_results_.size(); i += CronStore::kMaxBatch) {
    const auto from = static_cast<std::ptrdiff_t>(i);
    const auto to = static_cast<std::ptrdiff_t>(
        std::min(pending_results_.size(), i + CronStore::kMaxBatch));
    std::vector<PendingResult> chunk(
        std::make_move_iterator(pending_results_.begin() + from),
        std::make_move_iterator(pending_results_.begin() + to));
    pool_.Submit([this, chunk = std::move(chunk)] {
      std::vector<CronStore::ResultItem> items;
      for (const PendingResult& r : chunk) {
        items.push_back({r.job->encoded, r.instant, r.result});
      }
      // A result must not be lost to a short etcd hiccup: retry for a
      // while (a TTL at least); a tick left without one shows as a zombie.
      const absl::Time give_up =
          absl::Now() + std::max(o_.common.ttl, absl::Seconds(30));
      Backoff retry(BackoffPolicy{.initial = absl::Milliseconds(100),
                                  .max = absl::Seconds(2)},
                    static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())));
      absl::StatusOr<std::vector<int64_t>> counts;
      while (true) {
        counts = store_.WriteResults(
            items, absl::Now() + o_.common.connection.dial_timeout);
        if (counts.ok() || absl::Now() >= give_up ||
            !(absl::IsUnavailable(counts.status()) ||
              absl::IsDeadlineExceeded(counts.status()))) {
          break;
        }
        absl::SleepFor(retry.Next());
      }
      // The jobs now over the history bound, pruned together.
      std::vector<std::string> over;
      for (size_t k = 0; k < chunk.size() && counts.ok(); ++k) {
        const std::string& encoded = chunk[k].job->encoded;
        if ((*counts)[k] > etcd::kCronHistory &&
            std::find(over.begin(), over.end(), encoded) == over.end()) {
          over.push_back(encoded);
        }
      }
      if (!over.empty()) {
        absl::StatusOr<int64_t> pruned =
            store_.Prune(over, etcd::kCronHistory,
                         absl::Now() + o_.common.connection.dial_timeout);
        if (!pruned.ok()) {
          Log(LogLevel::kWarn,
              absl::StrCat("pruning ", over.size(),
                           " job(s): ", pruned.status().message()));
        }
      }
      for (size_t k = 0; k < chunk.size(); ++k) {
        Completion c;
        c.kind = Completion::Kind::kResult;
        c.job = chunk[k].job;
        c.instant = chunk[k].instant;
        c.result_status = counts.status();
        Push(std::move(c));
      }
    });
  }
  pending_results_.clear();
}

void Daemon::Reap() {
  int status = 0;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    auto it = runs_.find(pid);
    if (it == runs_.end()) {
      // A grandchild or a fuse guard, or a run not registered yet.
      if (spawning_ > 0) early_exits_[pid] = status;
      continue;
    }
    it->second->wait_status = status;
    it->second->child->SetExited(status);
  }
}

void Daemon::ReadOutputs(const std::vector<struct pollfd>& fds,
                         const std::vector<struct Run*>& polled) {
  for (size_t i = 0; i < fds.size(); ++i) {
    if (fds[i].revents == 0) continue;
    struct Run* run = polled[i];
    char buf[8192];
    while (true) {
      const ssize_t n = read(run->out_fd, buf, sizeof(buf));
      if (n > 0) {
        run->tail.append(buf, static_cast<size_t>(n));
        if (run->tail.size() > 4 * records::kOutputTailBytes) {
          run->tail.erase(0, run->tail.size() - records::kOutputTailBytes);
        }
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        close(run->out_fd);
        run->out_fd = -1;
      }
      break;
    }
  }
}

void Daemon::AdvanceRuns() {
  const MonoTime now = MonoNow();
  std::vector<pid_t> finished;
  for (auto& [pid, run] : runs_) {
    if (run->kill_at.has_value() && now >= *run->kill_at) {
      run->child->SignalGroup(SIGKILL);
    }
    if (!run->wait_status.has_value()) continue;
    if (run->child->GroupAlive()) {
      // The child is gone but its group is not: the group is the run.
      if (!run->kill_at.has_value()) {
        run->child->SignalGroup(SIGTERM);
        run->child->SignalGroup(SIGCONT);
        run->kill_at = now + o_.common.kill_after;
      }
      continue;
    }
    finished.push_back(pid);
  }
  // The groups of the runs that ended, per fuse: released together (one
  // datagram, one wakeup of the guard), then the runs' hold on their fuse
  // goes (the last run of a lost session disarms its guard).
  std::map<const Fuse*,
           std::pair<std::shared_ptr<const Fuse>, std::vector<pid_t>>>
      released;
  for (pid_t pid : finished) {
    std::unique_ptr<struct Run> run = std::move(runs_[pid]);
    runs_.erase(pid);
    if (auto it = running_jobs_.find(run->job->encoded);
        it != running_jobs_.end() && --it->second == 0) {
      running_jobs_.erase(it);
    }
    if (run->out_fd >= 0) {  // drain what is left, without waiting for EOF
      char buf[8192];
      ssize_t n;
      while ((n = read(run->out_fd, buf, sizeof(buf))) > 0) {
        run->tail.append(buf, static_cast<size_t>(n));
      }
      close(run->out_fd);
    }
    auto& [fuse, groups] = released[run->fuse.get()];
    groups.push_back(run->child->pgid());
    fuse = std::move(run->fuse);
    const int ws = *run->wait_status;
    records::Result r;
    r.set_daemon(o_.id);
    r.set_started(records::FormatRfc3339(run->started));
    const absl::Time ended = absl::Now();
    r.set_ended(records::FormatRfc3339(ended));
    std::string line;
    if (WIFSIGNALED(ws)) {
      r.set_signal(WTERMSIG(ws));
      line = absl::StrCat("failed (signal ", WTERMSIG(ws), ")");
    } else {
      r.set_exit_code(WEXITSTATUS(ws));
      line = WEXITSTATUS(ws) == 0
                 ? std::string("ok")
                 : absl::StrCat("failed (code ", WEXITSTATUS(ws), ")");
    }
    r.set_output_tail(records::Utf8Tail(records::SanitizeUtf8(run->tail),
                                        records::kOutputTailBytes));
    absl::StrAppend(&line, " after ",
                    absl::FormatDuration(absl::Trunc(ended - run->started,
                                                     absl::Milliseconds(1))),
                    ", rev ", run->revision,
                    run->stopped_by_daemon ? ", stopped by conchd" : "");
    SubmitResult(run->job, run->instant, std::move(r), line);
  }
  for (auto& [key, fuse_and_groups] : released) {
    fuse_and_groups.first->Release(fuse_and_groups.second);
  }
}

void Daemon::StopAllRuns(const char* why, bool lease_lost) {
  const MonoTime now = MonoNow();
  std::set<const Fuse*> fired;
  for (auto& [pid, run] : runs_) {
    if (run->kill_at.has_value()) continue;
    Log(LogLevel::kWarn, absl::StrCat("job ", run->job->name, " tick ",
                                      records::FormatRfc3339(run->instant),
                                      ": stopping (", why, ")"));
    run->stopped_by_daemon = true;
    if (lease_lost && run->fuse != nullptr && run->fuse->GuardAlive()) {
      // One SIGTERM per loss: the session's fuse sends it (or already
      // did), and SIGKILL before the lease's deadline; the loop sends
      // SIGKILL only if a group outlives that.
      if (fired.insert(run->fuse.get()).second) run->fuse->Fire();
      run->kill_at = now + o_.common.kill_after + absl::Milliseconds(100);
      continue;
    }
    run->child->SignalGroup(SIGTERM);
    run->child->SignalGroup(SIGCONT);  // a stopped group cannot act on it
    run->kill_at = now + o_.common.kill_after;
  }
}

void Daemon::CheckSession() {
  if (session_ != nullptr) {
    absl::Status s = session_->status();
    if (s.ok()) return;
    Log(LogLevel::kError,
        absl::StrCat("session lost (", s.message(),
                     "); stopping running jobs, registering again"));
    StopAllRuns("lease lost", /*lease_lost=*/true);
    session_->Close(CallDeadline()).IgnoreError();
    session_.reset();
    fuses_.Remove(fuse_.get());
    fuse_.reset();
    next_session_try_ = MonoNow();
  }
  if (stopping_ || MonoNow() < next_session_try_) return;
  absl::Status opened = OpenSession();
  if (opened.ok()) {
    session_retry_ = Backoff(kSessionRetry, static_cast<uint64_t>(getpid()));
    return;
  }
  const absl::Duration delay = session_retry_.Next();
  Log(LogLevel::kWarn,
      absl::StrCat("no session (", opened.message(), "); retrying in ",
                   absl::FormatDuration(delay)));
  next_session_try_ = MonoNow() + delay;
}

MonoTime Daemon::ResultsDue() const {
  const MonoTime latest = oldest_pending_result_ + kResultMaxWait;
  if (spawning_ > 0) return latest;
  // The runs of a burst end over the few hundred ms after it: without the
  // spacing each loop turn would write the few that ended since the last
  // one, in a Txn of its own (measured: 4-6 times the revisions per tick
  // when the daemon runs above its jobs, and etcd's CPU with them).
  return std::min(latest, std::max(last_start_, last_flush_) + kResultQuiet);
}

MonoTime Daemon::NextWake() const {
  const MonoTime mono_now = MonoNow();
  const absl::Time now = absl::Now();
  // How long until `t`, on the monotonic clock (never in the past).
  auto at = [&](absl::Time t) {
    return mono_now + std::max(absl::ZeroDuration(), t - now);
  };
  MonoTime wake = mono_now + absl::Seconds(1);  // re-check the session
  // The runs are stopped at the instant the session would count as lost.
  if (session_ != nullptr) wake = std::min(wake, session_->loss_at());
  // Ticks are claimed only with a session: without one, the session retry
  // below is what wakes the loop (a due tick must not make it spin).
  if (!stopping_ && session_ != nullptr) wake = std::min(wake, at(next_due_));
  for (const auto& [pid, run] : runs_) {
    if (run->kill_at.has_value()) wake = std::min(wake, *run->kill_at);
    // A finished child whose group lingers: look again soon.
    if (run->wait_status.has_value()) {
      wake = std::min(wake, mono_now + absl::Milliseconds(20));
    }
  }
  // During a burst the spawners poke the loop only when their queue is
  // empty: the housekeeping cadence also registers what started so far.
  if (spawning_ > 0) wake = std::min(wake, next_housekeeping_);
  if (!fallback_.empty()) wake = std::min(wake, at(next_fallback_));
  if (!pending_results_.empty()) wake = std::min(wake, ResultsDue());
  // Once the grace has passed (and every run has been told to stop), a
  // stopping daemon waits for its completions, which wake it: grace_until_
  // and a session retry it will not make are in the past and would spin.
  if (stopping_ && mono_now < grace_until_) {
    wake = std::min(wake, grace_until_);
  }
  if (session_ == nullptr && !stopping_) {
    wake = std::min(wake, next_session_try_);
  }
  return wake;
}

int Daemon::Run() {
  absl::Status opened = OpenSession();
  if (!opened.ok()) {
    if (absl::IsAlreadyExists(opened)) {
      std::cerr << "conchd: " << opened.message() << "\n";
      return kExitTempFail;
    }
    return ReportFailure(opened);
  }
  absl::Status loaded = LoadJobs();
  if (!loaded.ok()) return ReportFailure(loaded);
  absl::StatusOr<std::map<std::string, std::string>> live =
      store_.LiveDaemons(CallDeadline());
  if (live.ok()) {
    for (const auto& [id, lease] : *live) live_ids_.push_back(id);
    next_live_refresh_ = MonoNow() + absl::Seconds(1);
  }
  Log(LogLevel::kInfo,
      absl::StrCat("daemon ", o_.id, " running ", jobs_.size(),
                   " job(s), max-late ", absl::FormatDuration(o_.max_late)));
  while (true) {
    DrainWatchers();
    HandleCompletions();
    // Starting a burst of runs comes first: while runs are being spawned,
    // the loop neither reaps, nor reads output, nor writes results more
    // often than every kHousekeepingEvery. Each of those wakes this loop
    // once per run and would take CPU from the starts (the runs' "ended"
    // can be up to that much late; the pipes hold 64 KiB meanwhile).
    const bool housekeeping =
        spawning_ == 0 || stopping_ || MonoNow() >= next_housekeeping_;
    if (housekeeping) {
      next_housekeeping_ = MonoNow() + kHousekeepingEvery;
      Reap();
      AdvanceRuns();
    }
    CheckSession();
    if (!stopping_ && session_ != nullptr) {
      RefreshLive();
      ClaimDue();
    }
    ClaimFallbacks();
    FlushResults();
    if (stopping_) {
      if (MonoNow() >= grace_until_) StopAllRuns("shutdown");
      if (runs_.empty() && in_flight_ == 0) break;
    }
    // During a burst (no housekeeping this turn) signals wait too: SIGCHLD
    // would wake the loop once per exiting run, and a stop signal is
    // handled at most kHousekeepingEvery later.
    std::vector<struct pollfd> fds = {
        {housekeeping ? signals_.fd() : -1, POLLIN, 0},
        {wake_.fd(), POLLIN, 0}};
    std::vector<struct Run*> polled;  // the run of each fds[2 + i]
    if (housekeeping) {
      for (const auto& [pid, run] : runs_) {
        if (run->out_fd < 0) continue;
        fds.push_back({run->out_fd, POLLIN, 0});
        polled.push_back(run.get());
      }
    }
    // ppoll: a tick's instant is met to the microsecond, not rounded up to
    // the next millisecond (every start of a burst waits on it).
    const struct timespec timeout = absl::ToTimespec(std::clamp(
        NextWake() - MonoNow(), absl::ZeroDuration(), absl::Seconds(1)));
    const int n = ppoll(fds.data(), fds.size(), &timeout, nullptr);
    if (n < 0 && errno != EINTR) {
      Log(LogLevel::kError, absl::StrCat("poll: ", std::strerror(errno)));
    }
    if (n <= 0) continue;
    if (fds[1].revents != 0) wake_.Drain();
    if (fds[0].revents != 0) {
      for (int sig : signals_.ReadPending()) {
        if (sig == SIGCHLD || sig == SIGUSR1 || sig == SIGUSR2 ||
            sig == SIGHUP) {
          continue;
        }
        if (stopping_) {
          StopAllRuns("second stop signal");
          continue;
        }
        stopping_ = true;
        grace_until_ = MonoNow() + o_.common.kill_after;
        Log(LogLevel::kInfo,
            absl::StrCat("signal ", sig, ": no more claims; waiting up to ",
                         absl::FormatDuration(o_.common.kill_after), " for ",
                         runs_.size(), " running job(s)"));
      }
    }
    ReadOutputs(std::vector<struct pollfd>(fds.begin() + 2, fds.end()), polled);
  }
  if (session_ != nullptr) session_->Close(CallDeadline()).IgnoreError();
  Log(LogLevel::kInfo, absl::StrCat("daemon ", o_.id, " stopped"));
  return kExitOk;
}

}  // namespace

absl::Status ValidateDaemonId(const std::string& id) {
  const bool ok = !id.empty() && id.size() <= 64 &&
                  std::all_of(id.begin(), id.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                           c == '-';
                  });
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("invalid --id \"", id,
                   "\": want 1 to 64 characters of A-Z a-z 0-9 . _ -"));
}

int RunCronDaemon(const CronDaemonOptions& options) {
  absl::Status id = ValidateDaemonId(options.id);
  if (!id.ok()) return ReportFailure(id);
  absl::Status fits =
      CheckStopBudget(options.common.ttl, options.common.kill_after);
  if (!fits.ok()) return ReportFailure(fits);
  // Before any thread exists: signals go to the fd.
  absl::StatusOr<std::unique_ptr<SignalSet>> signals =
      SignalSet::Install(SignalSet::WrapperSignals());
  if (!signals.ok()) return ReportFailure(signals.status());
  BecomeSubreaper();
  absl::StatusOr<std::unique_ptr<etcd::Connection>> conn =
      etcd::Connection::Dial(options.common.connection);
  if (!conn.ok()) return ReportFailure(conn.status());
  int code;
  {
    Daemon daemon(options, **signals, **conn);
    code = daemon.Run();
  }
  std::cout.flush();
  std::cerr.flush();
  _exit(code);
}

}  // namespace conch
