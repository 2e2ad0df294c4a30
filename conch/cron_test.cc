// End-to-end tests of `conch cron` and conchd: one test per row of spec 04's
// contract table (each tick runs exactly once, a zombie is never rerun,
// `cron rm` during a run, no replay of missed ticks, DST), with real conchd
// processes (three where the row says so) against a real etcd, plus run
// requests, --overlap skip, output capture, --job-nice and bad input. The
// daemon's own lifecycle (restarts, id takeover, SIGTERM, a lost lease or
// etcd) is in conchd_lifecycle_test.cc.
//
// The jobs are `@every 1s`, so a test that needs ticks to be missed lets
// real seconds pass (LetTicksPass); everything else waits for a condition
// with a deadline. History is read back through CronStore (core/cron/cron.h)
// and through `conch cron ls --json`. The fixture is in cron_test_util.h.
#include "core/cron/cron.h"

#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "conch/cron_test_util.h"
#include "conch/output.h"
#include "conch/test_util.h"
#include "core/cron/cron_state.h"
#include "core/records/records.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/poll.h"
#include "testing/subprocess.h"

namespace conch {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

absl::Time In(absl::Duration d) { return absl::Now() + d; }

// Jobs added with Add() fire @every 1s.
class CronTest : public CronFixture {};

TEST_F(CronTest, ThreeDaemonsRunEachTickExactlyOnce) {
  Daemon("d1");
  Daemon("d2");
  Daemon("d3");
  Add("every",
      absl::StrCat("echo \"$CONCH_TICK $CONCH_REV\" >> ", d_.Path("runs")));
  WaitForResults("every", 10, absl::Seconds(30));
  ASSERT_EQ(Cron({"rm", "every"}).exit_code, 0);
  // Every claim gets its result (the last runs may still be finishing).
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    for (const etcd::CronTick& t : History("every")) {
                      if (!t.result.has_value()) return false;
                    }
                    return true;
                  },
                  In(absl::Seconds(10)))
                  .ok());
  const std::vector<etcd::CronTick> ticks = History("every");
  const std::vector<std::string> runs = Lines("runs");
  EXPECT_EQ(runs.size(), ticks.size());
  std::set<std::string> distinct(runs.begin(), runs.end());
  EXPECT_EQ(distinct.size(), runs.size()) << "a tick ran twice";
  std::set<std::string> runners;
  for (size_t i = 0; i < ticks.size(); ++i) {
    const etcd::CronTick& t = ticks[i];
    ASSERT_TRUE(t.claim.has_value());
    runners.insert(t.claim->daemon());
    EXPECT_EQ(etcd::FormatTickState(etcd::StateOfTick(t, Live())), "ok");
    EXPECT_EQ(t.result->daemon(), t.claim->daemon());
    // Each run saw its own tick and the claim's revision.
    EXPECT_EQ(distinct.count(absl::StrCat(records::FormatRfc3339(t.instant),
                                          " ", t.claim_revision)),
              1u);
    // Three live daemons miss no tick: the instants are consecutive seconds.
    if (i > 0) {
      EXPECT_EQ(ticks[i - 1].instant - t.instant, absl::Seconds(1));
    }
  }
  for (const char* id : {"d1", "d2", "d3"}) EXPECT_EQ(StopDaemon(id), 0);
}

