#include "conch/cron_logs_cmd.h"

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "conch/cron_format.h"
#include "conch/exit_codes.h"
#include "conch/json_writer.h"
#include "conch/output.h"
#include "conch/wrapper.h"
#include "core/base/mono_time.h"
#include "core/base/notifier.h"
#include "core/cron/cron.h"
#include "core/cron/cron_state.h"
#include "core/etcd/connection.h"
#include "core/etcd/watch.h"
#include "core/process/signals.h"
#include "core/records/names.h"
#include "core/records/records.h"

namespace conch {
namespace {

// Where the runs go: text (each run's output, after its header when
// `headers`), one JSON array at Finish(), or one JSON object per line
// (--follow).
class Runs {
 public:
  Runs(const CronLogsArgs& a, const CommonOptions& o)
      : name_(a.name), json_(o.json), lines_(a.follow) {
    if (json_ && !lines_) array_.BeginArray();
  }

  void Add(absl::Time instant, const records::Result& r, bool header) {
    if (json_) {
      JsonWriter one;
      JsonWriter& w = lines_ ? one : array_;
      const etcd::TickState s = StateOfResult(instant, r);
      w.BeginObject()
          .Field("job", name_)
          .Field("tick", Timestamp(instant))
          .Field("daemon", r.daemon())
          .Field("state", etcd::TickStateName(s.kind))
          .Field("text", etcd::FormatTickState(s));
      WriteRunMembers(w, r);
      w.EndObject();
      if (lines_) std::cout << one.Finish() << std::endl;
      return;
    }
    if (header) {
      std::cout << "==> tick " << Timestamp(instant) << " on "
                << OneLine(r.daemon()) << ": "
                << OneLine(etcd::FormatTickState(StateOfResult(instant, r)))
                << " <==\n";
    }
    if (r.output_cut() > 0) {
      std::cout << "[... " << r.output_cut()
                << " bytes of output before this were not kept ...]\n";
    }
    std::cout << r.output_tail();
    if (!r.output_tail().empty() && r.output_tail().back() != '\n') {
      std::cout << "\n";
    }
    std::cout.flush();
  }

  // The JSON array, when there is one (not --follow).
  void Finish() {
    if (!json_ || lines_) return;
    array_.EndArray();
    std::cout << array_.Finish() << std::endl;
  }

