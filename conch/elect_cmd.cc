#include "conch/elect_cmd.h"

#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <optional>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "conch/exit_codes.h"
#include "conch/json_writer.h"
#include "conch/wrapper.h"
#include "core/backoff.h"
#include "core/child.h"
#include "core/connection.h"
#include "core/duration.h"
#include "core/election.h"
#include "core/etcd_status.h"
#include "core/kv.h"
#include "core/log.h"
#include "core/names.h"
#include "core/notifier.h"
#include "core/records.h"
#include "core/session.h"
#include "core/signals.h"
#include "core/supervisor.h"
#include "core/watch.h"

namespace conch {
namespace {

int Fail(const absl::Status& status) {
  std::cerr << "conch: " << status.message() << "\n";
  return ExitCodeFor(status);
}

absl::Time CallDeadline(const CommonOptions& o) {
  return absl::Now() + o.connection.dial_timeout;
}

// One line for --who: host, pid, since, rev (or the record as JSON).
std::string DescribeLeader(const etcd::KeyValue& kv, bool json) {
  records::Holder h;
  const absl::Status parsed = records::FromJson(kv.value, &h);
  if (json) {
    // The stored record, plus where it lives.
    std::string out = parsed.ok() ? kv.value : "{}";
    out.pop_back();
    absl::StrAppend(&out, out.size() > 1 ? "," : "",
                    "\"rev\":", kv.create_revision,
                    ",\"key\":", JsonWriter::Quote(kv.key), "}");
    return out;
  }
  if (!parsed.ok()) {
    return absl::StrCat("(unreadable holder record: ", parsed.message(),
                        ") rev ", kv.create_revision);
  }
  return absl::StrCat(h.host(), " pid ", h.pid(), " since ", h.since(), " rev ",
                      kv.create_revision, " lease ", h.lease());
}

int RunWho(const ElectArgs& args, const CommonOptions& o,
           const std::string& office) {
  std::unique_ptr<SignalSet> signals;
  if (args.watch) {
    absl::StatusOr<std::unique_ptr<SignalSet>> s =
        SignalSet::Install(SignalSet::WrapperSignals());
    if (!s.ok()) return Fail(s.status());
    signals = *std::move(s);
  }
  absl::StatusOr<std::unique_ptr<etcd::Connection>> conn =
      etcd::Connection::Dial(o.connection);
  if (!conn.ok()) return Fail(conn.status());
  etcd::Kv kv(conn->get());
  absl::StatusOr<std::optional<etcd::KeyValue>> leader =
      etcd::Election::Leader(kv, office, CallDeadline(o));
  if (!leader.ok()) return Fail(leader.status());
  if (!args.watch) {
    if (!leader->has_value()) return kExitVacant;
    std::cout << DescribeLeader(**leader, o.json) << std::endl;
    return kExitOk;
  }
  // --watch: print the leader now and whenever it changes.
  Notifier wake;
  etcd::WatchStream watches(conn->get());
  etcd::WatchOptions wo;
  wo.prefix = true;
  wo.on_ready = [&wake] { wake.Notify(); };
  absl::StatusOr<std::unique_ptr<etcd::Watcher>> watcher =
      watches.Watch(office, wo, CallDeadline(o));
  if (!watcher.ok()) return Fail(watcher.status());
  std::string last = "\x01";
  while (true) {
    std::string now = leader->has_value() ? DescribeLeader(**leader, o.json)
                                          : (o.json ? "null" : "vacant");
    if (now != last) {
      std::cout << now << std::endl;
      last = now;
    }
    WaitResult w = WaitForEvent(*signals, wake, MonoTime::Infinite());
    if (w.what == WaitResult::What::kStop) return kExitOk;
    bool changed = false;
    while (true) {
      absl::StatusOr<etcd::WatchBatch> b =
          (*watcher)->Next(absl::InfinitePast());
      if (absl::IsDeadlineExceeded(b.status())) break;
      if (!b.ok()) return Fail(b.status());
      changed = true;
    }
    if (!changed) continue;
    leader = etcd::Election::Leader(kv, office, CallDeadline(o));
    if (!leader.ok()) return Fail(leader.status());
  }
}

// Everything a campaign needs, alive for the whole run.
struct Campaign {
  const ElectArgs& args;
  const CommonOptions& o;
  const std::string office;
  const std::string path;  // resolved command
  std::optional<absl::Duration> timeout;
  absl::Duration restart_reset;
  SignalSet& signals;
  etcd::Connection& conn;
  etcd::WatchStream& watches;
  Notifier wake;
  FuseLink fuse_link;
  bool acquired_once = false;  // with --restart, later outages are waited out
};

// Runs the child (again and again with --restart) while the office is
// held. Returns the process exit code, or nullopt to campaign again.
std::optional<int> Hold(Campaign& c, etcd::Session& session,
                        etcd::Election& election) {
  BackoffPolicy policy;
  policy.reset_after = c.restart_reset;
  Backoff backoff(policy,
                  static_cast<uint64_t>(getpid()) ^
                      static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())));
  while (true) {
    HeldRunSpec spec;
    spec.path = c.path;
    spec.argv = c.args.command;
    spec.kill_after = c.o.kill_after;
    spec.env = {{"CONCH_REV", absl::StrCat(election.revision())},
                {"CONCH_NAME", c.args.name},
                {"CONCH_LEASE", etcd::LeaseHex(session.lease())}};
    Log(LogLevel::kInfo, absl::StrCat("holding office ", c.args.name, " (rev ",
                                      election.revision(), ")"));
    const MonoTime started = MonoNow();
    absl::StatusOr<SupervisorResult> r =
        RunHeld(spec, session, c.fuse_link, c.signals, c.wake);
    if (!r.ok()) {
      session.Close(CallDeadline(c.o)).IgnoreError();
      std::cerr << "conch: " << r.status().message() << "\n";
      return ExitCodeForCommand(r.status());
    }
    if (r->reason == SupervisorResult::Reason::kLeaseLost) {
      std::cerr << "conch: lease lost while the child ran ("
                << r->loss.message() << "); the child was stopped\n";
      session.Close(CallDeadline(c.o)).IgnoreError();
      if (c.args.restart) return std::nullopt;  // campaign again
      return kExitSoftware;
    }
    if (!c.args.restart || r->stop_signal != 0) {
      // Revoke: one raft write deletes our key, the next candidate wakes.
      // (After a stop signal was forwarded, --restart does not restart.)
      session.Close(CallDeadline(c.o)).IgnoreError();
      return r->exit_code;
    }
    backoff.RecordRun(MonoNow() - started);
    const absl::Duration delay = backoff.Next();
    Log(LogLevel::kInfo,
        absl::StrCat("child exited with ", r->exit_code, "; restarting in ",
                     absl::FormatDuration(delay)));
    // Keep the office while waiting; stop on a signal or on loss.
    const MonoTime until = MonoNow() + delay;
    while (MonoNow() < until) {
      WaitResult w = WaitForEvent(c.signals, c.wake, until);
      if (w.what == WaitResult::What::kStop) {
        session.Close(CallDeadline(c.o)).IgnoreError();
        return 128 + w.signal;
      }
      if (!session.status().ok()) {
        session.Close(CallDeadline(c.o)).IgnoreError();
        return std::nullopt;  // campaign again
      }
    }
  }
}