TEST_F(CronTest, KilledWinnerLeavesAZombieThatIsNeverRerun) {
  for (const char* id : {"d1", "d2", "d3"}) Daemon(id);
  // The first run to get the lock hangs; every other run is quick.
  Add("victim",
      absl::StrCat("if mkdir ", d_.Path("lock"), " 2>/dev/null; then echo ",
                   "\"$CONCH_TICK\" > ", d_.Path("victim"), "; sleep 300; fi; ",
                   "echo \"$CONCH_TICK\" >> ", d_.Path("runs")));
  ASSERT_TRUE(d_.WaitFor("victim", In(absl::Seconds(20))));
  const std::string victim_tick = Lines("victim").at(0);
  // As ls prints it (the job sees ….000Z; ls drops a zero fraction).
  const std::string victim_row = StoredTimestamp(victim_tick);
  const std::optional<etcd::CronTick> claimed = TickAt("victim", victim_tick);
  ASSERT_TRUE(claimed.has_value() && claimed->claim.has_value());
  const std::string winner = claimed->claim->daemon();
  ASSERT_TRUE(daemons_[winner]->Signal(SIGKILL).ok());
  EXPECT_EQ(daemons_[winner]->ExitCode(In(absl::Seconds(10))), 128 + SIGKILL);
  // Once its lease is gone, `ls` calls the tick a zombie.
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    test::CommandResult ls = Cron({"ls", "--history", "100"});
                    for (absl::string_view line :
                         absl::StrSplit(ls.out, '\n')) {
                      if (absl::StrContains(line, victim_row) &&
                          absl::StrContains(line, "zombie")) {
                        return true;
                      }
                    }
                    return false;
                  },
                  In(absl::Seconds(20)))
                  .ok())
      << Cron({"ls", "--history", "100"}).out;
  // The survivors keep running later ticks, and never that one.
  const int before = Results("victim");
  WaitForResults("victim", before + 3, absl::Seconds(20));
  const std::optional<etcd::CronTick> zombie = TickAt("victim", victim_tick);
  ASSERT_TRUE(zombie.has_value());
  EXPECT_FALSE(zombie->result.has_value());
  EXPECT_EQ(zombie->claim->daemon(), winner);
  const std::vector<std::string> runs = Lines("runs");
  EXPECT_EQ(std::count(runs.begin(), runs.end(), victim_tick), 0);
  ASSERT_EQ(Cron({"rm", "victim"}).exit_code, 0);
  for (const auto& [id, d] : daemons_) {
    if (id != winner) {
      EXPECT_EQ(StopDaemon(id), 0);
    }
  }
}

TEST_F(CronTest, RmDuringARunLetsItFinishAndRecordsNoFurtherTicks) {
  Daemon("d1");
  Daemon("d2");
  Add("slow",
      absl::StrCat("echo \"$CONCH_TICK\" >> ", d_.Path("started"),
                   "; while [ ! -e ", d_.Path("go"),
                   " ]; do sleep 0.02; done; echo finished"),
      {"--overlap", "skip"});
  ASSERT_TRUE(d_.WaitFor("started", In(absl::Seconds(20))));
  const std::string first = Lines("started").at(0);
  ASSERT_EQ(Cron({"rm", "slow"}).exit_code, 0);
  const absl::Time removed = absl::Now();
  ASSERT_EQ(
      test::RunCommand({"touch", d_.Path("go")}, absl::Seconds(5))->exit_code,
      0);
  ASSERT_TRUE(WaitForResultOf("slow", first).has_value());
  LetTicksPass(2);
  for (const etcd::CronTick& t : History("slow")) {
    // A claim needs the job's definition in the same Txn: none after rm.
    EXPECT_LT(t.instant, removed) << records::FormatRfc3339(t.instant);
    if (records::FormatRfc3339(t.instant) == first) {
      ASSERT_TRUE(t.result.has_value());
      EXPECT_EQ(t.result->exit_code(), 0);
      EXPECT_EQ(t.result->output_tail(), "finished\n");
    } else {
      // Ticks while the first run was running were skipped (overlap).
      ASSERT_TRUE(t.result.has_value());
      EXPECT_EQ(t.result->skipped(), "overlap");
    }
  }
  EXPECT_EQ(Lines("started").size(), 1u);
  EXPECT_EQ(StopDaemon("d1"), 0);
  EXPECT_EQ(StopDaemon("d2"), 0);
}

TEST_F(CronTest, RestartedDaemonDoesNotReplayMissedTicks) {
  Daemon("d1");
  Add("tock", "true");
  WaitForResults("tock", 2, absl::Seconds(20));
  ASSERT_EQ(StopDaemon("d1"), 0);
  const absl::Time stopped = absl::Now();
  LetTicksPass(3);
  const absl::Time restarted = absl::Now();
  Daemon("d1", {"--max-late", "10s"});
  const int before = Results("tock");
  WaitForResults("tock", before + 2, absl::Seconds(20));
  for (const etcd::CronTick& t : History("tock")) {
    EXPECT_FALSE(t.instant > stopped && t.instant < restarted)
        << "replayed " << records::FormatRfc3339(t.instant);
  }
  EXPECT_EQ(StopDaemon("d1"), 0);
}

