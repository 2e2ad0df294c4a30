#include "conch/cron_cmd.h"

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <memory>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "conch/cron_format.h"
#include "conch/exit_codes.h"
#include "conch/json_writer.h"
#include "conch/output.h"
#include "core/cron/cron.h"
#include "core/cron/schedule.h"
#include "core/etcd/connection.h"
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
  bool replaced = false;
  absl::Status added =
      store.AddJob(a.name, job, a.replace, d->deadline, &replaced);
  if (absl::IsAlreadyExists(added)) return Usage(std::string(added.message()));
  if (!added.ok()) return ReportFailure(added);
  const absl::Time next = schedule->Next(absl::Now());
  const absl::TimeZone zone = JobZone(a.tz);
  if (o.json) {
    JsonWriter w;
    w.BeginObject()
        .Field("name", a.name)
        .Field("replaced", replaced)
        .Field("next", Timestamp(next, zone))
        .Field("next_utc", Timestamp(next))
        .EndObject();
    std::cout << w.Finish() << "\n";
  } else {
    std::cout << "job " << OneLine(a.name)
              << (replaced ? " replaced" : " stored") << "; next tick "
              << Timestamp(next, zone) << "\n";
  }
  return kExitOk;
}

int RunRm(const CronArgs& a, const CommonOptions& o) {
  absl::Status name = CheckName(a.name);
  if (!name.ok()) return ReportFailure(name);
  absl::StatusOr<Dialed> d = Dial(o);
  if (!d.ok()) return ReportFailure(d.status());
  etcd::CronStore store(d->conn.get(), o.prefix);
  int64_t deleted = 0;
  absl::Status removed =
      store.RemoveJob(a.name, d->deadline, a.purge, &deleted);
  if (absl::IsNotFound(removed)) {
    std::cerr << "conch: " << OneLine(removed.message()) << "\n";
    return kExitVacant;
  }
  if (!removed.ok()) return ReportFailure(removed);
  // Text: silent, as rm is. JSON: what went.
  if (o.json) {
    JsonWriter w;
    w.BeginObject()
        .Field("name", a.name)
        .Field("purged", a.purge)
        .Field("deleted", deleted)
        .EndObject();
    std::cout << w.Finish() << "\n";
  }
  return kExitOk;
}

int RunNext(const CronArgs& a, const CommonOptions& o) {
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
  const absl::TimeZone zone = JobZone(a.tz);
  // A list of times, not a table: no header, so that `$(conch cron next
  // --count 1)` is a time. `wide` adds UTC as a second column.
  JsonWriter w;
  w.BeginArray();
  Table table({"TIME", "UTC"});
  for (int i = 0; i < a.count; ++i) {
    t = schedule->Next(t);
    if (o.json) {
      w.BeginObject()
          .Field("time", Timestamp(t, zone))
          .Field("utc", Timestamp(t))
          .EndObject();
    } else if (Wide(o.output)) {
      table.AddRow({Timestamp(t, zone), Timestamp(t)});
    } else {
      std::cout << Timestamp(t, zone) << "\n";
    }
  }
  w.EndArray();
  if (o.json) {
    std::cout << w.Finish() << "\n";
  } else if (Wide(o.output)) {
    const std::string rendered = table.Render(Aligned(o.output));
    std::cout << rendered.substr(rendered.find('\n') + 1);  // no header
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

  a->apps.ls = SetupCronLs(*cron, &a->ls);
  a->apps.run = SetupCronRun(*cron, &a->run);
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
  if (args.apps.next->parsed()) return RunNext(args, *o);
  if (args.apps.add->parsed()) return RunAdd(args, *o);
  if (args.apps.rm->parsed()) return RunRm(args, *o);
  if (args.apps.ls->parsed()) return RunCronLs(args.ls, *o);
  if (args.apps.run->parsed()) return RunCronRun(args.run, *o);
  if (args.apps.logs->parsed()) return RunCronLogs(args.logs, *o);
  return Usage("cron: no subcommand given (add, rm, ls, run, logs, next)");
}

}  // namespace conch
