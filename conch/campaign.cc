#include "conch/campaign.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <memory>
#include <optional>

#include "CLI/CLI.hpp"
#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "conch/contenders.h"
#include "conch/exit_codes.h"
#include "conch/progress.h"
#include "conch/wrapper.h"
#include "core/base/backoff.h"
#include "core/base/duration.h"
#include "core/base/log.h"
#include "core/base/mono_time.h"
#include "core/base/notifier.h"
#include "core/etcd/etcd_status.h"
#include "core/process/child.h"
#include "core/process/fuse_keeper.h"
#include "core/process/reaper.h"
#include "core/process/stop_plan.h"
#include "core/process/supervisor.h"
#include "core/records/records.h"

namespace conch {
namespace {

int Fail(const absl::Status& status) { return ReportFailure(status); }

struct CampaignSpec {
  std::vector<std::string> command;  // argv of the child
  std::string path;                  // resolved argv[0]
  bool nonblock = false;
  std::optional<absl::Duration> timeout;
  bool restart = false;
  absl::Duration restart_reset = absl::Seconds(60);
};

// After a loss the lease is gone or about to be: revoking it only speeds up
// the successor, so it gets a short try, and the wrapper exits within a
// second of its child even when etcd is out of reach.
constexpr absl::Duration kRevokeAfterLoss = absl::Milliseconds(500);

absl::Time AfterLossDeadline(const CommonOptions& o) {
  return absl::Now() + std::min(o.connection.dial_timeout, kRevokeAfterLoss);
}

// Revokes the campaign's lease (one raft write deletes its keys, the next
// candidate wakes): with the full call deadline for a handover, quickly
// after a loss.
void CloseSession(etcd::Session& session, const CommonOptions& o) {
  const bool lost = !session.status().ok();
  session.Close(lost ? AfterLossDeadline(o) : o.CallDeadline()).IgnoreError();
}

// Everything a campaign needs, alive for the whole run.
struct Campaign {
  const CampaignSpec& args;
  const CommonOptions& o;
  const AcquirerFactory& factory;
  SignalSet& signals;
  etcd::Connection& conn;
  etcd::WatchStream& watches;
  FuseKeeper& fuses;
  Progress& progress;
  Notifier wake;
  // Watch events the recipe was told of (from gRPC's threads).
  std::atomic<int64_t> watch_events{0};
  bool acquired_once = false;  // with --restart, later outages are waited out
};

// Runs the child (again and again with --restart) while it is held. Returns the
// process exit code, or nullopt to campaign again.
std::optional<int> Hold(Campaign& c, etcd::Session& session, Acquirer& held) {
  BackoffPolicy policy;
  policy.reset_after = c.args.restart_reset;
  Backoff backoff(policy,
                  static_cast<uint64_t>(getpid()) ^
                      static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())));
  while (true) {
    HeldRunSpec spec;
    spec.path = c.args.path;
    spec.argv = c.args.command;
    spec.kill_after = c.o.kill_after;
    spec.env = held.Env();
    spec.env.emplace_back("CONCH_LEASE", etcd::LeaseHex(session.lease()));
    Log(LogLevel::kInfo, absl::StrCat("holding ", held.Describe()));
    c.progress.Acquired(held.line().name, spec.env);
    const MonoTime started = MonoNow();
    absl::StatusOr<SupervisorResult> r =
        RunHeld(spec, session, c.fuses, c.signals, c.wake);
    if (!r.ok()) {
      std::cerr << "conch: " << OneLine(r.status().message()) << "\n";
      return ExitCodeForCommand(r.status());
    }
    if (r->reason == SupervisorResult::Reason::kLeaseLost) {
      c.progress.Lost(r->loss);
      std::cerr << "conch: lease lost (" << OneLine(r->loss.message())
                << "); the child was stopped (or never started)\n";
      if (c.args.restart) return std::nullopt;  // campaign again
      return kExitSoftware;
    }
    Log(LogLevel::kDebug, absl::StrCat("child exited with ", r->exit_code));
    if (!c.args.restart || r->stop_signal != 0) {
      // Done: the caller revokes. (After a stop signal was forwarded,
      // --restart does not restart.)
      c.progress.Exited(r->exit_code);
      return r->exit_code;
    }
    backoff.RecordRun(MonoNow() - started);
    const absl::Duration delay = backoff.Next();
    c.progress.Restarting(r->exit_code, delay);
    // At the default level: a crash loop must not be silent.
    Log(LogLevel::kWarn,
        absl::StrCat(
            "child exited with ", r->exit_code, "; restarting in ",
            absl::FormatDuration(absl::Trunc(delay, absl::Milliseconds(1)))));
    // Keep holding while waiting; stop on a signal or on loss.
    const MonoTime until = MonoNow() + delay;
    while (MonoNow() < until) {
      WaitResult w = WaitForEvent(c.signals, c.wake, until);
      if (w.what == WaitResult::What::kStop) return 128 + w.signal;
      if (!session.status().ok()) return std::nullopt;  // campaign again
    }
  }
}

