// End-to-end tests of what `conch cron` prints (docs/cli.md, "Output
// formats"): tables tab-separated when piped and aligned with -o table or
// on a real terminal, -o wide's extra columns, NEXT in the job's zone,
// the history as a second table, -o json / -w json / --json alike and
// valid JSON from every subcommand (the job's output inside it), and
// nothing on stdout for a job that is not there. Real etcd, real conchd;
// JSON is parsed by protobuf's parser (google.protobuf.Value).
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "conch/cron_test_util.h"
#include "conch/test_util.h"
#include "core/cron/cron.h"
#include "core/etcd/connection.h"
#include "core/etcd/kv.h"
#include "core/etcd/test_dial.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "testing/etcd_env.h"
#include "testing/poll.h"
#include "testing/pty_shell.h"

namespace conch {
namespace {

using ::google::protobuf::Value;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

absl::Time In(absl::Duration d) { return absl::Now() + d; }

// `text` parsed as JSON (any value: object, array, ...).
Value ParseJson(const std::string& text) {
  Value v;
  const auto status = google::protobuf::util::JsonStringToMessage(text, &v);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << text;
  return v;
}

// The member `key` of the object `v` (a failure, and null, when missing).
const Value& Member(const Value& v, const std::string& key) {
  static const Value* const kMissing = new Value;
  const auto& fields = v.struct_value().fields();
  auto it = fields.find(key);
  if (it == fields.end()) {
    ADD_FAILURE() << "no member \"" << key << "\"";
    return *kMissing;
  }
  return it->second;
}

// The lines of `out`, the empty ones included (not the one after the
// last '\n').
std::vector<std::string> LinesOf(const std::string& out) {
  std::vector<std::string> lines = absl::StrSplit(out, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

std::vector<std::string> Fields(absl::string_view line) {
  return absl::StrSplit(line, '\t');
}

// The TSV row of `out` whose first field is `name`.
std::vector<std::string> Row(const std::string& out, const std::string& name) {
  for (const std::string& line : LinesOf(out)) {
    std::vector<std::string> f = Fields(line);
    if (f[0] == name) return f;
  }
  ADD_FAILURE() << "no row " << name << " in:\n" << out;
  return {};
}

// Checks that `aligned` is `tsv` in columns: every column starts at the
// same offset on every line (where its header starts; headers are single
// words), after at least one space, and holds the TSV's value.
void ExpectAligned(const std::string& aligned, const std::string& tsv) {
  const std::vector<std::string> rows = LinesOf(aligned);
  const std::vector<std::string> cells = LinesOf(tsv);
  ASSERT_EQ(rows.size(), cells.size()) << aligned << "\nvs\n" << tsv;
  ASSERT_FALSE(rows.empty());
  std::vector<size_t> starts;
  for (const std::string& word : Fields(cells[0])) {
    const size_t at =
        rows[0].find(word, starts.empty() ? 0 : starts.back() + 1);
    ASSERT_NE(at, std::string::npos) << word << " in " << rows[0];
    starts.push_back(at);
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    const std::string& row = rows[r];
    EXPECT_THAT(row, Not(HasSubstr("\t"))) << row;
    const std::vector<std::string> want = Fields(cells[r]);
    ASSERT_EQ(want.size(), starts.size()) << cells[r];
    for (size_t i = 0; i < starts.size(); ++i) {
      ASSERT_GT(row.size(), starts[i]) << row;
      if (i > 0) {
        EXPECT_EQ(row[starts[i] - 1], ' ') << row << " column " << i;
      }
      EXPECT_NE(row[starts[i]], ' ') << row << " column " << i;
      const size_t end =
          i + 1 < starts.size() ? starts[i + 1] : std::string::npos;
      EXPECT_EQ(absl::StripTrailingAsciiWhitespace(
                    row.substr(starts[i], end - starts[i])),
                want[i])
          << row << " column " << i;
    }
  }
}

// The instant of an RFC 3339 text, as absl reads it (no conch code).
absl::Time ParseTime(const std::string& text) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, text, &t, &err))
      << text << ": " << err;
  return t;
}

class CronOutputTest : public CronFixture {
 protected:
  // Starts conchd d1 (see Daemon()), as daemon_.
  void StartDaemon() { daemon_ = &Daemon("d1"); }

