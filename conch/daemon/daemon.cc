#include "conch/daemon/daemon.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "conch/daemon/admission.h"
#include "conch/daemon/claim_policy.h"
#include "conch/daemon/completion.h"
#include "conch/daemon/daemon_id.h"
#include "conch/daemon/daemon_session.h"
#include "conch/daemon/health.h"
#include "conch/daemon/http_server.h"
#include "conch/daemon/job_catalog.h"
#include "conch/daemon/job_table.h"
#include "conch/daemon/metrics.h"
#include "conch/daemon/result_batcher.h"
#include "conch/daemon/result_writer.h"
#include "conch/daemon/run_table.h"
#include "conch/daemon/status_service.h"
#include "conch/daemon/tick_claimer.h"
#include "conch/daemon/zombie_census.h"
#include "conch/exit_codes.h"
#include "conch/version.h"
#include "core/base/log.h"
#include "core/base/mono_time.h"
#include "core/base/notifier.h"
#include "core/base/work_pool.h"
#include "core/cron/cron.h"
#include "core/cron/cron_state.h"
#include "core/etcd/connection.h"
#include "core/etcd/watch.h"
#include "core/process/fuse_keeper.h"
#include "core/process/reaper.h"
#include "core/process/signals.h"
#include "core/process/stop_plan.h"
#include "core/records/names.h"
#include "core/records/records.h"

namespace conch {
namespace {

using daemon::ClaimDone;
using daemon::JobRef;
using daemon::LiveDone;
using daemon::ResultDone;
using daemon::RunOutcome;
using daemon::Spawned;
using daemon::Tick;

std::string TickName(const Tick& t) {
  return absl::StrCat("job ", t.job->name, " tick ",
                      records::FormatRfc3339(t.instant));
}

// The loop: wakes on signals, the workers' completions, watch events, run
// output and the next due instant; hands each piece its turn.
class Daemon {
 public:
  Daemon(const CronDaemonOptions& o, SignalSet& signals, etcd::Connection& conn)
      : o_(o),
        signals_(signals),
        conn_(conn),
        store_(&conn, o.common.prefix),
        start_(absl::Now()),
        watches_(&conn),
        fuses_(o.common.kill_after),
        jobs_(start_),
        catalog_(&store_, &watches_, &jobs_, &wake_, CallTimeout()),
        roster_(o.id),
        fallback_(std::min(absl::Milliseconds(250), o.max_late / 2)),
        overflow_(fallback_.delay() * 2),
        admission_({.max_running = o.max_running,
                    .max_late = o.max_late,
                    .spawners = daemon::RunTable::kSpawners}),
        results_(etcd::CronStore::kMaxBatch),
        metrics_(o.id, kVersion),
        status_({.id = o.id, .prefix = o.common.prefix}, &conn, &metrics_,
                &health_),
        session_({.id = o.id,
                  .ttl = o.common.ttl,
                  .kill_after = o.common.kill_after,
                  .call_timeout = CallTimeout(),
                  .record = DaemonRecord(start_)},
                 &conn, &watches_, &store_, &fuses_, &wake_),
        runs_({.daemon_id = o.id,
               .kill_after = o.common.kill_after,
               .max_late = o.max_late,
               .job_nice = o.job_nice},
              &done_, &reaper_),
        claimer_(&store_, &pool_, &done_, o.id, CallTimeout()),
        pool_(o.workers) {
    catalog_.OnErase([this](const std::string& encoded) {
      admission_.ForgetJob(encoded);
      absl::StatusOr<std::string> name = DecodeName(encoded);
      metrics_.ForgetJob(name.ok() ? *name : encoded);
    });
  }

  // Runs until stopped; the exit code.
  int Run();

 private:
  // Starts the HTTP side (--listen); kExitOk, or the exit code.
  int Listen();
  // Registers and reads the jobs; kExitOk, or the exit code.
  int Start();
  // Hands the loop's states and counters to /metrics and /readyz.
  void Publish();
  // One turn of the loop; false once a stopping daemon is done.
  bool Turn();
  // Until the next thing to do, a signal, a completion or run output.
  void Wait(bool housekeeping);
  absl::Duration CallTimeout() const {
    return o_.common.connection.dial_timeout;
  }

  void HandleCompletions();
  void Handle(ClaimDone& c);
  void Handle(ResultDone& c);
  void Handle(LiveDone& c);
  void Handle(Spawned& c);