// How waiting for a recipe ended: it holds, or the campaign ends with an
// exit code, or it starts over (--restart after a loss).
struct Waited {
  enum class End { kAcquired, kExit, kCampaignAgain };
  End end = End::kAcquired;
  int exit_code = 0;
};

Waited ExitWith(int code) { return {Waited::End::kExit, code}; }
constexpr Waited kCampaignAgain{Waited::End::kCampaignAgain, 0};

// The first and the longest pause before a failed read is tried again.
constexpr absl::Duration kFirstRetry = absl::Milliseconds(100);
constexpr absl::Duration kMaxRetry = absl::Seconds(1);

// What the watch had done by the end of a periodic re-read, to tell a
// missed event from a late one.
struct WatchWitness {
  int64_t interruptions = 0;  // the stream's count at the previous read
  bool was_open = false;      // the stream was open at the previous read
  int64_t events = 0;         // watch events when the re-read began
};

WatchWitness Witness(const Campaign& c) {
  return {c.watches.interruptions(), c.watches.open(), c.watch_events.load()};
}

// Logs that the periodic re-read, not a watch event, is what acquired, and
// why: the stream broke or was still re-opening since the previous read
// (the events come after the re-open), or the event came while the re-read
// was under way (the watch was late, not wrong), or the watch missed it.
void LogReadAcquired(const Campaign& c, const Acquirer& recipe,
                     const WatchWitness& before, int64_t events_at_read) {
  const int64_t breaks = c.watches.interruptions() - before.interruptions;
  std::string why;
  if (breaks > 0 || !before.was_open) {
    why = absl::StrCat("while the watch stream was re-opening (", breaks,
                       " break", breaks == 1 ? "" : "s",
                       " since the previous read)");
  } else if (c.watch_events.load() > events_at_read) {
    why = "its watch event came while the re-read was under way";
  } else {
    why = "no watch event had announced it";
  }
  Log(LogLevel::kWarn,
      absl::StrCat(recipe.Describe(), ": acquired on the periodic re-read; ",
                   why));
}

// The waiting line's source (only when Progress shows it): a watch on the
// whole line, whose events make the next Update read the line again.
// Reading or watching failing only costs the display: the wait goes on.
class PlaceWatch {
 public:
  PlaceWatch(Campaign& c, const Acquirer& recipe)
      : c_(c), line_(recipe.line()) {
    if (!c.progress.on()) return;
    etcd::WatchOptions wo;
    wo.prefix = true;
    wo.on_ready = [this] {
      changed_.store(true);
      c_.wake.Notify();
    };
    absl::StatusOr<std::unique_ptr<etcd::Watcher>> w =
        c.watches.Watch(line_.watch_prefix, wo, c.o.CallDeadline());
    if (w.ok()) watcher_ = *std::move(w);
    Update();
  }