// A daemon stopped for longer than --max-late (a suspended host, a paused
// VM; here SIGSTOP, with --max-late 4s) runs nothing it slept through that
// is older than that, and says so in one line per job, not one per tick.
// Of the ticks still within --max-late it runs those that can start within
// half of it (admission, asked per instant: the old ones do not shut out
// the new ones) and records the others as skipped (overload).
TEST_F(CronTest, AStalledDaemonLogsWhatItMissedOnceAJob) {
  // The session outlives the stall: a TTL of 20 s.
  ConchProcess& d = Daemon("d1", {"--max-late", "4s", "--ttl", "20s"});
  Add("tock", absl::StrCat("echo \"$CONCH_TICK\" >> ", d_.Path("tock")));
  // A few runs first, so that admission has measured what a start costs
  // (until then it admits everything).
  ASSERT_TRUE(test::PollUntil([&] { return Lines("tock").size() >= 3; },
                              In(absl::Seconds(20)))
                  .ok());
  ASSERT_TRUE(d.Signal(SIGSTOP).ok());
  const absl::Time stopped = absl::Now();
  LetTicksPass(8);  // the stall itself: the daemon can do nothing in it
  ASSERT_TRUE(d.Signal(SIGCONT).ok());
  const absl::Time resumed = absl::Now();
  // Overload ticks are written up to 5 s after they were refused.
  auto overloaded_in_stall = [&] {
    for (const etcd::CronTick& t : History("tock")) {
      if (t.instant > stopped && t.instant < resumed && t.result.has_value() &&
          t.result->skipped() == "overload") {
        return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(test::PollUntil(overloaded_in_stall, In(absl::Seconds(20))).ok())
      << d.Stderr();
  const std::string err = d.Stderr();
  int missed_lines = 0;
  for (absl::string_view line : absl::StrSplit(err, '\n')) {
    missed_lines += absl::StrContains(line, "missed (too late)") ? 1 : 0;
  }
  EXPECT_EQ(missed_lines, 1) << err;
  EXPECT_THAT(err, ContainsRegex("job tock: ([2-9]|[1-9][0-9]+) tick\\(s\\) "
                                 "from [^ ]+ to [^ ]+ missed \\(too late\\)"));
  // The tick a second or more before the resume (under 2 s old) ran; the
  // overflow path alone (a tick refused waits 500 ms after its instant for
  // room) would only have run one under 1 s old.
  int ran_from_stall = 0;
  for (const std::string& line : Lines("tock")) {
    absl::StatusOr<absl::Time> tick = records::ParseRfc3339(line);
    ASSERT_TRUE(tick.ok()) << line;
    if (*tick <= stopped || *tick >= resumed - absl::Milliseconds(900)) {
      continue;
    }
    EXPECT_GE(*tick, resumed - absl::Seconds(4))
        << "ran " << line << ", more than --max-late before the resume";
    ++ran_from_stall;
  }
  EXPECT_GE(ran_from_stall, 1) << "older ticks shut out one still in time";
  EXPECT_EQ(StopDaemon("d1"), 0);
}

TEST_F(CronTest, ATickWhileEveryDaemonIsDownIsSimplyAbsent) {
  const absl::Time added = absl::Now();
  Add("lonely", "true");
  LetTicksPass(2);
  const absl::Time started = absl::Now();
  Daemon("d1");
  WaitForResults("lonely", 2, absl::Seconds(20));
  const std::vector<etcd::CronTick> ticks = History("lonely");
  for (const etcd::CronTick& t : ticks) {
    EXPECT_GE(t.instant, started - absl::Seconds(1))
        << "ran late: " << records::FormatRfc3339(t.instant) << " added "
        << records::FormatRfc3339(added);
  }
  EXPECT_EQ(StopDaemon("d1"), 0);
}

TEST_F(CronTest, NewYorkSpringGapFiresOnceAtThreeLocal) {
  // In the zone, and (wide, tab-separated when piped) in UTC beside it.
  test::CommandResult r =
      Cron({"next", "--schedule", "30 2 * * *", "--tz", "America/New_York",
            "--from", "2026-03-07T12:00:00Z", "--count", "3", "-o", "wide"});
  ASSERT_EQ(r.exit_code, 0) << r.DebugString();
  EXPECT_EQ(r.out,
            "2026-03-08T03:00:00-04:00\t2026-03-08T07:00:00Z\n"
            "2026-03-09T02:30:00-04:00\t2026-03-09T06:30:00Z\n"
            "2026-03-10T02:30:00-04:00\t2026-03-10T06:30:00Z\n");
  // And a stored job says the same in `ls`.
  ASSERT_EQ(Cron({"add", "ny", "--schedule", "30 2 * * *", "--tz",
                  "America/New_York", "--", "true"})
                .exit_code,
            0);
  test::CommandResult ls = Cron({"ls", "--json"});
  EXPECT_THAT(ls.out, HasSubstr("\"tz\":\"America/New_York\""));
}

TEST_F(CronTest, BerlinFallBackFiresOnceAtTheFirstTwoThirty) {
  test::CommandResult r =
      Cron({"next", "--schedule", "30 2 * * *", "--tz", "Europe/Berlin",
            "--from", "2026-10-24T12:00:00Z", "--count", "2", "-o", "wide"});
  ASSERT_EQ(r.exit_code, 0) << r.DebugString();
  EXPECT_EQ(r.out,
            "2026-10-25T02:30:00+02:00\t2026-10-25T00:30:00Z\n"
            "2026-10-26T02:30:00+01:00\t2026-10-26T01:30:00Z\n");
}

// An @every with a fraction shows it (it was printed without, so two
// different instants looked alike), in milliseconds as every time conch
// prints; a whole second has none.
TEST_F(CronTest, NextShowsTheFractionOfAnInstant) {
  test::CommandResult r = Cron({"next", "--schedule", "@every 1.5s", "--from",
                                "2026-01-01T00:00:00Z", "--count", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.DebugString();
  EXPECT_EQ(r.out,
            "2026-01-01T00:00:01.500Z\n"
            "2026-01-01T00:00:03Z\n"
            "2026-01-01T00:00:04.500Z\n");
}

TEST_F(CronTest, BadInputExits64AndStoresNothing) {
  const std::vector<std::vector<std::string>> bad = {
      {"add", "j", "--schedule", "0 0 30 2 *", "--", "true"},
      {"add", "j", "--schedule", "61 * * * *", "--", "true"},
      {"add", "j", "--schedule", "@every 500ms", "--", "true"},
      {"add", "j", "--schedule", "@daily", "--tz", "Mars/Olympus", "--",
       "true"},
      {"add", "j", "--schedule", "@daily", "--overlap", "maybe", "--", "true"},
      {"add", "j", "--schedule", "@daily"},
      {"add", "", "--schedule", "@daily", "--", "true"},
      {"add", "j", "--", "true"},
      // Control characters: refused in a name, and every message (also
      // for a schedule, a zone or a command) stays on one line.
      {"add", "evil\nname", "--schedule", "@daily", "--", "true"},
      {"add", "esc\x1b[31m", "--schedule", "@daily", "--", "true"},
      {"add", "j", "--schedule", "0 0 * * *\nX", "--", "true"},
      {"add", "j", "--schedule", "@daily", "--tz", "Europe/\nBerlin", "--",
       "true"},
  };
  for (const std::vector<std::string>& args : bad) {
    test::CommandResult r = Cron(args);
    EXPECT_EQ(r.exit_code, 64) << r.DebugString();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_THAT(Cron(bad[0]).err, HasSubstr("never fires"));
  EXPECT_THAT(Cron(bad[3]).err, HasSubstr("Mars/Olympus"));
  EXPECT_THAT(KeysUnder(etcd(), prefix_), IsEmpty());
  // An existing name without --replace: 64, the stored job unchanged.
  ASSERT_EQ(Cron({"add", "j", "--schedule", "@daily", "--", "true"}).exit_code,
            0);
  test::CommandResult dup =
      Cron({"add", "j", "--schedule", "@hourly", "--", "true"});
  EXPECT_EQ(dup.exit_code, 64);
  EXPECT_THAT(dup.err, HasSubstr("--replace"));
  EXPECT_THAT(Cron({"ls"}).out, HasSubstr("j\t@daily\t"));
  EXPECT_EQ(
      Cron({"add", "j", "--schedule", "@hourly", "--replace", "--", "true"})
          .exit_code,
      0);
  EXPECT_THAT(Cron({"ls"}).out, HasSubstr("j\t@hourly\t"));
  EXPECT_EQ(Cron({"rm", "nope"}).exit_code, 1);
  EXPECT_EQ(Cron({"ls", "nope"}).exit_code, 1);
  // The other subcommands' flags.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"ls", "--history", "101"},
           {"run", "j", "--timeout", "10"},
           {"next", "--schedule", "@daily", "--from", "yesterday"},
           {"next", "--schedule", "@daily", "--count", "0"},
           {"next", "--schedule", "0 0 30 2 *"}}) {
    test::CommandResult r = Cron(args);
    EXPECT_EQ(r.exit_code, 64) << r.DebugString();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

// --job-nice: the job runs at that nice value, the daemon keeps its own.
TEST_F(CronTest, JobsRunAtJobNiceWhileTheDaemonKeepsItsOwn) {
  errno = 0;
  const int own = getpriority(PRIO_PROCESS, 0);
  ASSERT_EQ(errno, 0);
  const int job_nice = std::min(19, own + 5);
  ASSERT_NE(job_nice, own) << "the test runs at nice 19 already";
  ConchProcess& d = Daemon("d1", {"--job-nice", absl::StrCat(job_nice)});
  Add("niced", absl::StrCat("echo $$ >> ", d_.Path("pids"), "; exec sleep 30"),
      {"--overlap", "skip"});
  pid_t job = 0;
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    const std::vector<std::string> pids = Lines("pids");
                    return !pids.empty() && absl::SimpleAtoi(pids[0], &job);
                  },
                  In(absl::Seconds(20)))
                  .ok());
  EXPECT_TRUE(test::PollUntil(
                  [&] {
                    errno = 0;
                    return getpriority(PRIO_PROCESS, job) == job_nice &&
                           errno == 0;
                  },
                  In(absl::Seconds(10)))
                  .ok())
      << "job " << job << " runs at nice " << getpriority(PRIO_PROCESS, job);
  errno = 0;
  EXPECT_EQ(getpriority(PRIO_PROCESS, d.pid()), own);
  EXPECT_EQ(errno, 0);
  ASSERT_EQ(Cron({"rm", "niced"}).exit_code, 0);
  EXPECT_EQ(StopDaemon("d1"), 0);
  EXPECT_THAT(d.Stderr(), Not(HasSubstr("not set")));
}

TEST_F(CronTest, RunRequestIsClaimedOnceAndRecorded) {
  test::CommandResult none = Cron({"run", "nope"});
  EXPECT_EQ(none.exit_code, 1) << none.DebugString();
  ASSERT_EQ(Cron({"add", "manual", "--schedule", "@yearly", "--", "sh", "-c",
                  absl::StrCat("echo \"$CONCH_JOB $CONCH_TICK\" >> ",
                               d_.Path("runs"))})
                .exit_code,
            0);
  // No daemon: 75, and the request is withdrawn.
  test::CommandResult alone = Cron({"run", "manual", "--timeout", "500ms"});
  EXPECT_EQ(alone.exit_code, 75) << alone.DebugString();
  EXPECT_THAT(KeysUnder(etcd(), prefix_ + "cron/run/"), IsEmpty());
  Daemon("d1");
  Daemon("d2");
  test::CommandResult r = Cron({"run", "manual"});
  ASSERT_EQ(r.exit_code, 0) << r.DebugString();
  EXPECT_THAT(r.out, HasSubstr("claimed by d"));
  WaitForResults("manual", 1, absl::Seconds(10));
  EXPECT_EQ(Lines("runs").size(), 1u);
  EXPECT_THAT(Lines("runs").at(0), HasSubstr("manual 20"));
  EXPECT_THAT(KeysUnder(etcd(), prefix_ + "cron/run/"), IsEmpty());
  EXPECT_EQ(StopDaemon("d1"), 0);
  EXPECT_EQ(StopDaemon("d2"), 0);
}

TEST_F(CronTest, ResultsKeepExitCodesSignalsAndTheLast4KiBOfOutput) {
  Daemon("d1");
  Add("loud", "head -c 10000 /dev/zero | tr '\\0' x; echo END; exit 3");
  Add("killed", "kill -9 $$");
  WaitForResults("loud", 1, absl::Seconds(20));
  WaitForResults("killed", 1, absl::Seconds(20));
  ASSERT_EQ(Cron({"rm", "loud"}).exit_code, 0);
  ASSERT_EQ(Cron({"rm", "killed"}).exit_code, 0);
  for (const etcd::CronTick& t : History("loud")) {
    if (!t.result.has_value()) continue;
    EXPECT_EQ(t.result->exit_code(), 3);
    EXPECT_EQ(t.result->output_tail().size(), 4096u);
    EXPECT_THAT(t.result->output_tail(), ::testing::EndsWith("xEND\n"));
    EXPECT_EQ(etcd::FormatTickState(etcd::StateOfTick(t, Live())),
              "failed (code 3)");
  }
  for (const etcd::CronTick& t : History("killed")) {
    if (!t.result.has_value()) continue;
    EXPECT_EQ(t.result->signal(), SIGKILL);
  }
  EXPECT_EQ(StopDaemon("d1"), 0);
}

}  // namespace
}  // namespace conch