  ConchProcess* daemon_ = nullptr;
};

TEST_F(CronOutputTest, LsIsTabSeparatedWhenPipedAlignedAsATableWideWithMore) {
  AddJob("backup", "30 2 * * *", "echo hi", {"--tz", "Europe/Berlin"});
  AddJob("sync", "@every 1h", "echo it's");
  const std::vector<std::string> header = {
      "NAME", "SCHEDULE", "TZ", "OVERLAP", "NEXT", "LAST", "STATE"};
  test::CommandResult piped = Conch({"cron", "ls"});
  ASSERT_EQ(piped.exit_code, 0) << piped.DebugString();
  EXPECT_EQ(piped.err, "");
  const std::vector<std::string> lines = LinesOf(piped.out);
  ASSERT_EQ(lines.size(), 3u) << piped.out;
  EXPECT_EQ(Fields(lines[0]), header);
  for (const std::string& line : lines) {
    EXPECT_EQ(Fields(line).size(), header.size()) << line;
  }
  EXPECT_THAT(
      Row(piped.out, "backup"),
      ElementsAre("backup", "30 2 * * *", "Europe/Berlin", "allow",
                  MatchesRegex("[0-9-]{10}T02:30:00\\+0[12]:00"), "-", "-"));
  EXPECT_THAT(
      Row(piped.out, "sync"),
      ElementsAre("sync", "@every 1h", "UTC", "allow",
                  MatchesRegex("[0-9-]{10}T[0-9]{2}:00:00Z"), "-", "-"));
  // -o tsv is what a pipe gets anyway; -o table lines the same up.
  test::CommandResult tsv = Conch({"cron", "ls", "-o", "tsv"});
  EXPECT_EQ(tsv.out, piped.out);
  test::CommandResult table = Conch({"cron", "ls", "-o", "table"});
  ASSERT_EQ(table.exit_code, 0) << table.DebugString();
  ExpectAligned(table.out, piped.out);

  // wide: UTC beside the zone's NEXT (the same instant), and the command.
  test::CommandResult wide = Conch({"cron", "ls", "-o", "wide"});
  ASSERT_EQ(wide.exit_code, 0) << wide.DebugString();
  std::vector<std::string> wide_header = header;
  wide_header.insert(wide_header.end(), {"NEXT_UTC", "DAEMON", "USER", "DIR",
                                         "KEEP_OUTPUT", "COMMAND"});
  EXPECT_EQ(Fields(LinesOf(wide.out)[0]), wide_header);
  const std::vector<std::string> backup = Row(wide.out, "backup");
  ASSERT_EQ(backup.size(), wide_header.size());
  EXPECT_THAT(backup[7], MatchesRegex("[0-9-]{10}T0[01]:30:00Z"));
  const absl::Time next = ParseTime(backup[7]);
  EXPECT_EQ(ParseTime(backup[4]), next);
  absl::TimeZone berlin;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Berlin", &berlin));
  EXPECT_EQ(backup[4], absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", next, berlin));
  EXPECT_EQ(backup[11], "4096");
  EXPECT_EQ(backup[12], "sh -c 'echo hi'");
  EXPECT_EQ(Row(wide.out, "sync")[12], "sh -c 'echo it'\\''s'");
}

TEST_F(CronOutputTest, HistoryIsASecondTableAfterAnEmptyLine) {
  StartDaemon();
  AddJob("berlin", "@yearly", "echo ran", {"--tz", "Europe/Berlin"});
  // Asked for, no tick yet: the second table is its header alone.
  test::CommandResult empty = Conch({"cron", "ls", "--history", "3"});
  ASSERT_EQ(empty.exit_code, 0) << empty.DebugString();
  EXPECT_THAT(empty.out,
              testing::EndsWith("\n\nJOB\tTICK\tSTATE\tDAEMON\tREV\n"));
  for (int i = 0; i < 2; ++i) {
    test::CommandResult run = Conch({"cron", "run", "berlin", "--wait"});
    ASSERT_EQ(run.exit_code, 0) << run.DebugString();
  }
  test::CommandResult ls = Conch({"cron", "ls", "--history", "3"});
  ASSERT_EQ(ls.exit_code, 0) << ls.DebugString();
  const std::vector<std::string> parts = absl::StrSplit(ls.out, "\n\n");
  ASSERT_EQ(parts.size(), 2u) << ls.out;
  EXPECT_EQ(LinesOf(parts[0] + "\n").size(), 2u) << ls.out;  // header, job
  const std::vector<std::string> ticks = LinesOf(parts[1]);
  ASSERT_EQ(ticks.size(), 3u) << ls.out;
  EXPECT_EQ(ticks[0], "JOB\tTICK\tSTATE\tDAEMON\tREV");
  std::vector<std::string> instants;
  for (size_t i = 1; i < ticks.size(); ++i) {
    const std::vector<std::string> f = Fields(ticks[i]);
    ASSERT_EQ(f.size(), 5u) << ticks[i];
    EXPECT_EQ(f[0], "berlin");
    // In the job's zone, to the millisecond (a run asked for now has some).
    EXPECT_THAT(f[1], MatchesRegex("[0-9-]{10}T[0-9:]{8}(\\.[0-9]{3})?\\+0[12]:"
                                   "00"));
    EXPECT_EQ(f[2], "ok");
    EXPECT_EQ(f[3], "d1");
    EXPECT_THAT(f[4], MatchesRegex("[0-9]+"));
    instants.push_back(f[1]);
  }
  EXPECT_GT(ParseTime(instants[0]), ParseTime(instants[1]));  // newest first
  // LAST in the jobs table is the newest tick.
  EXPECT_EQ(Row(parts[0], "berlin")[5], instants[0]);
  // A tick as ls prints it names the run for cron logs --tick.
  test::CommandResult logs =
      Conch({"cron", "logs", "berlin", "--tick", instants[1]});
  EXPECT_EQ(logs.exit_code, 0) << logs.DebugString();
  EXPECT_EQ(logs.out, "ran\n");
  // -o table aligns each table on its own.
  test::CommandResult table =
      Conch({"cron", "ls", "--history", "3", "-o", "table"});
  const std::vector<std::string> aligned = absl::StrSplit(table.out, "\n\n");
  ASSERT_EQ(aligned.size(), 2u) << table.out;
  ExpectAligned(aligned[1], parts[1]);
}

TEST_F(CronOutputTest, AMissingJobPrintsOneLineOnStderrAndNothingOnStdout) {
  AddJob("present", "@daily", "true");
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"cron", "ls", "nosuch"},
           {"cron", "ls", "nosuch", "--history", "3"},
           {"cron", "ls", "nosuch", "--json"},
           {"cron", "ls", "nosuch", "-o", "wide"},
           {"cron", "rm", "nosuch", "--json"},
           {"cron", "run", "nosuch", "--json"},
           {"cron", "logs", "nosuch", "--json"},
       }) {
    test::CommandResult r = Conch(args);
    EXPECT_EQ(r.exit_code, 1) << r.DebugString();
    EXPECT_EQ(r.out, "") << r.DebugString();
    EXPECT_EQ(r.err, "conch: no job \"nosuch\"\n") << r.DebugString();
  }
}

