#include "conch/cron_run_cmd.h"

#include <unistd.h>

#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "conch/cron_format.h"
#include "conch/exit_codes.h"
#include "conch/identity.h"
#include "conch/json_writer.h"
#include "conch/output.h"
#include "core/base/duration.h"
#include "core/base/status_macros.h"
#include "core/cron/cron.h"
#include "core/cron/cron_state.h"
#include "core/etcd/connection.h"
#include "core/etcd/kv.h"
#include "core/etcd/watch.h"
#include "core/records/names.h"
#include "core/records/records.h"

namespace conch {
namespace {

// The run asked for, and who claimed it (daemon unknown: the claim came
// too late to be read).
struct Run {
  std::string name;
  absl::Time instant;
  std::optional<std::string> daemon;
  int64_t rev = 0;
  bool json = false;
};

// {"job", "tick", "claimed_by", "rev", then `more`}.
template <typename More>
void PrintJson(const Run& run, More more) {
  JsonWriter w;
  w.BeginObject();
  w.Field("job", run.name);
  w.Field("tick", Timestamp(run.instant));
  w.Key("claimed_by");
  if (run.daemon.has_value()) {
    w.String(*run.daemon);
  } else {
    w.Null();
  }
  w.Key("rev");
  if (run.rev > 0) {
    w.Int(run.rev);
  } else {
    w.Null();
  }
  more(w);
  w.EndObject();
  std::cout << w.Finish() << std::endl;
}

// The exit code of a recorded tick: the job's code, 128+S for a signal, 75
// for a tick recorded as skipped.
int ExitCodeOf(const records::Result& r) {
  if (r.has_signal()) return 128 + r.signal();
  if (r.has_skipped()) return kExitTempFail;
  return r.exit_code();
}

// Prints a recorded tick: JSON, or its output (stdout) and what became of
// it (stderr). Returns ExitCodeOf(r).
int ReportResult(const records::Result& r, const Run& run) {
  if (run.json) {
    PrintJson(run, [&](JsonWriter& w) {
      w.Field("outcome",
              etcd::TickStateName(StateOfResult(run.instant, r).kind));
      WriteRunMembers(w, r);
    });
    return ExitCodeOf(r);
  }
  if (r.output_cut() > 0) {
    std::cerr << "conch: (the first " << r.output_cut()
              << " bytes of the output were not kept)\n";
  }
  std::cout << r.output_tail();
  if (!r.output_tail().empty() && r.output_tail().back() != '\n') {
    std::cout << "\n";
  }
  std::cout.flush();
  const std::string tick = Timestamp(run.instant);
  if (r.has_signal()) {
    std::cerr << "conch: tick " << tick << " on " << OneLine(r.daemon())
              << ": killed by signal " << r.signal() << "\n";
  } else if (r.has_skipped()) {
    std::cerr << "conch: tick " << tick << " on " << OneLine(r.daemon())
              << ": skipped (" << OneLine(r.skipped()) << ")\n";
  } else if (r.exit_code() != 0) {
    std::cerr << "conch: tick " << tick << " on " << OneLine(r.daemon())
              << ": failed (code " << r.exit_code() << ")\n";
  }
  return ExitCodeOf(r);
}

// --wait, once the tick is claimed: the result, or a zombie if the runner's
// registration goes away (on the claim's lease) before a result is there.
int WaitForResult(const etcd::CronStore& store, etcd::Watcher& results,
                  const std::string& encoded, const records::Claim& claim,
                  const Run& run, const CommonOptions& o) {
  const etcd::Kv kv(store.connection());
  const std::string key = store.ResultKey(encoded, run.instant);
  // The stored result, if there is one (nullopt: none yet).
  auto stored = [&]() -> absl::StatusOr<std::optional<records::Result>> {
    absl::StatusOr<etcd::GetResult> got = kv.Get(key, {}, o.CallDeadline());
    if (!got.ok()) return got.status();
    if (got->kvs.empty()) return std::optional<records::Result>();
    records::Result r;
    RETURN_IF_ERROR(records::FromJson(got->kvs[0].value, &r));
    return std::optional<records::Result>(r);
  };
  while (true) {
    absl::StatusOr<etcd::WatchBatch> b =
        results.Next(absl::Now() + absl::Seconds(1));
    if (!b.ok() && !absl::IsDeadlineExceeded(b.status())) {
      return ReportFailure(b.status());
    }
    if (b.ok()) {
      for (const etcd::Event& ev : b->events) {
        if (ev.type != etcd::Event::Type::kPut) continue;
        records::Result r;
        const absl::Status parsed = records::FromJson(ev.kv.value, &r);
        if (!parsed.ok()) return ReportFailure(parsed);
        return ReportResult(r, run);
      }
      continue;
    }
    // A second without a result: is its runner still registered?
    absl::StatusOr<std::map<std::string, std::string>> live =
        store.LiveDaemons(o.CallDeadline());
    if (!live.ok()) continue;  // ask again in a second
    const auto runner = live->find(claim.daemon());
    if (runner != live->end() && runner->second == claim.lease()) continue;
    // Gone. A result written just before is still a result.
    absl::StatusOr<std::optional<records::Result>> last = stored();
    if (!last.ok()) return ReportFailure(last.status());
    if (last->has_value()) return ReportResult(**last, run);
    if (run.json) {
      PrintJson(run, [](JsonWriter& w) { w.Field("outcome", "zombie"); });
    } else {
      std::cerr << "conch: tick " << Timestamp(run.instant)
                << " is a zombie: daemon " << OneLine(claim.daemon())
                << " went away before recording a result (it is never run "
                   "again)\n";
    }
    return kExitSoftware;
  }
}

}  // namespace

CLI::App* SetupCronRun(CLI::App& cron, CronRunArgs* a) {
  CLI::App* run = cron.add_subcommand(
      "run", "ask the daemons to run an extra tick of a job now");
  AddNameArgument(*run, &a->name, "job", /*new_name=*/false);
  CheckValues(run->add_option("--timeout", a->timeout,
                              "exit 75 if no daemon claims it within this "
                              "(default 10s)")
                  ->type_name("DURATION"),
              [](const std::string& v) {
                return WhyNotDuration(v, absl::Nanoseconds(1));
              });
  run->add_flag("--wait", a->wait,
                "wait for the run, print its output and exit with its code "
                "(128+S for a signal, 75 skipped, 70 if its daemon died: a "
                "zombie)");
  run->footer(
      "Examples:\n"
      "  conch cron run backup\n"
      "  conch cron run backup --wait\n"
      "  conch cron run backup --wait --json --timeout 1m");
  return run;
}

int RunCronRun(const CronRunArgs& a, const CommonOptions& o) {
  absl::StatusOr<std::string> encoded_or = EncodeName(a.name);
  if (!encoded_or.ok()) {
    return ReportFailure(absl::InvalidArgumentError(
        absl::StrCat("invalid job name: ", encoded_or.status().message())));
  }
  const std::string encoded = *std::move(encoded_or);
  absl::StatusOr<absl::Duration> timeout =
      ParsePositiveDuration("--timeout", a.timeout);
  if (!timeout.ok()) return ReportFailure(timeout.status());
  absl::StatusOr<std::unique_ptr<etcd::Connection>> conn =
      etcd::Connection::Dial(o.connection);
  if (!conn.ok()) return ReportFailure(conn.status());
  const absl::Time deadline = absl::Now() + o.connection.dial_timeout;
  const etcd::CronStore store(conn->get(), o.prefix);
  Run run{a.name, absl::Now(), std::nullopt, 0, o.json};
  // Watch the tick key (and, to wait, the result key) before asking, so
  // that neither the claim nor the result can slip past.
  etcd::WatchStream watches(conn->get());
  absl::StatusOr<std::unique_ptr<etcd::Watcher>> w =
      watches.Watch(store.TickKey(encoded, run.instant), {}, deadline);
  if (!w.ok()) return ReportFailure(w.status());
  std::unique_ptr<etcd::Watcher> results;
  if (a.wait) {
    absl::StatusOr<std::unique_ptr<etcd::Watcher>> r =
        watches.Watch(store.ResultKey(encoded, run.instant), {}, deadline);
    if (!r.ok()) return ReportFailure(r.status());
    results = *std::move(r);
  }
  records::RunRequest req;
  req.set_host(HostName());
  req.set_pid(getpid());
  req.set_user(UserName());
  req.set_requested_at(records::FormatRfc3339(run.instant));
  absl::Status asked = store.RequestRun(a.name, run.instant, req, deadline);
  if (absl::IsNotFound(asked)) {
    std::cerr << "conch: " << OneLine(asked.message()) << "\n";
    return kExitVacant;
  }
  if (!asked.ok()) return ReportFailure(asked);
  // The claim, once known: without --wait it is the answer (stdout); with
  // it, the job's output is, and the claim line goes to stderr (text), or
  // into the one JSON object at the end.
  auto say_claimed = [&] {
    if (a.wait && o.json) return;
    if (o.json) {
      PrintJson(run, [](JsonWriter&) {});
      return;
    }
    std::ostream& said = a.wait ? std::cerr : std::cout;
    said << (a.wait ? "conch: " : "") << "tick " << Timestamp(run.instant)
         << " claimed";
    if (run.daemon.has_value()) {
      said << " by " << OneLine(*run.daemon) << " (rev " << run.rev << ")";
    }
    said << std::endl;
  };
  absl::Time give_up = absl::Now() + *timeout;
  bool late = false;
  while (true) {
    absl::StatusOr<etcd::WatchBatch> b = (*w)->Next(give_up);
    if (b.ok()) {
      for (const etcd::Event& ev : b->events) {
        if (ev.type != etcd::Event::Type::kPut) continue;
        records::Claim c;
        (void)records::FromJson(ev.kv.value, &c);
        run.daemon = c.daemon();
        run.rev = ev.kv.mod_revision;
        say_claimed();
        if (!a.wait) return kExitOk;
        return WaitForResult(store, *results, encoded, c, run, o);
      }
      continue;
    }
    if (!absl::IsDeadlineExceeded(b.status())) return ReportFailure(b.status());
    // Nobody claimed it: withdraw, unless a daemon took it meanwhile.
    absl::StatusOr<bool> cancelled = store.CancelRun(
        a.name, run.instant, absl::Now() + o.connection.dial_timeout);
    if (cancelled.ok() && !*cancelled) {
      // Claimed in the last moment.
      if (!a.wait) {
        say_claimed();
        return kExitOk;
      }
      if (!late) {  // the watch brings the claim
        late = true;
        give_up = absl::Now() + o.connection.dial_timeout;
        continue;
      }
      return ReportFailure(absl::UnavailableError(
          "the run was claimed, but its claim could not be read"));
    }
    std::cerr << "conch: no conchd claimed the run of " << OneLine(a.name)
              << " within " << a.timeout << " (is a daemon running?)\n";
    return kExitTempFail;
  }
}

}  // namespace conch