  void ClaimDue();
  void ClaimFallbacks();
  void ClaimOverflow();
  // How many more ticks due at `instant` this daemon can start in time.
  daemon::Admission::Load Load() const {
    return {static_cast<int>(runs_.size()), runs_.spawning(), claiming_};
  }
  int Room(absl::Time instant) const {
    return admission_.Capacity(instant, absl::Now(), Load());
  }
  void LogCut() const {  // shedding load is worth a warning
    Log(LogLevel::kWarn,
        absl::StrCat("admission: at most ", admission_.adaptive_limit(),
                     " runs and claims at once (", admission_.cut_reason(),
                     ")"));
  }
  // Keeps what there is Room() for in `ticks` (counted as claims in
  // flight), in order, and returns the rest.
  std::vector<Tick> Admit(std::vector<Tick>& ticks);
  void OnRequest(const JobRef& job, absl::Time instant, int64_t revision);
  records::Claim NewClaim() const;
  void RefreshLive();
  // Logs what became of a tick; its result goes out with the next batch.
  void Record(RunOutcome outcome);
  void FlushResults();
  void CheckSession();
  void HandleSignals();
  MonoTime NextWake() const;
  bool spawning() const { return runs_.spawning() > 0; }

  // Constant after construction.
  const CronDaemonOptions& o_;
  SignalSet& signals_;
  etcd::Connection& conn_;
  const etcd::CronStore store_;
  const absl::Time start_;

  etcd::WatchStream watches_;
  Notifier wake_;
  daemon::CompletionQueue done_{&wake_};
  Reaper reaper_;
  FuseKeeper fuses_;
  daemon::JobTable jobs_;
  daemon::JobCatalog catalog_;
  daemon::Roster roster_;
  bool live_refreshing_ = false;
  MonoTime next_live_refresh_;
  daemon::FallbackQueue fallback_;
  // Ticks preferred here that this daemon had no room for: after the
  // others' fallback delay, run them if room was made, or record them as
  // skipped (overload) if nobody took them (admission.h).
  daemon::FallbackQueue overflow_;
  daemon::Admission admission_;
  int claiming_ = 0;  // claims in flight for ticks that would start here
  daemon::ResultBatcher results_;
  bool stopping_ = false;
  MonoTime grace_until_ = MonoTime::Infinite();
  // While a burst is being spawned, reaping, reading output and writing
  // results wait (at most kHousekeepingEvery) so that the starts get the
  // CPU; see Run().
  MonoTime next_housekeeping_;
  static constexpr absl::Duration kHousekeepingEvery = absl::Milliseconds(50);

  // Read by the HTTP threads and written by the workers (the zombie
  // census): declared before both, so both are gone first.
  daemon::DaemonHealth health_;
  daemon::DaemonMetrics metrics_;
  daemon::StatusService status_;
  daemon::ZombieCensus census_{&store_, &metrics_, CallTimeout()};

  daemon::DaemonSession session_;  // revoked after the runs are gone
  daemon::RunTable runs_;          // its spawners joined before the above
  daemon::TickClaimer claimer_;
  WorkPool pool_;  // joined before the above go, while they are alive