TEST_F(CronOutputTest, AnUnreadableJobIsOneLineOnStderrNotARow) {
  AddJob("good", "@daily", "true");
  ASSERT_TRUE(
      etcd::Kv(conn_.get())
          .Put(store_->JobPrefix() + "bad", "{\"argv\":7}", {}, etcd::Soon())
          .ok());
  for (const char* format : {"tsv", "json"}) {
    test::CommandResult r = Conch({"cron", "ls", "-o", format});
    EXPECT_EQ(r.exit_code, 0) << r.DebugString();
    EXPECT_THAT(r.out, HasSubstr("good"));
    EXPECT_THAT(r.out, Not(HasSubstr("bad")));
    EXPECT_THAT(r.err, testing::StartsWith("conch: unreadable job "));
    EXPECT_THAT(r.err, HasSubstr("cron/job/bad"));
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  // Only NAME's own record counts when a NAME is given.
  test::CommandResult one = Conch({"cron", "ls", "good"});
  EXPECT_EQ(one.exit_code, 0) << one.DebugString();
  EXPECT_EQ(one.err, "");
}

TEST_F(CronOutputTest, WriteOutJsonOutputJsonAndJsonAgree) {
  AddJob("nightly", "30 2 * * *", "true", {"--tz", "Europe/Berlin"});
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"cron", "ls"},
           {"cron", "next", "--schedule", "30 2 * * *", "--tz", "Europe/Berlin",
            "--from", "2026-10-24T12:00:00Z", "--count", "2"},
       }) {
    std::vector<std::string> o = args, w = args, j = args;
    o.insert(o.end(), {"-o", "json"});
    w.insert(w.end(), {"-w", "json"});
    j.push_back("--json");
    test::CommandResult by_o = Conch(o);
    ASSERT_EQ(by_o.exit_code, 0) << by_o.DebugString();
    EXPECT_EQ(ParseJson(by_o.out).kind_case(), Value::kListValue);
    EXPECT_EQ(Conch(w).out, by_o.out);
    EXPECT_EQ(Conch(j).out, by_o.out);
  }
  // ls: the next tick in the job's zone, and in UTC.
  const Value ls = ParseJson(Conch({"cron", "ls", "--json"}).out);
  ASSERT_EQ(ls.list_value().values_size(), 1);
  const Value& job = ls.list_value().values(0);
  EXPECT_EQ(Member(job, "name").string_value(), "nightly");
  EXPECT_THAT(Member(job, "next").string_value(),
              MatchesRegex("[0-9-]{10}T02:30:00\\+0[12]:00"));
  EXPECT_THAT(Member(job, "next_utc").string_value(),
              MatchesRegex("[0-9-]{10}T0[01]:30:00Z"));
  EXPECT_EQ(ParseTime(Member(job, "next").string_value()),
            ParseTime(Member(job, "next_utc").string_value()));
  EXPECT_EQ(Member(job, "last").kind_case(), Value::kNullValue);
  // next: each tick in the zone and in UTC.
  const Value next =
      ParseJson(Conch({"cron", "next", "--schedule", "30 2 * * *", "--tz",
                       "Europe/Berlin", "--from", "2026-10-24T12:00:00Z",
                       "--count", "2", "--json"})
                    .out);
  ASSERT_EQ(next.list_value().values_size(), 2);
  EXPECT_EQ(Member(next.list_value().values(0), "time").string_value(),
            "2026-10-25T02:30:00+02:00");
  EXPECT_EQ(Member(next.list_value().values(0), "utc").string_value(),
            "2026-10-25T00:30:00Z");
  EXPECT_EQ(Member(next.list_value().values(1), "time").string_value(),
            "2026-10-26T02:30:00+01:00");
}