  // Shows the place again when the line changed since the last read.
  void Update() {
    if (!c_.progress.on() || !changed_.exchange(false)) return;
    if (watcher_ != nullptr) {
      while (true) {
        absl::StatusOr<std::optional<etcd::WatchBatch>> b = watcher_->TryNext();
        if (!b.ok() || !b->has_value()) break;
      }
    }
    absl::StatusOr<Contenders> now =
        ReadContenders(&c_.conn, c_.o.prefix, line_.kind, line_.encoded_name,
                       line_.max, c_.o.CallDeadline());
    if (!now.ok()) {
      changed_.store(true);  // try again on the next wake-up
      return;
    }
    c_.progress.Waiting(*now, line_.key);
  }

 private:
  Campaign& c_;
  const Acquirer::Line line_;
  std::atomic<bool> changed_{true};
  std::unique_ptr<etcd::Watcher> watcher_;
};

// Waits, after Enter, until `recipe` holds: on its watch, and reading etcd
// again at least once per TTL anyway (a watch event that never came, on a
// dead connection before it was retired or through a bug, costs at most
// that much, and is logged).
Waited WaitToAcquire(Campaign& c, etcd::Session& session, Acquirer& recipe,
                     MonoTime give_up) {
  c.wake.Notify();  // arm the first watch before waiting for anything
  MonoTime reread_at = MonoNow() + c.o.ttl;
  WatchWitness witness = Witness(c);
  const auto on_change = [&c] {
    c.watch_events.fetch_add(1);
    c.wake.Notify();
  };
  // After a read that failed, the next try comes on its own: the watch
  // event that prompted it was already taken.
  MonoTime retry_at = MonoTime::Infinite();
  absl::Duration retry_delay = kFirstRetry;
  PlaceWatch place(c, recipe);
  // The line erased before anything else is said, whatever the way out.
  absl::Cleanup erase = [&c] { c.progress.Clear(); };
  while (true) {
    WaitResult w = WaitForEvent(c.signals, c.wake,
                                std::min({give_up, reread_at, retry_at}));
    if (w.what == WaitResult::What::kStop) {
      c.progress.Clear();
      recipe.Leave(c.o.CallDeadline()).IgnoreError();
      return ExitWith(128 + w.signal);
    }
    if (w.what == WaitResult::What::kTimeout && MonoNow() >= give_up) {
      c.progress.Clear();
      recipe.Leave(c.o.CallDeadline()).IgnoreError();
      std::cerr << "conch: " << recipe.Describe()
                << " not acquired within --timeout\n";
      return ExitWith(kExitTempFail);
    }
    if (absl::Status lost = session.status(); !lost.ok()) {
      if (c.args.restart) return kCampaignAgain;
      c.progress.Clear();
      std::cerr << "conch: lost the session while waiting: "
                << OneLine(lost.message()) << "\n";
      return ExitWith(kExitUnavailable);
    }
    absl::StatusOr<bool> leading = recipe.Check(on_change, c.o.CallDeadline());
    if (leading.ok() && !*leading && MonoNow() >= reread_at) {
      // The watch reported nothing (its events, if any, were taken just
      // above): read etcd anyway.
      reread_at = MonoNow() + c.o.ttl;
      recipe.Invalidate();
      const int64_t events_at_read = c.watch_events.load();
      leading = recipe.Check(on_change, c.o.CallDeadline());
      if (leading.ok() && *leading) {
        LogReadAcquired(c, recipe, witness, events_at_read);
      }
      witness = Witness(c);
    }
    if (leading.ok() && *leading) return Waited{};
    if (leading.ok()) {
      retry_at = MonoTime::Infinite();
      retry_delay = kFirstRetry;
      place.Update();
      continue;  // not yet
    }
    if (absl::IsUnavailable(leading.status()) ||
        absl::IsDeadlineExceeded(leading.status())) {
      // An etcd hiccup: the session decides whether it is a loss; until
      // then read again soon.
      recipe.Invalidate();
      retry_at = MonoNow() + retry_delay;
      retry_delay = std::min(retry_delay * 2, kMaxRetry);
      continue;
    }
    if (etcd::IsLeaseNotFound(leading.status())) {
      if (c.args.restart) return kCampaignAgain;
      c.progress.Clear();
      return ExitWith(Fail(absl::UnavailableError(leading.status().message())));
    }
    c.progress.Clear();
    return ExitWith(Fail(leading.status()));
  }
}

