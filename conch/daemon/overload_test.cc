// conchd past its capacity (issue 18, admission.h): a daemon without room
// (here: --max-running 1, with every run lasting a minute) leaves a tick
// it is preferred for to a daemon that has room, and when no daemon has
// room the tick is still accounted for: recorded as skipped (overload), in
// a skip span written up to TickClaimer::kSkipSpanHold later.
// Real etcd, real conchd processes, real clock.
#include <signal.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "conch/cron_test_util.h"
#include "conch/daemon/claim_policy.h"
#include "conch/output.h"
#include "conch/test_util.h"
#include "core/records/names.h"
#include "core/records/records.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/poll.h"

namespace conch {
namespace {

using ::testing::HasSubstr;

absl::Time In(absl::Duration d) { return absl::Now() + d; }

class OverloadTest : public CronFixture {
 protected:
  // Each run notes its tick and daemon, then holds its slot for a minute.
  std::string LongRun() {
    return absl::StrCat("echo \"$CONCH_TICK\" >> ", d_.Path("runs"),
                        "; sleep 60");
  }

  // The ticks recorded as skipped (overload), by the daemon that did.
  std::vector<std::string> OverloadRecorders(const std::string& job) {
    std::vector<std::string> out;
    for (const etcd::CronTick& t : History(job)) {
      if (t.result.has_value() && t.result->skipped() == "overload") {
        out.push_back(t.result->daemon());
      }
    }
    return out;
  }

  // The first tick of `job` missing from its history between the first
  // tick and the last ("" when none is). Overload ticks are written a few
  // seconds late (held for their skip span, tick_claimer.h), so a tick that
  // ran after them may come first.
  std::string Gap(const std::string& job) {
    std::vector<etcd::CronTick> ticks = History(job);
    if (ticks.size() < 3) return "fewer than 3 ticks";
    for (size_t i = 1; i < ticks.size(); ++i) {
      if (ticks[i - 1].instant - ticks[i].instant != absl::Seconds(1)) {
        return absl::StrCat(
            "a tick between ", absl::FormatTime(ticks[i].instant), " and ",
            absl::FormatTime(ticks[i - 1].instant), " is unaccounted for");
      }
    }
    return "";
  }

