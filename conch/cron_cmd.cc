#include "conch/cron_cmd.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "conch/exit_codes.h"
#include "conch/identity.h"
#include "conch/json_writer.h"
#include "core/base/duration.h"
#include "core/base/status_macros.h"
#include "core/cron/cron.h"
#include "core/cron/cron_state.h"
#include "core/cron/schedule.h"
#include "core/etcd/connection.h"
#include "core/etcd/kv.h"
#include "core/etcd/watch.h"
#include "core/process/child.h"
#include "core/records/names.h"
#include "core/records/records.h"

namespace conch {
namespace {

int Usage(const std::string& message) {
  std::cerr << "conch: " << OneLine(message) << "\n";
  return kExitUsage;
}

absl::Status CheckName(const std::string& name) {
  absl::StatusOr<std::string> enc = EncodeName(name);
  if (enc.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("invalid job name: ", enc.status().message()));
}

struct Dialed {
  std::unique_ptr<etcd::Connection> conn;
  absl::Time deadline;
};

absl::StatusOr<Dialed> Dial(const CommonOptions& o) {
  absl::StatusOr<std::unique_ptr<etcd::Connection>> conn =
      etcd::Connection::Dial(o.connection);
  if (!conn.ok()) return conn.status();
  return Dialed{*std::move(conn), absl::Now() + o.connection.dial_timeout};
}

// Whether the command can run where conchd runs it. Refused (64): an empty
// command, a relative path without --dir (jobs run in conchd's directory,
// "/" under systemd). A command this host lacks is only a warning: the
// daemons' hosts may differ from this one.
absl::Status CheckRunnable(const CronArgs& a) {
  const std::string& command = a.command[0];
  if (command.empty()) {
    return absl::InvalidArgumentError("the command is empty");
  }
  const bool slash = command.find('/') != std::string::npos;
  if (slash && command[0] != '/' && a.dir.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the command \"", command,
        "\" is a relative path: give --dir (jobs run in conchd's working "
        "directory, / under systemd) or an absolute path"));
  }
  const std::string local =
      slash && command[0] != '/' ? absl::StrCat(a.dir, "/", command) : command;
  if (absl::StatusOr<std::string> found = ResolveCommand(local); !found.ok()) {
    std::cerr << "conch: warning: " << OneLine(found.status().message())
              << " on this host (stored anyway: the daemons' hosts may "
                 "differ)\n";
  }
  return absl::OkStatus();
}

std::string WhyNotDir(const std::string& dir) {
  if (dir.empty() || dir[0] != '/') return "must be an absolute path";
  return "";
}

std::string WhyNotEnv(const std::string& kv) {
  const size_t eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) return "want NAME=VALUE";
  const std::string key = kv.substr(0, eq);
  const bool name_ok =
      !absl::ascii_isdigit(static_cast<unsigned char>(key[0])) &&
      std::all_of(key.begin(), key.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
      });
  if (!name_ok) return "the name must be letters, digits and _";
  if (absl::StartsWith(key, "CONCH_")) {
    return "CONCH_ variables are set by conchd";
  }
  return "";
}

std::string WhyNotUser(const std::string& user) {
  const bool ok = !user.empty() && user.size() <= 32 &&
                  std::all_of(user.begin(), user.end(), [](char c) {
                    return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                           c == '_' || c == '-' || c == '.';
                  });
  return ok ? "" : "want a user name (letters, digits, . _ -)";
}