TEST_F(CronOutputTest, AddRmRunAndLogsSpeakJson) {
  StartDaemon();
  // add: the next tick in the job's zone; --replace says whether it did.
  test::CommandResult add = Conch(
      {"cron", "add", "j", "--schedule", "30 2 * * *", "--tz", "Europe/Berlin",
       "--json", "--", "sh", "-c", "echo 'out \"quoted\"'; exit 3"});
  ASSERT_EQ(add.exit_code, 0) << add.DebugString();
  Value v = ParseJson(add.out);
  EXPECT_EQ(Member(v, "name").string_value(), "j");
  EXPECT_FALSE(Member(v, "replaced").bool_value());
  EXPECT_THAT(Member(v, "next").string_value(),
              MatchesRegex("[0-9-]{10}T02:30:00\\+0[12]:00"));
  EXPECT_EQ(ParseTime(Member(v, "next").string_value()),
            ParseTime(Member(v, "next_utc").string_value()));
  test::CommandResult text = Conch(
      {"cron", "add", "j", "--replace", "--schedule", "30 2 * * *", "--tz",
       "Europe/Berlin", "--", "sh", "-c", "echo 'out \"quoted\"'; exit 3"});
  ASSERT_EQ(text.exit_code, 0) << text.DebugString();
  EXPECT_THAT(text.out, MatchesRegex("job j replaced; next tick "
                                     "[0-9-]{10}T02:30:00\\+0[12]:00\n"));

  // run: who claimed it.
  test::CommandResult run = Conch({"cron", "run", "j", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.DebugString();
  v = ParseJson(run.out);
  EXPECT_EQ(Member(v, "job").string_value(), "j");
  EXPECT_EQ(Member(v, "claimed_by").string_value(), "d1");
  EXPECT_GT(Member(v, "rev").number_value(), 0);
  EXPECT_THAT(Member(v, "tick").string_value(), MatchesRegex(".*Z"));

  // run --wait: the job's output inside the JSON, its code as the exit code,
  // nothing on stderr.
  test::CommandResult wait = Conch({"cron", "run", "j", "--wait", "--json"});
  EXPECT_EQ(wait.exit_code, 3) << wait.DebugString();
  EXPECT_EQ(wait.err, "");
  v = ParseJson(wait.out);
  EXPECT_EQ(Member(v, "outcome").string_value(), "failed");
  EXPECT_EQ(Member(v, "exit_code").number_value(), 3);
  EXPECT_EQ(Member(v, "output").string_value(), "out \"quoted\"\n");
  EXPECT_EQ(Member(v, "output_cut").number_value(), 0);
  EXPECT_EQ(Member(v, "claimed_by").string_value(), "d1");
  const std::string tick = Member(v, "tick").string_value();
  EXPECT_LE(ParseTime(tick), ParseTime(Member(v, "started").string_value()));

  // logs: an array of runs, oldest first; the same tick as run said.
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    return ParseJson(Conch({"cron", "logs", "j", "--last", "5",
                                            "--json"})
                                         .out)
                               .list_value()
                               .values_size() == 2;
                  },
                  In(absl::Seconds(10)))
                  .ok());
  v = ParseJson(Conch({"cron", "logs", "j", "--last", "5", "--json"}).out);
  ASSERT_EQ(v.list_value().values_size(), 2);
  const Value& newest = v.list_value().values(1);
  EXPECT_EQ(Member(newest, "tick").string_value(), tick);
  EXPECT_EQ(Member(newest, "state").string_value(), "failed");
  EXPECT_EQ(Member(newest, "text").string_value(), "failed (code 3)");
  EXPECT_EQ(Member(newest, "output").string_value(), "out \"quoted\"\n");
  v = ParseJson(Conch({"cron", "logs", "j", "--tick", tick, "--json"}).out);
  ASSERT_EQ(v.list_value().values_size(), 1);

  // logs --follow: one object per line, the recorded runs first.
  std::unique_ptr<ConchProcess> follow = ConchProcess::Start(
      {"cron", "logs", "j", "--last", "5", "--follow", "--json"}, prefix_,
      test::SharedEtcd());
  auto lines = [&] { return LinesOf(follow->Stdout()).size(); };
  ASSERT_TRUE(
      test::PollUntil([&] { return lines() >= 2; }, In(absl::Seconds(10))).ok())
      << follow->Stdout() << follow->Stderr();
  EXPECT_EQ(Conch({"cron", "run", "j", "--wait"}).exit_code, 3);
  ASSERT_TRUE(
      test::PollUntil([&] { return lines() >= 3; }, In(absl::Seconds(10))).ok())
      << follow->Stdout() << follow->Stderr();
  ASSERT_TRUE(follow->Signal(SIGTERM).ok());
  EXPECT_EQ(follow->ExitCode(In(absl::Seconds(10))), 0) << follow->Stderr();
  for (const std::string& line : LinesOf(follow->Stdout())) {
    v = ParseJson(line);
    EXPECT_EQ(Member(v, "job").string_value(), "j") << line;
    EXPECT_EQ(Member(v, "exit_code").number_value(), 3) << line;
  }

  // rm: what went. A plain rm deletes the definition only.
  test::CommandResult rm = Conch({"cron", "rm", "j", "--json"});
  ASSERT_EQ(rm.exit_code, 0) << rm.DebugString();
  v = ParseJson(rm.out);
  EXPECT_EQ(Member(v, "name").string_value(), "j");
  EXPECT_FALSE(Member(v, "purged").bool_value());
  EXPECT_EQ(Member(v, "deleted").number_value(), 1);
  // --purge then: three ticks, each a claim and a result.
  rm = Conch({"cron", "rm", "j", "--purge", "--json"});
  ASSERT_EQ(rm.exit_code, 0) << rm.DebugString();
  v = ParseJson(rm.out);
  EXPECT_TRUE(Member(v, "purged").bool_value());
  EXPECT_EQ(Member(v, "deleted").number_value(), 6);
  // Text: rm stays silent.
  AddJob("k", "@daily", "true");
  test::CommandResult quiet = Conch({"cron", "rm", "k"});
  EXPECT_EQ(quiet.exit_code, 0) << quiet.DebugString();
  EXPECT_EQ(quiet.out, "");
}