  // Every tick of `job` between the first and the last is accounted for,
  // within the time a skip span is held.
  void ExpectNoGaps(const std::string& job) {
    EXPECT_TRUE(
        test::PollUntil([&] { return Gap(job).empty(); }, In(absl::Seconds(15)))
            .ok())
        << Gap(job);
  }
};

TEST_F(OverloadTest, ADaemonWithoutRoomLeavesItsTickToOneWithRoom) {
  Daemon("d1", {"--max-running", "1"});
  Daemon("d2", {"--max-running", "1"});
  Add("long", LongRun());
  // Two runs, one on each daemon: whichever is preferred for the job took
  // the first tick, and with no room left it let the other take the next.
  ASSERT_TRUE(test::PollUntil([&] { return Lines("runs").size() >= 2; },
                              In(absl::Seconds(20)))
                  .ok());
  std::map<std::string, int> runners;
  for (const etcd::CronTick& t : History("long")) {
    if (t.claim.has_value() && !t.result.has_value()) {
      ++runners[t.claim->daemon()];
    }
  }
  EXPECT_EQ(runners["d1"], 1) << "runs in progress on d1";
  EXPECT_EQ(runners["d2"], 1) << "runs in progress on d2";
  // Then neither has room: the next ticks are recorded, not run, by the
  // daemon preferred for the job (once both daemons' rosters list both: a
  // roster is read every second, and the first ticks may come sooner).
  ASSERT_TRUE(
      test::PollUntil([&] { return OverloadRecorders("long").size() >= 3; },
                      In(absl::Seconds(20)))
          .ok());
  daemon::Roster roster("d1");
  roster.Set({"d1", "d2"}, /*registered=*/true);
  const std::string preferred = roster.PreferredClaimer(*EncodeName("long"));
  EXPECT_EQ(OverloadRecorders("long").front(), preferred);  // the newest
  EXPECT_EQ(Lines("runs").size(), 2u) << "a tick ran without room";
  ExpectNoGaps("long");
  test::CommandResult ls = Cron({"ls", "long", "--history", "5"});
  EXPECT_THAT(ls.out, HasSubstr("skipped (overload)")) << ls.DebugString();
}

TEST_F(OverloadTest, AloneAndFullItRecordsEveryTickItCannotRun) {
  Daemon("d1", {"--max-running", "1"});
  Add("long", LongRun());
  ASSERT_TRUE(
      test::PollUntil([&] { return OverloadRecorders("long").size() >= 3; },
                      In(absl::Seconds(20)))
          .ok());
  EXPECT_EQ(Lines("runs").size(), 1u);
  ExpectNoGaps("long");
  // A manual run finds no room either: nobody claims it (exit 75).
  test::CommandResult run = Cron({"run", "long", "--timeout", "2s"});
  EXPECT_EQ(run.exit_code, 75) << run.DebugString();
  // A second job is not starved of accounting either.
  Add("other", "true");
  ASSERT_TRUE(
      test::PollUntil([&] { return OverloadRecorders("other").size() >= 2; },
                      In(absl::Seconds(20)))
          .ok());
}

// Overload ticks wait up to 5 s for their skip span; a daemon that is
// stopped writes what it holds before it exits, so nothing it skipped is
// left unaccounted.
TEST_F(OverloadTest, AStoppedDaemonWritesTheOverloadTicksItHolds) {
  Daemon("d1", {"--max-running", "1"});
  Add("long", LongRun());
  ASSERT_TRUE(test::PollUntil([&] { return !Lines("runs").empty(); },
                              In(absl::Seconds(20)))
                  .ok());
  absl::StatusOr<absl::Time> ran = records::ParseRfc3339(Lines("runs")[0]);
  ASSERT_TRUE(ran.ok()) << ran.status();
  // The next three ticks become due and, with no room, are held: their
  // span is due only 5 s after the first of them was (6.5 s after `ran`).
  ASSERT_TRUE(
      test::PollUntil([&] { return absl::Now() >= *ran + absl::Seconds(4); },
                      In(absl::Seconds(20)))
          .ok());
  const absl::Time stopped = absl::Now();
  EXPECT_EQ(StopDaemon("d1"), 0);
  EXPECT_EQ(Gap("long"), "");
  std::vector<etcd::CronTick> ticks = History("long");
  ASSERT_FALSE(ticks.empty());
  // Held ticks were written at the stop: the newest recorded tick is one
  // that was due just before it (a tick in its last 0.5 s is dropped).
  EXPECT_GE(ticks.front().instant, stopped - absl::Seconds(3))
      << "newest " << ticks.front().instant << ", stopped " << stopped;
  EXPECT_TRUE(ticks.front().from_span);
}

TEST_F(OverloadTest, RoomMadeAgainIsUsedAgain) {
  Daemon("d1", {"--max-running", "1"});
  // A run that lasts two seconds: while it runs, ticks are recorded as
  // overload; once it is done, the next tick runs.
  Add("short",
      absl::StrCat("echo \"$CONCH_TICK\" >> ", d_.Path("runs"), "; sleep 2"));
  ASSERT_TRUE(test::PollUntil([&] { return Lines("runs").size() >= 3; },
                              In(absl::Seconds(30)))
                  .ok());
  EXPECT_TRUE(
      test::PollUntil([&] { return OverloadRecorders("short").size() >= 2; },
                      In(absl::Seconds(15)))
          .ok());
  ExpectNoGaps("short");
}

// `cron logs --follow` prints overload ticks when their skip span is
// written: the run in progress has no output yet, so everything it prints
// here comes from spans (at start, --last 1 prints at most one of them).
TEST_F(OverloadTest, LogsFollowPrintsOverloadTicksWhenTheirSpanIsWritten) {
  Daemon("d1", {"--max-running", "1"});
  Add("long", LongRun());
  ASSERT_TRUE(test::PollUntil([&] { return !Lines("runs").empty(); },
                              In(absl::Seconds(20)))
                  .ok());
  std::unique_ptr<ConchProcess> follow = ConchProcess::Start(
      {"cron", "logs", "long", "--follow"}, prefix_, etcd());
  ASSERT_NE(follow, nullptr);
  // The headers of the overload ticks printed so far; a repeat fails.
  auto printed = [&] {
    std::set<std::string> ticks;
    for (absl::string_view line : absl::StrSplit(follow->Stdout(), '\n')) {
      if (!absl::StrContains(line, "skipped (overload)")) continue;
      EXPECT_TRUE(ticks.insert(std::string(line)).second)
          << "printed twice: " << line;
    }
    return ticks;
  };
  ASSERT_TRUE(test::PollUntil([&] { return printed().size() >= 3; },
                              In(absl::Seconds(30)))
                  .ok())
      << follow->Stdout() << follow->Stderr();
  // Each is a tick recorded as overload in the job's history.
  std::set<std::string> recorded;
  for (const etcd::CronTick& t : History("long")) {
    if (t.from_span) {
      recorded.insert(absl::StrCat("==> tick ", Timestamp(t.instant),
                                   " on d1: skipped (overload) <=="));
    }
  }
  for (const std::string& line : printed()) {
    EXPECT_TRUE(recorded.count(line)) << line << " is not in the history";
  }
  ASSERT_TRUE(follow->Signal(SIGTERM).ok());
  EXPECT_EQ(follow->ExitCode(In(absl::Seconds(10))), 0) << follow->Stderr();
}

}  // namespace
}  // namespace conch
