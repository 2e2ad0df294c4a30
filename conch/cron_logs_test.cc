// End-to-end tests of a job's output from the terminal (issue 17): `conch
// cron logs` (the newest run, --last, --tick, --follow, the cut marker at a
// line boundary, --keep-output), `conch cron run --wait` (the job's exit
// code, a signal, a zombie) and a job's history across `cron rm` (--purge
// after a plain rm; a re-added name starts clean). Real etcd, real conchd.
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "conch/cron_test_util.h"
#include "conch/test_util.h"
#include "core/cron/cron.h"
#include "core/records/records.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/etcd_env.h"
#include "testing/poll.h"

namespace conch {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

absl::Time In(absl::Duration d) { return absl::Now() + d; }

class CronLogsTest : public CronFixture {
 protected:
  // Starts conchd `id` (see Daemon()), as daemon_.
  void StartDaemon(const std::string& id = "d1") { daemon_ = &Daemon(id); }

  ConchProcess* daemon_ = nullptr;
};

TEST_F(CronLogsTest, RunWaitPrintsTheOutputAndExitsWithTheJobsCode) {
  StartDaemon();
  AddJob("seven", "@yearly", "echo to-stdout; echo to-stderr >&2; exit 7");
  test::CommandResult r = Conch({"cron", "run", "seven", "--wait"});
  EXPECT_EQ(r.exit_code, 7) << r.DebugString();
  EXPECT_EQ(r.out, "to-stdout\nto-stderr\n");
  EXPECT_THAT(r.err, HasSubstr("claimed by d1"));
  EXPECT_THAT(r.err, HasSubstr("failed (code 7)"));

  AddJob("killed", "@yearly", "kill -TERM $$");
  r = Conch({"cron", "run", "killed", "--wait"});
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.DebugString();
  EXPECT_THAT(r.err, HasSubstr("killed by signal 15"));

  AddJob("fine", "@yearly", "printf 'no newline'");
  r = Conch({"cron", "run", "fine", "--wait"});
  EXPECT_EQ(r.exit_code, 0) << r.DebugString();
  EXPECT_EQ(r.out, "no newline\n");

  // Without --wait: the claim is the answer, as before.
  r = Conch({"cron", "run", "seven"});
  EXPECT_EQ(r.exit_code, 0) << r.DebugString();
  EXPECT_THAT(r.out, HasSubstr("claimed by d1"));
}

TEST_F(CronLogsTest, RunWaitReportsAZombieWith70) {
  StartDaemon();
  AddJob("hang", "@yearly", "sleep 60");
  std::unique_ptr<ConchProcess> waiting = ConchProcess::Start(
      {"cron", "run", "hang", "--wait"}, prefix_, test::SharedEtcd());
  ASSERT_TRUE(
      test::PollUntil(
          [&] { return absl::StrContains(waiting->Stderr(), "claimed by"); },
          In(absl::Seconds(15)))
          .ok())
      << waiting->Stderr();
  ASSERT_TRUE(daemon_->Signal(SIGKILL).ok());
  // Its lease (2 s) expires, and the waiter says what became of the tick.
  EXPECT_EQ(waiting->ExitCode(In(absl::Seconds(20))), 70) << waiting->Stderr();
  EXPECT_THAT(waiting->Stderr(), HasSubstr("is a zombie: daemon d1"));
}

TEST_F(CronLogsTest, LogsCutALongOutputAtALineBoundaryWithAMarker) {
  StartDaemon();
  // 300 lines of 28 bytes: 8400 bytes, of which at most 1000 are kept.
  AddJob(
      "chatty", "@yearly",
      "i=1; while [ $i -le 300 ]; do printf 'line %03d abcdefghijklmnopqr\\n' "
      "$i; i=$((i+1)); done",
      {"--keep-output", "1000"});
  test::CommandResult run = Conch({"cron", "run", "chatty", "--wait"});
  ASSERT_EQ(run.exit_code, 0) << run.DebugString();
  test::CommandResult logs = Conch({"cron", "logs", "chatty"});
  ASSERT_EQ(logs.exit_code, 0) << logs.DebugString();
  std::vector<std::string> lines = absl::StrSplit(logs.out, '\n');
  ASSERT_GE(lines.size(), 3u) << logs.out;
  // A marker, then whole lines only, up to the last one.
  EXPECT_THAT(lines[0], StartsWith("[... "));
  EXPECT_THAT(lines[0],
              HasSubstr(" bytes of output before this were not kept"));
  EXPECT_THAT(lines[1],
              testing::MatchesRegex("line [0-9]{3} abcdefghijklmnopqr"));
  EXPECT_EQ(lines[lines.size() - 2], "line 300 abcdefghijklmnopqr");
  // The marker's count and the kept bytes add up to the whole output.
  const std::vector<etcd::CronTick> h = History("chatty");
  ASSERT_EQ(h.size(), 1u);
  ASSERT_TRUE(h[0].result.has_value());
  EXPECT_EQ(h[0].result->output_cut() + h[0].result->output_tail().size(),
            8400u);
  EXPECT_LE(h[0].result->output_tail().size(), 1000u);
  EXPECT_THAT(lines[0],
              HasSubstr(absl::StrCat(h[0].result->output_cut(), " bytes")));
  // run --wait says so too, on stderr.
  EXPECT_THAT(run.err, HasSubstr("bytes of the output were not kept"));
  EXPECT_THAT(run.out, testing::EndsWith("line 300 abcdefghijklmnopqr\n"));
}

TEST_F(CronLogsTest, LastTickAndFollow) {
  StartDaemon();
  AddJob("ticker", "@every 1s", "echo \"ran $CONCH_TICK\"");
  ASSERT_TRUE(test::PollUntil([&] { return Results("ticker") >= 3; },
                              In(absl::Seconds(20)))
                  .ok());
  test::CommandResult last = Conch({"cron", "logs", "ticker", "--last", "3"});
  ASSERT_EQ(last.exit_code, 0) << last.DebugString();
  std::vector<std::string> headers;
  for (absl::string_view line : absl::StrSplit(last.out, '\n')) {
    if (absl::StartsWith(line, "==> tick ")) headers.emplace_back(line);
  }
  ASSERT_EQ(headers.size(), 3u) << last.out;
  EXPECT_LT(headers[0], headers[1]);  // oldest first
  EXPECT_LT(headers[1], headers[2]);
  EXPECT_THAT(headers[0], HasSubstr(" on d1: ok <=="));

  // --tick: one run, no header; its output names its own tick.
  const std::vector<etcd::CronTick> h = History("ticker");
  const std::string tick = records::FormatRfc3339(h.back().instant);
  test::CommandResult one = Conch({"cron", "logs", "ticker", "--tick", tick});
  ASSERT_EQ(one.exit_code, 0) << one.DebugString();
  EXPECT_THAT(one.out, HasSubstr("ran "));
  EXPECT_THAT(one.out, Not(HasSubstr("==>")));
  test::CommandResult none =
      Conch({"cron", "logs", "ticker", "--tick", "2001-01-01T00:00:00Z"});
  EXPECT_EQ(none.exit_code, 1) << none.DebugString();
  EXPECT_THAT(none.err, HasSubstr("no tick 2001-01-01T00:00:00Z"));

  // --follow: what is there, then each new run, until SIGTERM (exit 0).
  std::unique_ptr<ConchProcess> follow = ConchProcess::Start(
      {"cron", "logs", "ticker", "--follow"}, prefix_, test::SharedEtcd());
  auto count = [&] {
    int n = 0;
    for (absl::string_view line : absl::StrSplit(follow->Stdout(), '\n')) {
      n += absl::StartsWith(line, "==> tick ");
    }
    return n;
  };
  ASSERT_TRUE(
      test::PollUntil([&] { return count() >= 3; }, In(absl::Seconds(20))).ok())
      << follow->Stdout() << follow->Stderr();
  ASSERT_TRUE(follow->Signal(SIGTERM).ok());
  EXPECT_EQ(follow->ExitCode(In(absl::Seconds(10))), 0) << follow->Stderr();
}

TEST_F(CronLogsTest, HistoryBelongsToOneIncarnationOfAName) {
  StartDaemon();
  AddJob("phoenix", "@yearly", "echo first life");
  ASSERT_EQ(Conch({"cron", "run", "phoenix", "--wait"}).exit_code, 0);
  ASSERT_EQ(Conch({"cron", "rm", "phoenix"}).exit_code, 0);
  // Removed: its history stays, and logs still show it.
  EXPECT_EQ(Results("phoenix"), 1);
  test::CommandResult old = Conch({"cron", "logs", "phoenix"});
  EXPECT_EQ(old.exit_code, 0) << old.DebugString();
  EXPECT_THAT(old.out, HasSubstr("first life"));
  // Added again: a clean slate.
  AddJob("phoenix", "@yearly", "echo second life");
  EXPECT_EQ(History("phoenix").size(), 0u);
  test::CommandResult ls = Conch({"cron", "ls", "phoenix", "--json"});
  EXPECT_THAT(ls.out, HasSubstr("\"last\":null")) << ls.out;
  ASSERT_EQ(Conch({"cron", "run", "phoenix", "--wait"}).exit_code, 0);
  // rm, then rm --purge: the history goes too.
  ASSERT_EQ(Conch({"cron", "rm", "phoenix"}).exit_code, 0);
  test::CommandResult purge = Conch({"cron", "rm", "phoenix", "--purge"});
  EXPECT_EQ(purge.exit_code, 0) << purge.DebugString();
  for (const char* kind : {"cron/job/", "cron/tick/", "cron/result/"}) {
    EXPECT_EQ(KeysUnder(test::SharedEtcd(), prefix_ + kind).size(), 0u) << kind;
  }
  test::CommandResult again = Conch({"cron", "rm", "phoenix", "--purge"});
  EXPECT_EQ(again.exit_code, 1) << again.DebugString();
  EXPECT_THAT(again.err, HasSubstr("no job \"phoenix\" and no history"));
  test::CommandResult gone = Conch({"cron", "logs", "phoenix"});
  EXPECT_EQ(gone.exit_code, 1) << gone.DebugString();
}

TEST_F(CronLogsTest, BadFlagsExit64) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"cron", "add", "x", "--schedule", "@daily", "--keep-output", "0",
            "--", "true"},
           {"cron", "add", "x", "--schedule", "@daily", "--keep-output",
            "16385", "--", "true"},
           {"cron", "logs", "x", "--last", "0"},
           {"cron", "logs", "x", "--last", "101"},
           {"cron", "logs", "x", "--tick", "yesterday"},
           {"cron", "logs", "x", "--tick", "2026-12-03T00:00:00Z", "--last",
            "2"},
           {"cron", "logs"},
       }) {
    test::CommandResult r = Conch(args);
    EXPECT_EQ(r.exit_code, 64) << r.DebugString();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_EQ(KeysUnder(test::SharedEtcd(), prefix_).size(), 0u);
}

}  // namespace
}  // namespace conch
