#include "conch/cron_ls_cmd.h"

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "conch/cron_format.h"
#include "conch/exit_codes.h"
#include "conch/json_writer.h"
#include "conch/output.h"
#include "core/cron/cron.h"
#include "core/cron/cron_state.h"
#include "core/cron/schedule.h"
#include "core/etcd/connection.h"
#include "core/records/names.h"
#include "core/records/records.h"

namespace conch {
namespace {

using Live = std::map<std::string, std::string>;

// What `cron ls` shows of one job.
struct JobView {
  const etcd::CronJob* job;
  absl::TimeZone zone;
  std::optional<absl::Time> next;     // nullopt: the schedule is unusable
  std::string why_not;                // ... and why
  std::vector<etcd::CronTick> ticks;  // newest first
};

std::string Revision(int64_t rev) {
  return rev > 0 ? absl::StrCat(rev) : std::string();
}

void WriteTick(JsonWriter& w, const etcd::CronTick& t, const Live& live) {
  const etcd::TickState s = etcd::StateOfTick(t, live);
  w.BeginObject();
  w.Field("tick", Timestamp(t.instant));
  w.Field("state", etcd::TickStateName(s.kind));
  w.Field("text", etcd::FormatTickState(s));
  w.Field("daemon", s.runner);
  w.Field("rev", t.claim_revision);
  if (t.result.has_value()) WriteRunMembers(w, *t.result, "output_tail");
  w.EndObject();
}

void WriteJob(JsonWriter& w, const JobView& v, int history, const Live& live) {
  const records::Job& job = v.job->job;
  w.BeginObject();
  w.Field("name", v.job->name);
  w.Field("schedule", job.schedule());
  w.Field("tz", job.tz());
  w.Field("overlap", job.overlap());
  w.Field("next", v.next.has_value() ? Timestamp(*v.next, v.zone) : "");
  w.Field("next_utc", v.next.has_value() ? Timestamp(*v.next) : "");
  w.Key("argv").BeginArray();
  for (const std::string& arg : job.argv()) w.String(arg);
  w.EndArray();
  w.Field("dir", job.dir());
  w.Field("user", job.user());
  w.Field("keep_output",
          int64_t{job.keep_output() > 0 ? job.keep_output()
                                        : int64_t{records::kOutputTailBytes}});
  w.Key("last");
  if (v.ticks.empty()) {
    w.Null();
  } else {
    WriteTick(w, v.ticks[0], live);
  }
  w.Key("history").BeginArray();
  for (size_t i = 0; history > 0 && i < v.ticks.size(); ++i) {
    WriteTick(w, v.ticks[i], live);
  }
  w.EndArray().EndObject();
}

// The jobs table, then (history > 0) an empty line and the history table.
std::string Tables(const std::vector<JobView>& views, int history,
                   const Live& live, OutputFormat format) {
  const bool wide = Wide(format);
  std::vector<std::string> header = {"NAME", "SCHEDULE", "TZ",   "OVERLAP",
                                     "NEXT", "LAST",     "STATE"};
  std::vector<std::string> ticks_header = {"JOB", "TICK", "STATE", "DAEMON",
                                           "REV"};
  if (wide) {
    header.insert(header.end(), {"NEXT_UTC", "DAEMON", "USER", "DIR",
                                 "KEEP_OUTPUT", "COMMAND"});
    ticks_header.push_back("TICK_UTC");
  }
  Table jobs(header);
  Table ticks(ticks_header);
  for (const JobView& v : views) {
    const records::Job& job = v.job->job;
    std::optional<etcd::TickState> last;
    if (!v.ticks.empty()) last = etcd::StateOfTick(v.ticks[0], live);
    std::vector<std::string> row = {
        v.job->name,
        job.schedule(),
        job.tz(),
        job.overlap(),
        v.next.has_value() ? Timestamp(*v.next, v.zone)
                           : absl::StrCat("(", v.why_not, ")"),
        last.has_value() ? Timestamp(v.ticks[0].instant, v.zone) : "",
        last.has_value() ? etcd::FormatTickState(*last) : ""};
    if (wide) {
      row.insert(row.end(),
                 {v.next.has_value() ? Timestamp(*v.next) : "",
                  last.has_value() ? last->runner : "", job.user(), job.dir(),
                  absl::StrCat(job.keep_output() > 0
                                   ? job.keep_output()
                                   : int64_t{records::kOutputTailBytes}),
                  CommandLine(job)});
    }
    jobs.AddRow(std::move(row));
    for (size_t i = 0; history > 0 && i < v.ticks.size(); ++i) {
      const etcd::CronTick& t = v.ticks[i];
      const etcd::TickState s = etcd::StateOfTick(t, live);
      std::vector<std::string> tick_row = {
          v.job->name, Timestamp(t.instant, v.zone), etcd::FormatTickState(s),
          s.runner, Revision(t.claim_revision)};
      if (wide) tick_row.push_back(Timestamp(t.instant));
      ticks.AddRow(std::move(tick_row));
    }
  }
  const bool aligned = Aligned(format);
  std::string out = jobs.Render(aligned);
  if (history > 0) absl::StrAppend(&out, "\n", ticks.Render(aligned));
  return out;
}

}  // namespace

CLI::App* SetupCronLs(CLI::App& cron, CronLsArgs* a) {
  CLI::App* ls = cron.add_subcommand("ls", "list jobs and their last tick");
  AddNameArgument(*ls, &a->name, "job", /*new_name=*/false,
                  /*required=*/false)
      ->description("only this job (exit 1 when it does not exist)");
  CheckWholeNumbers(
      ls->add_option("--history", a->history,
                     "also list the last N ticks of each job (0 to 100), "
                     "in a second table after an empty line")
          ->type_name("N"),
      [](const std::string& v) {
        return WhyNotWholeNumber(v, 0, etcd::kCronHistory);
      });
  ls->footer(
      "Examples:\n"
      "  conch cron ls\n"
      "  conch cron ls backup --history 5 -o wide\n"
      "  conch cron ls --json");
  return ls;
}

int RunCronLs(const CronLsArgs& a, const CommonOptions& o) {
  if (a.history < 0 || a.history > etcd::kCronHistory) {
    return ReportFailure(absl::InvalidArgumentError(
        absl::StrCat("invalid --history ", a.history, ": must be 0 to ",
                     etcd::kCronHistory)));
  }
  absl::StatusOr<std::unique_ptr<etcd::Connection>> conn =
      etcd::Connection::Dial(o.connection);
  if (!conn.ok()) return ReportFailure(conn.status());
  const etcd::CronStore store(conn->get(), o.prefix);
  absl::StatusOr<etcd::CronJobList> list = store.ListJobs(o.CallDeadline());
  if (!list.ok()) return ReportFailure(list.status());
  absl::StatusOr<Live> live = store.LiveDaemons(o.CallDeadline());
  if (!live.ok()) return ReportFailure(live.status());
  const absl::Time now = absl::Now();
  std::vector<JobView> views;
  for (const etcd::CronJob& job : list->jobs) {
    if (!a.name.empty() && job.name != a.name) continue;
    absl::StatusOr<std::vector<etcd::CronTick>> ticks =
        store.History(job.encoded, std::max(1, a.history), o.CallDeadline());
    if (!ticks.ok()) return ReportFailure(ticks.status());
    JobView v{&job, JobZone(job.job.tz()), std::nullopt, "", *std::move(ticks)};
    absl::StatusOr<Schedule> schedule =
        Schedule::Parse(job.job.schedule(), job.job.tz());
    if (schedule.ok()) {
      v.next = schedule->Next(now);
    } else {
      v.why_not = std::string(schedule.status().message());
    }
    views.push_back(std::move(v));
  }
  // Unreadable records: on stderr, those of NAME only when a NAME is given.
  const absl::StatusOr<std::string> encoded = EncodeName(a.name);
  bool named_bad = false;
  for (const etcd::BadCronJob& bad : list->bad) {
    if (!a.name.empty() &&
        (!encoded.ok() || bad.key != store.JobPrefix() + *encoded)) {
      continue;
    }
    named_bad = !a.name.empty();
    std::cerr << "conch: unreadable job " << OneLine(bad.key) << ": "
              << OneLine(bad.error) << "\n";
  }
  if (!a.name.empty() && views.empty()) {
    if (!named_bad)
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
    std::cout << Tables(views, a.history, *live, o.output);
  }
  std::cout.flush();
  return kExitOk;
}

}  // namespace conch