 private:
  const std::string name_;
  const bool json_;
  const bool lines_;
  JsonWriter array_;
};

// --tick T: that tick's output, or why there is none. A tick matches T to
// the millisecond (as Timestamp prints it: a run asked for by `cron run`
// has a finer instant).
int PrintTick(const std::vector<etcd::CronTick>& history, absl::Time instant,
              const std::map<std::string, std::string>& live,
              const std::string& name, Runs& runs) {
  for (const etcd::CronTick& t : history) {
    if (absl::ToUnixMillis(t.instant) != absl::ToUnixMillis(instant)) continue;
    if (t.result.has_value()) {
      runs.Add(t.instant, *t.result, /*header=*/false);
      return kExitOk;
    }
    const etcd::TickState s = etcd::StateOfTick(t, live);
    std::cerr << "conch: tick " << Timestamp(t.instant) << " of "
              << OneLine(name) << " is " << OneLine(etcd::FormatTickState(s))
              << ": no output yet\n";
    return s.kind == etcd::TickState::Kind::kZombie ? kExitSoftware
                                                    : kExitTempFail;
  }
  std::cerr << "conch: no tick " << Timestamp(instant) << " of "
            << OneLine(name) << " (cron ls " << OneLine(name)
            << " --history 100 lists them)\n";
  return kExitVacant;
}

// --follow, after a skip span was written: its ticks (read back through
// History, where a claim made meanwhile wins) that were not printed yet,
// oldest first. Spans are written seconds after their ticks, so they may
// come after a later tick's result.
absl::Status PrintNewSpanTicks(const etcd::CronStore& store,
                               absl::string_view encoded, absl::Time deadline,
                               std::set<absl::Time>& printed, Runs& runs) {
  absl::StatusOr<std::vector<etcd::CronTick>> history =
      store.History(encoded, etcd::kCronHistory, deadline);
  if (!history.ok()) return history.status();
  std::vector<const etcd::CronTick*> fresh;
  for (const etcd::CronTick& t : *history) {
    if (t.from_span && t.result.has_value() && !printed.count(t.instant)) {
      fresh.push_back(&t);
    }
  }
  std::reverse(fresh.begin(), fresh.end());  // History is newest first
  for (const etcd::CronTick* t : fresh) {
    printed.insert(t->instant);
    runs.Add(t->instant, *t->result, /*header=*/true);
  }
  return absl::OkStatus();
}

}  // namespace

CLI::App* SetupCronLogs(CLI::App& cron, CronLogsArgs* a) {
  CLI::App* sub = cron.add_subcommand(
      "logs", "print the output of a job's runs (the newest by default)");
  AddNameArgument(*sub, &a->name, "job", /*new_name=*/false);
  CLI::Option* tick = sub->add_option("--tick", a->tick,
                                      "the run of this tick (RFC 3339, as "
                                      "cron ls prints it)")
                          ->type_name("TIME");
  CheckValues(tick, [](const std::string& v) -> std::string {
    return records::ParseRfc3339(v).ok() ? ""
                                         : "not an RFC 3339 time such as "
                                           "2026-12-03T07:00:00Z";
  });
  CLI::Option* last =
      sub->add_option("--last", a->last,
                      "the newest N recorded runs, 1 to 100 (default 1)")
          ->type_name("N");
  CheckWholeNumbers(last, [](const std::string& v) {
    return WhyNotWholeNumber(v, 1, etcd::kCronHistory);
  });
  tick->excludes(last);
  sub->add_flag("--follow,-f", a->follow,
                "then print each new run as it is recorded, until "
                "interrupted");
  sub->footer(
      "Examples:\n"
      "  conch cron logs backup\n"
      "  conch cron logs backup --last 5 --follow\n"
      "  conch cron logs backup --tick 2026-12-03T02:30:00Z");
  return sub;
}

int RunCronLogs(const CronLogsArgs& a, const CommonOptions& o) {
  absl::StatusOr<std::string> encoded = EncodeName(a.name);
  if (!encoded.ok()) {
    return ReportFailure(absl::InvalidArgumentError(
        absl::StrCat("invalid job name: ", encoded.status().message())));
  }
  std::unique_ptr<SignalSet> signals;
  if (a.follow) {
    absl::StatusOr<std::unique_ptr<SignalSet>> s =
        SignalSet::Install(SignalSet::WrapperSignals());
    if (!s.ok()) return ReportFailure(s.status());
    signals = *std::move(s);
  }
  absl::StatusOr<std::unique_ptr<etcd::Connection>> conn =
      etcd::Connection::Dial(o.connection);
  if (!conn.ok()) return ReportFailure(conn.status());
  const etcd::CronStore store(conn->get(), o.prefix);
  // Follow: watch the results before reading, so none slips between.
  Notifier wake;
  etcd::WatchStream watches(conn->get());
  std::unique_ptr<etcd::Watcher> results;
  std::unique_ptr<etcd::Watcher> spans;  // overload ticks, written later
  if (a.follow) {
    etcd::WatchOptions wo;
    wo.prefix = true;
    wo.on_ready = [&wake] { wake.Notify(); };
    absl::StatusOr<std::unique_ptr<etcd::Watcher>> w = watches.Watch(
        NameKeyPrefix(o.prefix, "cron/result", *encoded), wo, o.CallDeadline());
    if (!w.ok()) return ReportFailure(w.status());
    results = *std::move(w);
    w = watches.Watch(NameKeyPrefix(o.prefix, "cron/skip", *encoded), wo,
                      o.CallDeadline());
    if (!w.ok()) return ReportFailure(w.status());
    spans = *std::move(w);
  }
  absl::StatusOr<std::vector<etcd::CronTick>> history =
      store.History(*encoded, etcd::kCronHistory, o.CallDeadline());
  if (!history.ok()) return ReportFailure(history.status());
  if (history->empty()) {
    absl::StatusOr<etcd::CronJobList> jobs = store.ListJobs(o.CallDeadline());
    if (!jobs.ok()) return ReportFailure(jobs.status());
    const bool defined =
        std::any_of(jobs->jobs.begin(), jobs->jobs.end(),
                    [&](const etcd::CronJob& j) { return j.name == a.name; });
    if (!defined) {
      std::cerr << "conch: no job \"" << OneLine(a.name) << "\"\n";
      return kExitVacant;
    }
  }
  Runs runs(a, o);
  if (!a.tick.empty()) {
    absl::StatusOr<std::map<std::string, std::string>> live =
        store.LiveDaemons(o.CallDeadline());
    if (!live.ok()) return ReportFailure(live.status());
    const int code = PrintTick(*history, *records::ParseRfc3339(a.tick), *live,
                               a.name, runs);
    if (code == kExitOk) runs.Finish();
    if (!a.follow || code != kExitOk) return code;
  } else {
    // The newest `last` recorded runs, oldest first.
    std::vector<const etcd::CronTick*> done;
    for (const etcd::CronTick& t : *history) {
      if (t.result.has_value() && static_cast<int>(done.size()) < a.last) {
        done.push_back(&t);
      }
    }
    std::reverse(done.begin(), done.end());
    const bool headers = a.last > 1 || a.follow;
    for (const etcd::CronTick* t : done) {
      runs.Add(t->instant, *t->result, headers);
    }
    runs.Finish();
  }
  if (!a.follow) return kExitOk;
  std::set<absl::Time> printed;
  for (const etcd::CronTick& t : *history) {
    if (t.result.has_value()) printed.insert(t.instant);
  }
  const std::string from = NameKeyPrefix(o.prefix, "cron/result", *encoded);
  // A span was written and its ticks are not printed yet. A failed read
  // (etcd unreachable for a moment) is tried again at the next event
  // rather than ending the follow: the ticks stay in etcd.
  bool spans_pending = false;
  while (true) {
    const WaitResult w = WaitForEvent(*signals, wake, MonoTime::Infinite());
    if (w.what == WaitResult::What::kStop) return kExitOk;
    while (true) {
      absl::StatusOr<std::optional<etcd::WatchBatch>> b = results->TryNext();
      if (!b.ok()) return ReportFailure(b.status());
      if (!b->has_value()) break;
      for (const etcd::Event& ev : (*b)->events) {
        if (ev.type != etcd::Event::Type::kPut) continue;
        absl::StatusOr<absl::Time> instant =
            etcd::ParseInstant(absl::string_view(ev.kv.key).substr(
                std::min(ev.kv.key.size(), from.size())));
        records::Result r;
        if (!instant.ok() || !records::FromJson(ev.kv.value, &r).ok()) {
          continue;  // not a result of conch's: nothing to print
        }
        if (!printed.insert(*instant).second) continue;
        runs.Add(*instant, r, /*header=*/true);
      }
    }
    while (true) {
      absl::StatusOr<std::optional<etcd::WatchBatch>> b = spans->TryNext();
      if (!b.ok()) return ReportFailure(b.status());
      if (!b->has_value()) break;
      for (const etcd::Event& ev : (*b)->events) {
        spans_pending |= ev.type == etcd::Event::Type::kPut;
      }
    }
    if (spans_pending) {
      spans_pending =
          !PrintNewSpanTicks(store, *encoded, o.CallDeadline(), printed, runs)
               .ok();
    }
  }
}

}  // namespace conch