  // The HTTP server reads health_, metrics_ and status_ from its threads:
  // it is stopped first of all (declared last), they go last.
  std::unique_ptr<daemon::HttpServer> http_;
};

void Daemon::HandleCompletions() {
  for (daemon::Completion& c : done_.TakeAll()) {
    std::visit([this](auto& done) { Handle(done); }, c);
  }
}

void Daemon::Handle(LiveDone& c) {
  live_refreshing_ = false;
  next_live_refresh_ = MonoNow() + absl::Seconds(1);
  if (!c.live.ok()) return;
  const std::vector<std::string> before = roster_.live();
  roster_.Set(*std::move(c.live), session_.held());
  // Only a daemon that left can have left zombies behind.
  for (const std::string& id : before) {
    if (!std::binary_search(roster_.live().begin(), roster_.live().end(), id)) {
      census_.Soon();
      break;
    }
  }
}

void Daemon::Handle(Spawned& c) {
  results_.NoteStart(MonoNow());
  if (c.child.ok()) admission_.RecordStart(c.spawn_cost);
  // Started, or too late to start: its lag feeds admission.h.
  if (c.child.ok() || absl::IsDeadlineExceeded(c.child.status())) {
    if (admission_.RecordLag(c.started - c.tick.instant, Load().committed(),
                             absl::Now())) {
      LogCut();
    }
  }
  if (c.child.ok()) metrics_.RunStarted(c.started - c.tick.instant);
  if (std::optional<RunOutcome> o = runs_.Register(std::move(c))) {
    Record(*std::move(o));
  }
}

void Daemon::Handle(ResultDone& c) {
  if (c.status.ok()) return;
  Log(LogLevel::kError,
      absl::StrCat(TickName(c.tick),
                   ": result not recorded: ", c.status.message()));
}

void Daemon::Handle(ClaimDone& c) {
  if (!c.tick.overload) --claiming_;
  if (!c.claim.ok()) {
    Log(LogLevel::kWarn, absl::StrCat(TickName(c.tick), ": claim failed: ",
                                      c.claim.status().message()));
    return;
  }
  if (c.tick.overload) {  // a skip span written (tick_claimer.h)
    if (c.claim->claimed) {
      metrics_.RunRecorded(c.tick.job->name, false, 0, false, "overload");
    }
    return;
  }
  if (c.sent) {
    metrics_.ClaimAnswered(c.tick.job->name, c.claim->claimed, c.latency);
  } else {
    metrics_.ClaimLostWithoutTxn(c.tick.job->name);
  }
  if (!c.claim->claimed) {
    Log(LogLevel::kDebug,
        absl::StrCat(TickName(c.tick), c.claim->job_changed
                                           ? ": job changed, not claimed"
                                           : ": claimed by another daemon"));
    return;
  }
  if (c.skipped) {
    metrics_.RunRecorded(c.tick.job->name, false, 0, false, "overlap");
    Log(LogLevel::kInfo,
        absl::StrCat(TickName(c.tick), ": skipped (overlap), rev ",
                     c.claim->revision));
    return;
  }
  if (stopping_) {
    Record(daemon::NotRun(c.tick, o_.id, "shutdown", -1, absl::Now()));
    return;
  }
  if (!session_.held() || session_.lease_hex() != c.claim_lease) {
    // Claimed under a session that was lost before the answer came back:
    // without that lease there is no fuse for it, and the claim names a
    // dead lease (`ls` would call the run a zombie). Not run.
    Record(daemon::NotRun(c.tick, o_.id, "session lost", -1, absl::Now()));
    return;
  }
  if (LogEnabled(LogLevel::kDebug)) {
    Log(LogLevel::kDebug,
        absl::StrCat(TickName(c.tick), ": claimed ",
                     absl::FormatDuration(absl::Now() - c.tick.instant),
                     " after the instant"));
  }
  std::optional<RunOutcome> not_started =
      runs_.Start({.tick = c.tick,
                   .revision = c.claim->revision,
                   .lease_hex = session_.lease_hex(),
                   .fuse = session_.fuse(),
                   .deadline = session_.deadline()});
  if (not_started.has_value()) Record(*std::move(not_started));
}

records::Claim Daemon::NewClaim() const {
  records::Claim claim;
  claim.set_daemon(o_.id);
  claim.set_lease(session_.lease_hex());
  claim.set_claimed_at(records::FormatRfc3339(absl::Now()));
  return claim;
}

void Daemon::ClaimDue() {
  const absl::Time now = absl::Now();
  daemon::JobTable::Due due = jobs_.TakeDue(now, now - o_.max_late);
  for (const Tick& t : due.due) metrics_.TickDue(t.job->name);
  for (const daemon::MissedTicks& m : due.missed) {  // one line per job
    metrics_.TickDue(m.job->name, m.count);
    metrics_.TickMissed(m.job->name, m.count);
    Log(LogLevel::kWarn, m.Text());
  }
  daemon::ClaimPlan plan = daemon::PlanClaims(std::move(due.due), roster_);
  for (Tick& t : plan.fallback) fallback_.Add(std::move(t));
  // What there is no room for waits for the others' fallback first.
  for (Tick& t : Admit(plan.single)) overflow_.Add(std::move(t));
  for (Tick& t : Admit(plan.batched)) overflow_.Add(std::move(t));
  for (Tick& t : plan.single) {
    const bool here = runs_.RunningHere(t.job->encoded);
    claimer_.ClaimOne(std::move(t), NewClaim(), 0, here);
  }
  if (!plan.batched.empty()) {
    claimer_.ClaimBatched(std::move(plan.batched), NewClaim());
  }
}

void Daemon::ClaimFallbacks() {
  if (fallback_.empty()) return;
  if (stopping_ || !session_.held()) {
    fallback_.Clear();  // dropped, not run
    return;
  }
  std::vector<Tick> due = fallback_.TakeDue(absl::Now());
  // Preferred elsewhere: what there is no room for is simply left.
  const size_t left = Admit(due).size();
  if (left > 0) metrics_.TicksDeclined(left);
  if (due.empty()) return;
  std::vector<bool> here;
  here.reserve(due.size());
  for (const Tick& t : due) here.push_back(runs_.RunningHere(t.job->encoded));
  claimer_.ClaimFallbacks(std::move(due), std::move(here), NewClaim());
}

std::vector<Tick> Daemon::Admit(std::vector<Tick>& ticks) {
  // Room is asked once per instant (a burst shares one), so that a tick
  // too old to start in time (after a stall) does not shut out newer ones.
  std::vector<Tick> kept, rest;
  absl::Time at = absl::InfinitePast();  // no tick's instant
  int room = 0;
  for (Tick& t : ticks) {
    if (t.instant != at) room = Room(at = t.instant);
    if (room-- > 0) {
      ++claiming_;
      kept.push_back(std::move(t));
    } else {
      rest.push_back(std::move(t));
    }
  }
  ticks = std::move(kept);
  return rest;
}

void Daemon::ClaimOverflow() {
  claimer_.FlushOverloaded(absl::Now(), stopping_);
  if (overflow_.empty()) return;
  if (stopping_ || !session_.held()) {
    overflow_.Clear();  // dropped, not run
    return;
  }
  std::vector<Tick> due = overflow_.TakeDue(absl::Now());
  if (due.empty()) return;
  // Room made meanwhile: run them, if nobody else took them.
  std::vector<Tick> overload = Admit(due);
  if (!due.empty()) {
    std::vector<bool> here;
    for (const Tick& t : due) here.push_back(runs_.RunningHere(t.job->encoded));
    claimer_.ClaimFallbacks(std::move(due), std::move(here), NewClaim());
  }
  if (overload.empty()) return;
  // Nobody had room: recorded as skipped (overload) in skip spans, so that
  // every due tick is accounted for (tick_claimer.h).
  for (Tick& t : overload) t.overload = true;
  claimer_.ClaimOverloaded(std::move(overload), absl::Now());
}

void Daemon::OnRequest(const JobRef& job, absl::Time instant,
                       int64_t revision) {
  if (instant < start_ || absl::Now() - instant > o_.max_late) return;
  if (stopping_ || !session_.held()) return;
  // A daemon without room leaves the request to the others.
  std::vector<Tick> one = {Tick{job, instant}};
  if (!Admit(one).empty()) return;
  claimer_.ClaimOne(std::move(one[0]), NewClaim(), revision,
                    runs_.RunningHere(job->encoded));
}

void Daemon::RefreshLive() {
  if (MonoNow() < next_live_refresh_ || live_refreshing_) return;
  live_refreshing_ = true;
  done_.Expect();
  pool_.Submit([this] {
    LiveDone c;
    absl::StatusOr<std::map<std::string, std::string>> live =
        store_.LiveDaemons(absl::Now() + CallTimeout());
    if (live.ok()) {
      std::vector<std::string> ids;
      for (const auto& [id, lease] : *live) ids.push_back(id);
      c.live = std::move(ids);
    } else {
      c.live = live.status();
    }
    done_.Push(std::move(c));
  });
}

void Daemon::Record(RunOutcome outcome) {
  Log(LogLevel::kInfo,
      absl::StrCat(TickName(outcome.tick), ": ", outcome.line));
  const records::Result& r = outcome.result;
  metrics_.RunRecorded(outcome.tick.job->name, r.has_exit_code(), r.exit_code(),
                       r.has_signal(), r.has_skipped() ? r.skipped() : "");
  done_.Expect();  // its ResultDone
  results_.Add(std::move(outcome), MonoNow());
}

void Daemon::FlushResults() {
  for (std::vector<RunOutcome>& batch :
       results_.TakeDue(MonoNow(), spawning(), stopping_)) {
    pool_.Submit([this, batch = std::move(batch)] {
      const absl::Status written = daemon::WriteResultBatch(
          store_, batch, std::max(o_.common.ttl, absl::Seconds(30)),
          CallTimeout());
      for (const RunOutcome& o : batch) {
        done_.Push(ResultDone{o.tick, written});
      }
    });
  }
}

void Daemon::CheckSession() {
  if (session_.held()) {
    absl::Status lost = session_.health();
    if (lost.ok()) return;
    Log(LogLevel::kError,
        absl::StrCat("session lost (", lost.message(),
                     "); stopping running jobs, registering again"));
    runs_.StopAll("lease lost", /*lease_lost=*/true, MonoNow());
    session_.Drop();
    metrics_.SessionLost();
  }
  if (!stopping_) session_.Reopen();
}

MonoTime Daemon::NextWake() const {
  const MonoTime mono_now = MonoNow();
  const absl::Time now = absl::Now();
  // How long until `t`, on the monotonic clock (never in the past).
  auto at = [&](absl::Time t) {
    return mono_now + std::max(absl::ZeroDuration(), t - now);
  };
  MonoTime wake = mono_now + absl::Seconds(1);  // re-check the session
  if (session_.held()) {
    // The runs are stopped at the instant the session would count as lost.
    wake = std::min(wake, session_.loss_at());
    // Ticks are claimed only with a session: without one, the session
    // retry below is what wakes the loop (a due tick must not make it
    // spin).
    if (!stopping_) wake = std::min(wake, at(jobs_.next_due()));
  } else if (!stopping_) {
    wake = std::min(wake, session_.next_try());
  }
  wake = std::min(wake, runs_.NextWake(mono_now));
  // During a burst the spawners poke the loop only when their queue is
  // empty: the housekeeping cadence also registers what started so far.
  if (spawning()) wake = std::min(wake, next_housekeeping_);
  if (!fallback_.empty()) wake = std::min(wake, at(fallback_.next()));
  if (!overflow_.empty()) wake = std::min(wake, at(overflow_.next()));
  wake = std::min(wake, at(claimer_.next_overload_flush()));
  wake = std::min(wake, results_.Due(spawning()));
  // Once the grace has passed (and every run has been told to stop), a
  // stopping daemon waits for its completions, which wake it: grace_until_
  // in the past would spin.
  if (stopping_ && mono_now < grace_until_) {
    wake = std::min(wake, grace_until_);
  }
  return wake;
}

void Daemon::HandleSignals() {
  for (int sig : signals_.ReadPending()) {
    if (sig == SIGCHLD || sig == SIGUSR1 || sig == SIGUSR2 || sig == SIGHUP) {
      continue;
    }
    if (stopping_) {
      runs_.StopAll("second stop signal", false, MonoNow());
      continue;
    }
    stopping_ = true;
    census_.Abort();
    health_.SetStopping();
    grace_until_ = MonoNow() + o_.common.kill_after;
    Log(LogLevel::kInfo,
        absl::StrCat("signal ", sig, ": no more claims; waiting up to ",
                     absl::FormatDuration(o_.common.kill_after), " for ",
                     runs_.size(), " running job(s)"));
  }
}

int Daemon::Start() {
  absl::Status opened = session_.OpenAtStart();
  if (!opened.ok()) {
    if (absl::IsAlreadyExists(opened)) {
      std::cerr << "conchd: " << opened.message() << "\n";
      return kExitTempFail;
    }
    return ReportFailure(opened);
  }
  absl::Status loaded = catalog_.Load();
  if (!loaded.ok()) return ReportFailure(loaded);
  absl::StatusOr<std::map<std::string, std::string>> live =
      store_.LiveDaemons(absl::Now() + CallTimeout());
  if (live.ok()) {
    std::vector<std::string> ids;
    for (const auto& [id, lease] : *live) ids.push_back(id);
    roster_.Set(std::move(ids), /*registered=*/true);
    next_live_refresh_ = MonoNow() + absl::Seconds(1);
  }
  Log(LogLevel::kInfo,
      absl::StrCat("daemon ", o_.id, " running ", jobs_.size(),
                   " job(s), max-late ", absl::FormatDuration(o_.max_late)));
  return kExitOk;
}

void Daemon::Publish() {
  health_.Beat(MonoNow());
  health_.SetSessionHeld(session_.held());
  health_.SetJobsSynced(catalog_.synced());
  metrics_.SetSessionUp(session_.held());
  metrics_.SetRunsInProgress(static_cast<int>(runs_.size()));
  metrics_.SetStartCost(admission_.start_cost());
  metrics_.SetAdmission(
      admission_.adaptive_limit() < daemon::Admission::kUnlimited
          ? admission_.adaptive_limit()
          : -1,
      Load().committed());
  metrics_.SetJobs(static_cast<int>(jobs_.size()));
  metrics_.SetLiveDaemons(static_cast<int>(roster_.live().size()));
  metrics_.SyncRpcErrors(conn_.ErrorCounts());
  metrics_.SyncWatchResyncs(catalog_.resyncs() +
                            static_cast<uint64_t>(watches_.interruptions()));
  metrics_.SyncFuseFirings(fuses_.fired());
}

bool Daemon::Turn() {
  Publish();
  catalog_.Drain(
      [this](const JobRef& job, absl::Time instant, int64_t revision) {
        OnRequest(job, instant, revision);
      });
  HandleCompletions();
  // Starting a burst of runs comes first: while runs are being spawned,
  // the loop neither reaps, nor reads output, nor writes results more
  // often than every kHousekeepingEvery. Each of those wakes this loop
  // once per run and would take CPU from the starts (the runs' "ended"
  // can be up to that much late; the pipes hold 64 KiB meanwhile).
  const bool housekeeping =
      !spawning() || stopping_ || MonoNow() >= next_housekeeping_;
  if (housekeeping) {
    next_housekeeping_ = MonoNow() + kHousekeepingEvery;
    reaper_.Reap();
    for (RunOutcome& o : runs_.Advance(MonoNow())) {  // starved? admission.h
      if (admission_.RecordEnd(o.tick.job->encoded, o.ran, Load().committed(),
                               absl::Now())) {
        LogCut();
      }
      Record(std::move(o));
    }
  }
  CheckSession();
  if (!stopping_ && session_.held()) {
    RefreshLive();
    // With --listen: zombie ticks for /metrics.
    if (http_ != nullptr) census_.MaybeStart(MonoNow(), jobs_, pool_);
    ClaimDue();
  }
  ClaimFallbacks();
  ClaimOverflow();
  FlushResults();
  if (stopping_) {
    if (MonoNow() >= grace_until_) runs_.StopAll("shutdown", false, MonoNow());
    if (runs_.empty() && done_.outstanding() == 0) return false;
  }
  Wait(housekeeping);
  return true;
}

void Daemon::Wait(bool housekeeping) {
  // During a burst (no housekeeping this turn) signals wait too: SIGCHLD
  // would wake the loop once per exiting run, and a stop signal is
  // handled at most kHousekeepingEvery later.
  std::vector<struct pollfd> fds = {
      {housekeeping ? signals_.fd() : -1, POLLIN, 0}, {wake_.fd(), POLLIN, 0}};
  if (housekeeping) runs_.AddPollFds(&fds);
  // ppoll: a tick's instant is met to the microsecond, not rounded up to
  // the next millisecond (every start of a burst waits on it).
  const struct timespec timeout = absl::ToTimespec(std::clamp(
      NextWake() - MonoNow(), absl::ZeroDuration(), absl::Seconds(1)));
  const int n = ppoll(fds.data(), fds.size(), &timeout, nullptr);
  if (n < 0 && errno != EINTR) {
    Log(LogLevel::kError, absl::StrCat("poll: ", std::strerror(errno)));
  }
  if (n <= 0) {
    runs_.ReadOutputs(nullptr, 0);
    return;
  }
  if (fds[1].revents != 0) wake_.Drain();
  if (fds[0].revents != 0) HandleSignals();
  runs_.ReadOutputs(fds.data() + 2, fds.size() - 2);
}

int Daemon::Listen() {
  if (!o_.listen.has_value()) return kExitOk;
  absl::StatusOr<std::unique_ptr<daemon::HttpServer>> server =
      daemon::HttpServer::Start({.address = *o_.listen}, status_.Routes());
  if (!server.ok()) {
    std::cerr << "conchd: " << server.status().message() << "\n";
    return kExitUnavailable;
  }
  http_ = *std::move(server);
  Log(LogLevel::kInfo,
      absl::StrCat("serving http://", o_.listen->Authority(http_->port()),
                   "/ (status page, /metrics, /healthz, "
                   "/readyz, /api/v1)"));
  return kExitOk;
}

int Daemon::Run() {
  if (const int code = Listen(); code != kExitOk) return code;
  Publish();
  if (const int code = Start(); code != kExitOk) return code;
  while (Turn()) {
  }
  session_.Close();
  http_.reset();
  Log(LogLevel::kInfo, absl::StrCat("daemon ", o_.id, " stopped"));
  return kExitOk;
}

}  // namespace

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