// One campaign: a session, a key, the wait, then Hold. Returns the exit
// code, or nullopt to start over (with --restart after a loss).
std::optional<int> RunCampaign(Campaign& c, MonoTime give_up) {
  etcd::SessionOptions so;
  so.ttl = c.o.ttl;
  so.on_deadline = c.fuse_link.Listener();
  so.on_event = [&c] { c.wake.Notify(); };
  absl::StatusOr<std::unique_ptr<etcd::Session>> session =
      etcd::Session::Create(&c.conn, &c.watches, so, CallDeadline(c.o));
  if (!session.ok()) {
    if (c.acquired_once && (absl::IsUnavailable(session.status()) ||
                            absl::IsDeadlineExceeded(session.status()))) {
      return std::nullopt;  // --restart: wait for etcd to come back
    }
    return Fail(session.status());
  }
  etcd::Election election(&c.conn, &c.watches, session->get(), c.office);
  absl::StatusOr<std::string> record =
      records::ToJson(MakeHolder((*session)->lease(), c.args.command));
  if (!record.ok()) return Fail(record.status());
  absl::StatusOr<bool> leading = election.Enter(*record, CallDeadline(c.o));
  if (!leading.ok()) {
    (*session)->Close(CallDeadline(c.o)).IgnoreError();
    if (c.acquired_once && absl::IsUnavailable(leading.status())) {
      return std::nullopt;
    }
    return Fail(leading.status());
  }
  if (!*leading && c.args.nonblock) {
    (*session)->Close(CallDeadline(c.o)).IgnoreError();
    std::cerr << "conch: office " << c.args.name << " is held (--nonblock)\n";
    return kExitTempFail;
  }
  while (!*leading) {
    WaitResult w = WaitForEvent(c.signals, c.wake, give_up);
    if (w.what == WaitResult::What::kStop) {
      election.Leave(CallDeadline(c.o)).IgnoreError();
      (*session)->Close(CallDeadline(c.o)).IgnoreError();
      return 128 + w.signal;
    }
    if (w.what == WaitResult::What::kTimeout && MonoNow() >= give_up) {
      election.Leave(CallDeadline(c.o)).IgnoreError();
      (*session)->Close(CallDeadline(c.o)).IgnoreError();
      std::cerr << "conch: office " << c.args.name
                << " not acquired within --timeout\n";
      return kExitTempFail;
    }
    absl::Status lost = (*session)->status();
    if (!lost.ok()) {
      (*session)->Close(CallDeadline(c.o)).IgnoreError();
      if (c.args.restart) return std::nullopt;
      std::cerr << "conch: lost the session while waiting: " << lost.message()
                << "\n";
      return kExitUnavailable;
    }
    leading = election.Check([&c] { c.wake.Notify(); }, CallDeadline(c.o));
    if (!leading.ok()) {
      if (absl::IsUnavailable(leading.status()) ||
          absl::IsDeadlineExceeded(leading.status())) {
        leading = false;  // etcd hiccup: keep waiting, the session decides
        continue;
      }
      if (etcd::IsLeaseNotFound(leading.status())) {
        (*session)->Close(CallDeadline(c.o)).IgnoreError();
        if (c.args.restart) return std::nullopt;
        return Fail(absl::UnavailableError(leading.status().message()));
      }
      (*session)->Close(CallDeadline(c.o)).IgnoreError();
      return Fail(leading.status());
    }
  }
  c.acquired_once = true;
  return Hold(c, **session, election);
}

}  // namespace