// One campaign: a session, a key, the wait, then Hold. Returns the exit
// code, or nullopt to start over (with --restart after a loss).
std::optional<int> RunCampaign(Campaign& c, MonoTime give_up) {
  etcd::SessionOptions so;
  so.ttl = c.o.ttl;
  so.loss_lead = StopPlan{c.o.kill_after}.lead();
  so.on_deadline = c.fuses.DeadlineListener();
  so.on_event = [&c] { c.wake.Notify(); };
  absl::StatusOr<std::unique_ptr<etcd::Session>> session =
      etcd::Session::Create(&c.conn, &c.watches, so, c.o.CallDeadline());
  if (!session.ok()) {
    if (c.acquired_once && (absl::IsUnavailable(session.status()) ||
                            absl::IsDeadlineExceeded(session.status()))) {
      return std::nullopt;  // --restart: wait for etcd to come back
    }
    return Fail(session.status());
  }
  Log(LogLevel::kDebug,
      absl::StrCat("session lease ", etcd::LeaseHex((*session)->lease())));
  std::unique_ptr<Acquirer> recipe = c.factory(**session);
  // However the campaign ends, its lease is revoked, once.
  absl::Cleanup close = [&session, &c] { CloseSession(**session, c.o); };
  absl::StatusOr<bool> leading = recipe->Enter(c.o.CallDeadline());
  Log(LogLevel::kDebug,
      absl::StrCat("entered ", recipe->Describe(), ": ",
                   leading.ok() && *leading ? "held" : "waiting"));
  if (!leading.ok()) {
    if (c.acquired_once && absl::IsUnavailable(leading.status())) {
      return std::nullopt;
    }
    return Fail(leading.status());
  }
  if (!*leading && c.args.nonblock) {
    std::cerr << "conch: " << recipe->Describe() << " is held (--nonblock)\n";
    return kExitTempFail;
  }
  if (!*leading) {
    const Waited waited = WaitToAcquire(c, **session, *recipe, give_up);
    if (waited.end == Waited::End::kCampaignAgain) return std::nullopt;
    if (waited.end == Waited::End::kExit) return waited.exit_code;
  }
  c.acquired_once = true;
  return Hold(c, **session, *recipe);
}

int RunCampaigns(const CampaignSpec& spec, const CommonOptions& options,
                 SignalSet& signals, FuseKeeper& fuses, etcd::Connection& conn,
                 etcd::WatchStream& watches, const AcquirerFactory& factory) {
  Progress progress(Progress::Choose(options.json), std::cerr);
  Campaign c{spec, options, factory, signals, conn, watches, fuses, progress};
  const MonoTime give_up = spec.timeout.has_value() ? MonoNow() + *spec.timeout
                                                    : MonoTime::Infinite();
  BackoffPolicy policy;
  Backoff retry(policy, static_cast<uint64_t>(getpid()));
  while (true) {
    std::optional<int> code = RunCampaign(c, give_up);
    if (code.has_value()) return *code;
    // --restart after a loss: campaign again once etcd answers.
    const absl::Duration delay = retry.Next();
    Log(LogLevel::kWarn,
        absl::StrCat("campaigning again in ", absl::FormatDuration(delay)));
    WaitResult w = WaitForEvent(c.signals, c.wake, MonoNow() + delay);
    if (w.what == WaitResult::What::kStop) return 128 + w.signal;
  }
}

}  // namespace

void AddCampaignFlags(CLI::App& sub, CampaignFlags* f,
                      const std::string& what) {
  sub.footer(absl::StrCat("The command goes after --: conch ", sub.get_name(),
                          " NAME [flags] -- COMMAND [ARG...]; nothing after "
                          "-- is read as a flag of conch's."));
  sub.add_flag("--nonblock", f->nonblock,
               absl::StrCat("exit 75 at once if ", what, " is not free"));
  sub.add_option("--timeout", f->timeout,
                 absl::StrCat("exit 75 if ", what,
                              " is not acquired within this duration"));
  sub.add_flag("--restart", f->restart,
               absl::StrCat("restart the child (with backoff) while holding ",
                            what, "; after a lost lease, acquire it again"));
  sub.add_option("--restart-reset", f->restart_reset,
                 "with --restart: a child that ran this long resets the "
                 "backoff (default 60s)");
}