TEST_F(CronOutputTest, RunWaitJsonReportsAZombieInTheObject) {
  StartDaemon();
  AddJob("hang", "@yearly", "sleep 60");
  std::unique_ptr<ConchProcess> waiting = ConchProcess::Start(
      {"cron", "run", "hang", "--wait", "--json"}, prefix_, test::SharedEtcd());
  // Claimed once a tick key exists; then the daemon dies.
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    absl::StatusOr<std::vector<etcd::CronTick>> h =
                        store_->History("hang", 1, etcd::Soon());
                    return h.ok() && !h->empty() &&
                           h->front().claim.has_value();
                  },
                  In(absl::Seconds(15)))
                  .ok());
  ASSERT_TRUE(daemon_->Signal(SIGKILL).ok());
  EXPECT_EQ(waiting->ExitCode(In(absl::Seconds(20))), 70) << waiting->Stderr();
  EXPECT_EQ(waiting->Stderr(), "");
  const Value v = ParseJson(waiting->Stdout());
  EXPECT_EQ(Member(v, "outcome").string_value(), "zombie");
  EXPECT_EQ(Member(v, "claimed_by").string_value(), "d1");
}

// The default format follows stdout: aligned on a terminal, TSV through a
// pipe.
TEST_F(CronOutputTest, OnARealTerminalLsIsAligned) {
  AddJob("tty", "30 2 * * *", "true", {"--tz", "Europe/Berlin"});
  absl::StatusOr<std::unique_ptr<test::PtyShell>> sh =
      test::PtyShell::Start({});
  ASSERT_TRUE(sh.ok()) << sh.status();
  const std::string ls =
      absl::StrCat(ConchPath(), " cron ls --endpoints ",
                   test::SharedEtcd().endpoint(), " --prefix ", prefix_);
  absl::StatusOr<std::string> shown = (*sh)->Run(ls, In(absl::Seconds(20)));
  ASSERT_TRUE(shown.ok()) << shown.status();
  // What -o table prints, whatever stdout is (the terminal ends its lines
  // in \r\n).
  test::CommandResult table = Conch({"cron", "ls", "-o", "table"});
  ASSERT_EQ(table.exit_code, 0) << table.DebugString();
  EXPECT_THAT(table.out, HasSubstr("   Europe/Berlin   "));
  EXPECT_THAT(absl::StrReplaceAll(*shown, {{"\r\n", "\n"}}),
              HasSubstr(table.out));
  absl::StatusOr<std::string> piped =
      (*sh)->Run(absl::StrCat(ls, " | cat"), In(absl::Seconds(20)));
  ASSERT_TRUE(piped.ok()) << piped.status();
  test::CommandResult tsv = Conch({"cron", "ls"});
  EXPECT_THAT(absl::StrReplaceAll(*piped, {{"\r\n", "\n"}}),
              HasSubstr(tsv.out));
  EXPECT_THAT(tsv.out, HasSubstr("NAME\tSCHEDULE\tTZ\t"));
}

}  // namespace
}  // namespace conch