CLI::App* SetupElect(CLI::App& root, ElectArgs* a) {
  CLI::App* sub = root.add_subcommand(
      "elect", "run a command only on the elected leader of office NAME");
  sub->add_option("name", a->name, "office name (1 to 256 bytes)")->required();
  sub->add_option("command", a->command, "the command, after --");
  sub->add_flag("--who", a->who, "print who holds the office (exit 1: vacant)");
  sub->add_flag("--watch", a->watch,
                "with --who: keep printing each new leader until interrupted");
  sub->add_flag("--nonblock", a->nonblock,
                "exit 75 at once if the office is held");
  sub->add_option("--timeout", a->timeout,
                  "exit 75 if the office is not acquired within this");
  sub->add_flag("--restart", a->restart,
                "restart the child (with backoff) while holding the office; "
                "campaign again after a lost lease");
  sub->add_option("--restart-reset", a->restart_reset,
                  "with --restart: a child that ran this long resets the "
                  "backoff (default 60s)");
  return sub;
}

int RunElect(const ElectArgs& args, const CommonFlags& common) {
  absl::StatusOr<CommonOptions> o = Resolve(common);
  if (!o.ok()) return Fail(o.status());
  absl::StatusOr<std::string> encoded = EncodeName(args.name);
  if (!encoded.ok()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("invalid office name: ", encoded.status().message())));
  }
  const std::string office = NameKeyPrefix(o->prefix, "elect", *encoded);
  if (args.watch && !args.who) {
    return Fail(absl::InvalidArgumentError("--watch goes with --who"));
  }
  if (args.who) {
    if (!args.command.empty()) {
      return Fail(absl::InvalidArgumentError("--who takes no command"));
    }
    return RunWho(args, *o, office);
  }
  if (args.command.empty()) {
    return Fail(absl::InvalidArgumentError(
        "nothing to run: give the command after --"));
  }
  std::optional<absl::Duration> timeout;
  if (!args.timeout.empty()) {
    absl::StatusOr<absl::Duration> t = ParseDuration("--timeout", args.timeout);
    if (!t.ok()) return Fail(t.status());
    timeout = *t;
  }
  if (args.nonblock && timeout.has_value()) {
    return Fail(absl::InvalidArgumentError(
        "--nonblock and --timeout exclude each other"));
  }
  absl::StatusOr<absl::Duration> reset =
      ParsePositiveDuration("--restart-reset", args.restart_reset);
  if (!reset.ok()) return Fail(reset.status());
  // 126/127 before anything is acquired.
  absl::StatusOr<std::string> path = ResolveCommand(args.command[0]);
  if (!path.ok()) {
    std::cerr << "conch: " << path.status().message() << "\n";
    return ExitCodeForCommand(path.status());
  }

  // Before any thread exists (gRPC starts its own): signals go to the fd.
  absl::StatusOr<std::unique_ptr<SignalSet>> signals =
      SignalSet::Install(SignalSet::WrapperSignals());
  if (!signals.ok()) return Fail(signals.status());
  BecomeSubreaper();
  absl::StatusOr<std::unique_ptr<etcd::Connection>> conn =
      etcd::Connection::Dial(o->connection);
  if (!conn.ok()) return Fail(conn.status());
  etcd::WatchStream watches(conn->get());
  Campaign c{args,   *o,        office, *path,  timeout,
             *reset, **signals, **conn, watches};
  const MonoTime give_up =
      timeout.has_value() ? MonoNow() + *timeout : MonoTime::Infinite();
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

}  // namespace conch