absl::Status CheckLookOnly(const CampaignFlags& flags) {
  const char* extra = !flags.command.empty()   ? "a command"
                      : flags.nonblock         ? "--nonblock"
                      : !flags.timeout.empty() ? "--timeout"
                      : flags.restart          ? "--restart"
                                               : nullptr;
  if (extra == nullptr) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("--who only looks: it does not go with ", extra));
}

int RunCampaignCommand(const CampaignFlags& flags, const CommonOptions& options,
                       const AcquirerFactory& factory) {
  if (flags.command.empty()) {
    return Fail(absl::InvalidArgumentError(
        "nothing to run: give the command after --"));
  }
  if (absl::Status fits = CheckStopBudget(options.ttl, options.kill_after);
      !fits.ok()) {
    return Fail(fits);
  }
  // The holder record carries the command line: refused here if etcd could
  // not take it, before anything is written.
  if (absl::StatusOr<std::string> json =
          records::ToJson(MakeHolder(etcd::kNoLease, flags.command));
      json.ok() && json->size() > records::kMaxRecordBytes) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "the command is too long: its holder record would be ", json->size(),
        " bytes, at most ", records::kMaxRecordBytes)));
  }
  CampaignSpec spec;
  spec.command = flags.command;
  spec.nonblock = flags.nonblock;
  spec.restart = flags.restart;
  if (!flags.timeout.empty()) {
    absl::StatusOr<absl::Duration> t =
        ParseDuration("--timeout", flags.timeout);
    if (!t.ok()) return Fail(t.status());
    spec.timeout = *t;
  }
  if (spec.nonblock && spec.timeout.has_value()) {
    return Fail(absl::InvalidArgumentError(
        "--nonblock and --timeout exclude each other"));
  }
  absl::StatusOr<absl::Duration> reset =
      ParsePositiveDuration("--restart-reset", flags.restart_reset);
  if (!reset.ok()) return Fail(reset.status());
  spec.restart_reset = *reset;
  // 126/127 before anything is acquired.
  absl::StatusOr<std::string> path = ResolveCommand(flags.command[0]);
  if (!path.ok()) {
    std::cerr << "conch: " << OneLine(path.status().message()) << "\n";
    return ExitCodeForCommand(path.status());
  }
  spec.path = *path;

  // Before any thread exists (gRPC starts its own): signals go to the fd.
  absl::StatusOr<std::unique_ptr<SignalSet>> signals =
      SignalSet::Install(SignalSet::WrapperSignals());
  if (!signals.ok()) return Fail(signals.status());
  BecomeSubreaper();
  // The fuse's fork is cheapest now: one thread, a small address space.
  FuseKeeper fuses(options.kill_after);
  if (absl::Status f = fuses.Current().status(); !f.ok()) return Fail(f);
  Log(LogLevel::kDebug, "dialing etcd");
  absl::StatusOr<std::unique_ptr<etcd::Connection>> conn =
      etcd::Connection::Dial(options.connection);
  if (!conn.ok()) return Fail(conn.status());
  Log(LogLevel::kDebug,
      absl::StrCat("connected to ", (*conn)->current_endpoint().original));
  etcd::WatchStream watches(conn->get());
  const int code =
      RunCampaigns(spec, options, **signals, fuses, **conn, watches, factory);
  fuses.Retire();  // the guard exits; reaped here, not left to init
  // Everything that matters is done: the child and its group are gone, the
  // fuse is disarmed and reaped, the lease is revoked. Tearing down gRPC's
  // threads in order would only add ~10 ms to every run; the kernel closes
  // the connection just as well.
  std::cout.flush();
  std::cerr.flush();
  _exit(code);
}

}  // namespace conch