int RunAdd(const CronArgs& a, const CommonOptions& o) {
  absl::Status name = CheckNewName(a.name);
  if (name.ok()) name = CheckName(a.name);
  if (!name.ok()) return ReportFailure(name);
  if (a.schedule.empty()) return Usage("--schedule is required");
  absl::StatusOr<Schedule> schedule = Schedule::Parse(a.schedule, a.tz);
  if (!schedule.ok()) return ReportFailure(schedule.status());
  if (a.overlap != "allow" && a.overlap != "skip") {
    return Usage(absl::StrCat("invalid --overlap \"", a.overlap,
                              "\": want allow or skip"));
  }
  if (a.command.empty()) {
    return Usage("nothing to run: give the command after --");
  }
  if (absl::Status runnable = CheckRunnable(a); !runnable.ok()) {
    return ReportFailure(runnable);
  }
  records::Job job;
  job.set_schedule(a.schedule);
  job.set_tz(a.tz);
  for (const std::string& arg : a.command) {
    job.add_argv(records::SanitizeUtf8(arg));
  }
  job.set_overlap(a.overlap);
  job.set_created(records::FormatRfc3339(absl::Now()));
  job.set_keep_output(a.keep_output);
  job.set_dir(a.dir);
  job.set_user(a.user);
  for (const std::string& kv : a.env) {
    const size_t eq = kv.find('=');
    (*job.mutable_env())[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (absl::StatusOr<std::string> json = records::ToJson(job);
      json.ok() && json->size() > records::kMaxRecordBytes) {
    return Usage(absl::StrCat(
        "the command is too long: its job record would "
        "be ",
        json->size(), " bytes, at most ", records::kMaxRecordBytes));
  }
  absl::StatusOr<Dialed> d = Dial(o);
  if (!d.ok()) return ReportFailure(d.status());
  etcd::CronStore store(d->conn.get(), o.prefix);
  absl::Status added = store.AddJob(a.name, job, a.replace, d->deadline);
  if (absl::IsAlreadyExists(added)) return Usage(std::string(added.message()));
  if (!added.ok()) return ReportFailure(added);
  std::cout << "job " << a.name << " stored; next tick "
            << records::FormatRfc3339(schedule->Next(absl::Now())) << "\n";
  return kExitOk;
}

int RunRm(const CronArgs& a, const CommonOptions& o) {
  absl::Status name = CheckName(a.name);
  if (!name.ok()) return ReportFailure(name);
  absl::StatusOr<Dialed> d = Dial(o);
  if (!d.ok()) return ReportFailure(d.status());
  etcd::CronStore store(d->conn.get(), o.prefix);
  absl::Status removed = store.RemoveJob(a.name, d->deadline, a.purge);
  if (absl::IsNotFound(removed)) {
    std::cerr << "conch: " << OneLine(removed.message()) << "\n";
    return kExitVacant;
  }
  if (!removed.ok()) return ReportFailure(removed);
  return kExitOk;
}

void WriteTick(JsonWriter& w, const etcd::CronTick& t,
               const etcd::TickState& s) {
  w.BeginObject();
  w.Field("tick", records::FormatRfc3339(t.instant));
  w.Field("state", etcd::TickStateName(s.kind));
  w.Field("text", etcd::FormatTickState(s));
  w.Field("daemon", s.runner);
  w.Field("rev", t.claim_revision);
  if (t.result.has_value()) {
    w.Field("started", t.result->started());
    w.Field("ended", t.result->ended());
    if (t.result->has_exit_code()) {
      w.Field("exit_code", int64_t{t.result->exit_code()});
    }
    if (t.result->has_signal()) w.Field("signal", int64_t{t.result->signal()});
    if (t.result->has_skipped()) w.Field("skipped", t.result->skipped());
    w.Field("output_tail", t.result->output_tail());
  }
  w.EndObject();
}

std::string TickText(const etcd::CronTick& t, const etcd::TickState& s) {
  std::string line = absl::StrCat(records::FormatRfc3339(t.instant), "  ",
                                  etcd::FormatTickState(s));
  if (s.kind != etcd::TickState::Kind::kRunning && !s.runner.empty()) {
    absl::StrAppend(&line, "  on ", s.runner);
  }
  absl::StrAppend(&line, "  rev ", t.claim_revision);
  return OneLine(line);
}

// What `cron ls` shows of one job.
struct JobView {
  const etcd::CronJob* job;
  std::string next;  // the next tick, or why there is none
  bool schedulable = false;
  std::vector<etcd::CronTick> ticks;  // newest first
};

void WriteJob(JsonWriter& w, const JobView& v, int history,
              const std::map<std::string, std::string>& live) {
  const records::Job& job = v.job->job;
  w.BeginObject();
  w.Field("name", v.job->name);
  w.Field("schedule", job.schedule());
  w.Field("tz", job.tz());
  w.Field("overlap", job.overlap());
  w.Field("next", v.schedulable ? v.next : "");
  w.Key("argv").BeginArray();
  for (const std::string& arg : job.argv()) w.String(arg);
  w.EndArray().Key("last");
  if (v.ticks.empty()) {
    w.Null();
  } else {
    WriteTick(w, v.ticks[0], etcd::StateOfTick(v.ticks[0], live));
  }
  w.Key("history").BeginArray();
  for (size_t i = 0; history > 0 && i < v.ticks.size(); ++i) {
    WriteTick(w, v.ticks[i], etcd::StateOfTick(v.ticks[i], live));
  }
  w.EndArray().EndObject();
}

void PrintJob(const JobView& v, int history,
              const std::map<std::string, std::string>& live) {
  const records::Job& job = v.job->job;
  std::string last = "-\t-";
  if (!v.ticks.empty()) {
    last = absl::StrCat(
        records::FormatRfc3339(v.ticks[0].instant), "\t",
        OneLine(etcd::FormatTickState(etcd::StateOfTick(v.ticks[0], live))));
  }
  // Stored values may hold anything: a row stays one row.
  std::cout << OneLine(v.job->name) << "\t" << OneLine(job.schedule()) << "\t"
            << OneLine(job.tz()) << "\t" << OneLine(job.overlap()) << "\t"
            << OneLine(v.next) << "\t" << last << "\n";
  for (size_t i = 0; history > 0 && i < v.ticks.size(); ++i) {
    std::cout << "  "
              << TickText(v.ticks[i], etcd::StateOfTick(v.ticks[i], live))
              << "\n";
  }
}

int RunLs(const CronArgs& a, const CommonOptions& o) {
  if (a.history < 0 || a.history > etcd::kCronHistory) {
    return Usage(absl::StrCat("invalid --history ", a.history,
                              ": must be 0 to ", etcd::kCronHistory));
  }
  absl::StatusOr<Dialed> d = Dial(o);
  if (!d.ok()) return ReportFailure(d.status());
  etcd::CronStore store(d->conn.get(), o.prefix);
  absl::StatusOr<etcd::CronJobList> list = store.ListJobs(d->deadline);
  if (!list.ok()) return ReportFailure(list.status());
  absl::StatusOr<std::map<std::string, std::string>> live =
      store.LiveDaemons(d->deadline);
  if (!live.ok()) return ReportFailure(live.status());
  const absl::Time now = absl::Now();
  std::vector<JobView> views;
  for (const etcd::CronJob& job : list->jobs) {
    if (!a.name.empty() && job.name != a.name) continue;
    absl::StatusOr<std::vector<etcd::CronTick>> ticks =
        store.History(job.encoded, std::max(1, a.history), d->deadline);
    if (!ticks.ok()) return ReportFailure(ticks.status());
    absl::StatusOr<Schedule> schedule =
        Schedule::Parse(job.job.schedule(), job.job.tz());
    views.push_back(JobView{
        &job,
        schedule.ok() ? records::FormatRfc3339(schedule->Next(now))
                      : absl::StrCat("(", schedule.status().message(), ")"),
        schedule.ok(), *std::move(ticks)});
  }
  if (!a.name.empty() && views.empty()) {
    std::cerr << "conch: no job \"" << OneLine(a.name) << "\"\n";
    return kExitVacant;
  }
  if (o.json) {
    JsonWriter w;
    w.BeginArray();
    for (const JobView& v : views) WriteJob(w, v, a.history, *live);
    w.EndArray();
    std::cout << w.Finish() << "\n";
  } else {
    std::cout << "NAME\tSCHEDULE\tTZ\tOVERLAP\tNEXT\tLAST\tSTATE\n";
    for (const JobView& v : views) PrintJob(v, a.history, *live);
    for (const etcd::BadCronJob& bad : list->bad) {
      std::cout << "(unreadable job " << bad.key << ": " << bad.error << ")\n";
    }
  }
  std::cout.flush();
  return kExitOk;
}

// The exit code of a recorded tick, after printing its output (stdout)
// and what became of it (stderr): the job's code, 128+S for a signal, 75
// for a tick recorded as skipped.
int ReportResult(const records::Result& r, absl::Time instant) {
  if (r.output_cut() > 0) {
    std::cerr << "conch: (the first " << r.output_cut()
              << " bytes of the output were not kept)\n";
  }
  std::cout << r.output_tail();
  if (!r.output_tail().empty() && r.output_tail().back() != '\n') {
    std::cout << "\n";
  }
  std::cout.flush();
  const std::string tick = records::FormatRfc3339(instant);
  if (r.has_signal()) {
    std::cerr << "conch: tick " << tick << " on " << OneLine(r.daemon())
              << ": killed by signal " << r.signal() << "\n";
    return 128 + r.signal();
  }
  if (r.has_skipped()) {
    std::cerr << "conch: tick " << tick << " on " << OneLine(r.daemon())
              << ": skipped (" << OneLine(r.skipped()) << ")\n";
    return kExitTempFail;
  }
  if (r.exit_code() != 0) {
    std::cerr << "conch: tick " << tick << " on " << OneLine(r.daemon())
              << ": failed (code " << r.exit_code() << ")\n";
  }
  return r.exit_code();
}

// --wait, once the tick is claimed: the result, or a zombie if the runner's
// registration goes away (on the claim's lease) before a result is there.
int WaitForResult(const etcd::CronStore& store, etcd::Watcher& results,
                  const std::string& encoded, absl::Time instant,
                  const records::Claim& claim, const CommonOptions& o) {
  const etcd::Kv kv(store.connection());
  const std::string key = store.ResultKey(encoded, instant);
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
        return ReportResult(r, instant);
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
    if (last->has_value()) return ReportResult(**last, instant);
    std::cerr << "conch: tick " << records::FormatRfc3339(instant)
              << " is a zombie: daemon " << OneLine(claim.daemon())
              << " went away before recording a result (it is never run "
                 "again)\n";
    return kExitSoftware;
  }
}

int RunRun(const CronArgs& a, const CommonOptions& o) {
  absl::Status name = CheckName(a.name);
  if (!name.ok()) return ReportFailure(name);
  absl::StatusOr<absl::Duration> timeout =
      ParsePositiveDuration("--timeout", a.timeout);
  if (!timeout.ok()) return ReportFailure(timeout.status());
  absl::StatusOr<Dialed> d = Dial(o);
  if (!d.ok()) return ReportFailure(d.status());
  etcd::CronStore store(d->conn.get(), o.prefix);
  const std::string encoded = *EncodeName(a.name);
  const absl::Time instant = absl::Now();
  // Watch the tick key (and, to wait, the result key) before asking, so
  // that neither the claim nor the result can slip past.
  etcd::WatchStream watches(d->conn.get());
  absl::StatusOr<std::unique_ptr<etcd::Watcher>> w =
      watches.Watch(store.TickKey(encoded, instant), {}, d->deadline);
  if (!w.ok()) return ReportFailure(w.status());
  std::unique_ptr<etcd::Watcher> results;
  if (a.wait) {
    absl::StatusOr<std::unique_ptr<etcd::Watcher>> r =
        watches.Watch(store.ResultKey(encoded, instant), {}, d->deadline);
    if (!r.ok()) return ReportFailure(r.status());
    results = *std::move(r);
  }
  records::RunRequest req;
  req.set_host(HostName());
  req.set_pid(getpid());
  req.set_user(UserName());
  req.set_requested_at(records::FormatRfc3339(instant));
  absl::Status asked = store.RequestRun(a.name, instant, req, d->deadline);
  if (absl::IsNotFound(asked)) {
    std::cerr << "conch: " << OneLine(asked.message()) << "\n";
    return kExitVacant;
  }
  if (!asked.ok()) return ReportFailure(asked);
  // Without --wait the claim line is the answer (stdout); with it, the
  // job's output is, and the claim line goes to stderr.
  std::ostream& said = a.wait ? std::cerr : std::cout;
  absl::Time give_up = absl::Now() + *timeout;
  bool late = false;
  while (true) {
    absl::StatusOr<etcd::WatchBatch> b = (*w)->Next(give_up);
    if (b.ok()) {
      for (const etcd::Event& ev : b->events) {
        if (ev.type != etcd::Event::Type::kPut) continue;
        records::Claim c;
        (void)records::FromJson(ev.kv.value, &c);
        said << (a.wait ? "conch: " : "") << "tick "
             << records::FormatRfc3339(instant) << " claimed by "
             << OneLine(c.daemon()) << " (rev " << ev.kv.mod_revision << ")"
             << std::endl;
        if (!a.wait) return kExitOk;
        return WaitForResult(store, *results, encoded, instant, c, o);
      }
      continue;
    }
    if (!absl::IsDeadlineExceeded(b.status())) return ReportFailure(b.status());
    // Nobody claimed it: withdraw, unless a daemon took it meanwhile.
    absl::StatusOr<bool> cancelled = store.CancelRun(
        a.name, instant, absl::Now() + o.connection.dial_timeout);
    if (cancelled.ok() && !*cancelled) {
      // Claimed in the last moment.
      if (!a.wait) {
        std::cout << "tick " << records::FormatRfc3339(instant) << " claimed\n";
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

int RunNext(const CronArgs& a) {
  if (a.schedule.empty()) return Usage("--schedule is required");
  absl::StatusOr<Schedule> schedule = Schedule::Parse(a.schedule, a.tz);
  if (!schedule.ok()) return ReportFailure(schedule.status());
  absl::Time t = absl::Now();
  if (!a.from.empty()) {
    absl::StatusOr<absl::Time> from = records::ParseRfc3339(a.from);
    if (!from.ok()) {
      return Usage(absl::StrCat("invalid --from \"", a.from,
                                "\": want an RFC 3339 time"));
    }
    t = *from;
  }
  if (a.count < 1 || a.count > 1000) {
    return Usage(absl::StrCat("invalid --count ", a.count, ": 1 to 1000"));
  }
  absl::TimeZone zone;
  absl::LoadTimeZone(a.tz, &zone);
  for (int i = 0; i < a.count; ++i) {
    t = schedule->Next(t);
    // Fractions of a second only when there are some (@every 1.5s).
    std::cout << absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t,
                                  absl::UTCTimeZone())
              << "  " << absl::FormatTime("%Y-%m-%d %H:%M:%E*S %Z", t, zone)
              << "\n";
  }
  return kExitOk;
}

}  // namespace

namespace {

std::string WhyNotSchedule(const std::string& spec) {
  absl::StatusOr<Schedule> s = Schedule::Parse(spec, "UTC");
  if (s.ok()) return "";
  // "schedule \"<spec>\": <problem>"
  absl::string_view why = s.status().message();
  absl::ConsumePrefix(&why, absl::StrCat("schedule \"", spec, "\": "));
  return std::string(why);
}

std::string WhyNotZone(const std::string& tz) {
  return Schedule::Parse("@daily", tz).ok() ? "" : "unknown time zone";
}

std::string WhyNotOverlap(const std::string& overlap) {
  return overlap == "allow" || overlap == "skip" ? "" : "want allow or skip";
}

std::string WhyNotTime(const std::string& text) {
  return records::ParseRfc3339(text).ok()
             ? ""
             : "not an RFC 3339 time such as 2026-03-07T00:00:00Z";
}

// --schedule and --tz, as add and next take them.
void AddScheduleFlags(CLI::App& sub, CronArgs* a) {
  CheckValues(sub.add_option("--schedule", a->schedule,
                             "five-field cron (m h dom mon dow), @hourly, "
                             "@daily, @weekly, @monthly, @yearly, or @every "
                             "DURATION (at least 1s)")
                  ->type_name("SCHEDULE")
                  ->required(),
              WhyNotSchedule);
  CheckValues(sub.add_option("--tz", a->tz, "IANA time zone (default UTC)")
                  ->type_name("ZONE"),
              WhyNotZone);
}

}  // namespace

CLI::App* SetupCron(CLI::App& root, CronArgs* a) {
  CLI::App* cron =
      root.add_subcommand("cron", "scheduled jobs, run by conchd daemons");
  cron->require_subcommand(1);
  cron->fallthrough();
  cron->footer(
      "Examples:\n"
      "  conch cron add backup --schedule '30 2 * * *' --tz Europe/Berlin "
      "-- /usr/local/bin/backup\n"
      "  conch cron ls --history 5\n"
      "  conch cron next --schedule '@every 90s' --count 3");

  a->apps.add = cron->add_subcommand("add", "store a job");
  AddNameArgument(*a->apps.add, &a->name, "job", /*new_name=*/true);
  AddScheduleFlags(*a->apps.add, a);
  CheckValues(a->apps.add
                  ->add_option("--overlap", a->overlap,
                               "allow (default) or skip a tick while the "
                               "previous run is still running")
                  ->type_name("allow|skip"),
              WhyNotOverlap);
  a->apps.add->add_flag("--replace", a->replace, "replace an existing job");
  CheckWholeNumbers(
      a->apps.add
          ->add_option(
              "--keep-output", a->keep_output,
              absl::StrCat("keep the last N bytes of each run's "
                           "output, from a line boundary, 1 to ",
                           records::kMaxOutputTailBytes, " (default ",
                           records::kOutputTailBytes, "); see conch cron logs"))
          ->type_name("N"),
      [](const std::string& v) {
        return WhyNotWholeNumber(
            v, 1, static_cast<int64_t>(records::kMaxOutputTailBytes));
      });
  CheckValues(a->apps.add
                  ->add_option("--dir", a->dir,
                               "run the command in this directory (absolute); "
                               "needed for a relative command such as "
                               "./job.sh")
                  ->type_name("DIR"),
              WhyNotDir);
  CheckValues(a->apps.add
                  ->add_option("--env", a->env,
                               "add NAME=VALUE to the run's environment "
                               "(repeatable)")
                  ->type_name("NAME=VALUE")
                  ->expected(1)
                  ->take_all(),
              WhyNotEnv);
  CheckValues(a->apps.add
                  ->add_option("--user", a->user,
                               "run as this user (conchd must run as root; "
                               "otherwise every run fails, saying so)")
                  ->type_name("USER"),
              WhyNotUser);
  a->apps.add->footer(
      "Examples:\n"
      "  conch cron add backup --schedule '30 2 * * *' --tz Europe/Berlin "
      "-- /usr/local/bin/backup\n"
      "  conch cron add sync --schedule '@every 15s' --overlap skip -- "
      "./sync.sh\n"
      "  conch cron add report --schedule @daily --replace -- sh -c "
      "'make report'\n"
      "\n"
      "The command goes after --: conch cron add NAME --schedule SCHEDULE "
      "[flags] -- COMMAND [ARG...]; nothing after -- is read as a flag of "
      "conch's.");

  a->apps.rm = cron->add_subcommand("rm", "delete a job (exit 1: no such job)");
  AddNameArgument(*a->apps.rm, &a->name, "job", /*new_name=*/false);
  a->apps.rm->add_flag("--purge", a->purge,
                       "also delete the job's history (claims, results)");
  a->apps.rm->footer(
      "Examples:\n"
      "  conch cron rm sync\n"
      "  conch cron rm sync --purge");

  a->apps.ls = cron->add_subcommand("ls", "list jobs and their last tick");
  AddNameArgument(*a->apps.ls, &a->name, "job", /*new_name=*/false,
                  /*required=*/false)
      ->description("only this job (exit 1 when it does not exist)");
  CheckWholeNumbers(
      a->apps.ls
          ->add_option("--history", a->history,
                       "also list the last N ticks of each job (0 to "
                       "100)")
          ->type_name("N"),
      [](const std::string& v) {
        return WhyNotWholeNumber(v, 0, etcd::kCronHistory);
      });
  a->apps.ls->footer(
      "Examples:\n"
      "  conch cron ls\n"
      "  conch cron ls backup --history 5\n"
      "  conch cron ls --json");

  a->apps.run = cron->add_subcommand(
      "run", "ask the daemons to run an extra tick of a job now");
  AddNameArgument(*a->apps.run, &a->name, "job", /*new_name=*/false);
  CheckValues(a->apps.run
                  ->add_option("--timeout", a->timeout,
                               "exit 75 if no daemon claims it within this "
                               "(default 10s)")
                  ->type_name("DURATION"),
              [](const std::string& v) {
                return WhyNotDuration(v, absl::Nanoseconds(1));
              });
  a->apps.run->add_flag("--wait", a->wait,
                        "wait for the run, print its output and exit with "
                        "its code (128+S for a signal, 75 skipped, 70 if "
                        "its daemon died: a zombie)");
  a->apps.run->footer(
      "Examples:\n"
      "  conch cron run backup\n"
      "  conch cron run backup --wait\n"
      "  conch cron run backup --timeout 1m");

  a->apps.logs = SetupCronLogs(*cron, &a->logs);

  a->apps.next = cron->add_subcommand(
      "next", "print the next ticks of a schedule (no etcd needed)");
  AddScheduleFlags(*a->apps.next, a);
  CheckValues(a->apps.next
                  ->add_option("--from", a->from,
                               "start after this RFC 3339 time (default now)")
                  ->type_name("TIME"),
              WhyNotTime);
  CheckWholeNumbers(
      a->apps.next
          ->add_option("--count", a->count,
                       "how many ticks, 1 to 1000 (default 5)")
          ->type_name("N"),
      [](const std::string& v) { return WhyNotWholeNumber(v, 1, 1000); });
  a->apps.next->footer(
      "Examples:\n"
      "  conch cron next --schedule '30 2 * * *' --tz America/New_York\n"
      "  conch cron next --schedule '@every 90s' --count 3 --from "
      "2026-03-07T00:00:00Z");
  return cron;
}

int RunCron(const CronArgs& args, const CommonFlags& common) {
  absl::StatusOr<CommonOptions> o = Resolve(common);
  if (!o.ok()) return ReportFailure(o.status());
  if (args.apps.next->parsed()) return RunNext(args);
  if (args.apps.add->parsed()) return RunAdd(args, *o);
  if (args.apps.rm->parsed()) return RunRm(args, *o);
  if (args.apps.ls->parsed()) return RunLs(args, *o);
  if (args.apps.run->parsed()) return RunRun(args, *o);
  if (args.apps.logs->parsed()) return RunCronLogs(args.logs, *o);
  return Usage("cron: no subcommand given (add, rm, ls, run, logs, next)");
}

}  // namespace conch
