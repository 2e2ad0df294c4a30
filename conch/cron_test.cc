// End-to-end tests of `conch cron` and conchd: one test per row of spec 04's
// contract table, with real conchd processes (three where the row says so)
// against a real etcd, plus run requests, --overlap skip, output capture,
// graceful SIGTERM and bad input.
//
// The jobs are `@every 1s`, so a test that needs ticks to be missed lets
// real seconds pass (LetTicksPass); everything else waits for a condition
// with a deadline. History is read back through CronStore (core/cron/cron.h)
// and through `conch cron ls --json`.
#include "core/cron/cron.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "conch/test_util.h"
#include "core/cron/cron_state.h"
#include "core/etcd/connection.h"
#include "core/etcd/test_dial.h"
#include "core/records/names.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/etcd_env.h"
#include "testing/files.h"
#include "testing/poll.h"
#include "testing/subprocess.h"
#include "testing/tcp_proxy.h"

namespace conch {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

absl::Time In(absl::Duration d) { return absl::Now() + d; }

class CronTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prefix_ = test::UniquePrefix();
    absl::StatusOr<std::unique_ptr<etcd::Connection>> conn =
        etcd::DialTestServer(etcd());
    ASSERT_TRUE(conn.ok()) << conn.status();
    conn_ = *std::move(conn);
    store_ = std::make_unique<etcd::CronStore>(conn_.get(), prefix_);
  }

  void TearDown() override {
    for (auto& [id, d] : daemons_) {
      if (d != nullptr && d->Running()) d->Signal(SIGKILL).IgnoreError();
    }
  }

  virtual test::EtcdServer& etcd() { return test::SharedEtcd(); }

  // Starts conchd --id ID and waits until it is registered (on another
  // lease than `replacing`, when the id is registered already).
  ConchProcess& Daemon(const std::string& id,
                       std::vector<std::string> flags = {},
                       const std::string& kill_after = "500ms",
                       const std::string& replacing = "") {
    std::vector<std::string> args = {"--id", id, "--kill-after", kill_after};
    if (std::find(flags.begin(), flags.end(), "--ttl") == flags.end()) {
      args.insert(args.end(), {"--ttl", "2s"});
    }
    args.insert(args.end(), flags.begin(), flags.end());
    daemons_[id] =
        ConchProcess::Start(args, prefix_, etcd(), {}, kConchdBinary);
    EXPECT_TRUE(test::PollUntil(
                    [&] {
                      absl::StatusOr<std::map<std::string, std::string>> live =
                          store_->LiveDaemons(etcd::Soon());
                      return live.ok() && live->count(id) == 1 &&
                             live->at(id) != replacing;
                    },
                    In(absl::Seconds(20)))
                    .ok())
        << "conchd " << id << " did not register: " << daemons_[id]->Stderr();
    return *daemons_[id];
  }

  // SIGTERM, and the exit code.
  int StopDaemon(const std::string& id) {
    ConchProcess& d = *daemons_[id];
    EXPECT_TRUE(d.Signal(SIGTERM).ok());
    return d.ExitCode(In(absl::Seconds(20)));
  }

  test::CommandResult Cron(std::vector<std::string> args) {
    args.insert(args.begin(), "cron");
    return RunConch(args, prefix_, etcd());
  }

  void Add(const std::string& name, const std::string& script,
           std::vector<std::string> flags = {}) {
    std::vector<std::string> args = {"add", name, "--schedule", "@every 1s"};
    args.insert(args.end(), flags.begin(), flags.end());
    for (std::string a :
         {std::string("--"), std::string("sh"), std::string("-c"), script}) {
      args.push_back(a);
    }
    test::CommandResult r = Cron(args);
    ASSERT_EQ(r.exit_code, 0) << r.DebugString();
  }

  std::vector<etcd::CronTick> History(const std::string& name) {
    absl::StatusOr<std::vector<etcd::CronTick>> h =
        store_->History(*EncodeName(name), etcd::kCronHistory, etcd::Soon());
    EXPECT_TRUE(h.ok()) << h.status();
    return h.ok() ? *h : std::vector<etcd::CronTick>{};
  }

  // The tick of `name` whose instant prints as `tick` (RFC 3339, as the
  // jobs see CONCH_TICK), if it is in the history.
  std::optional<etcd::CronTick> TickAt(const std::string& name,
                                       const std::string& tick) {
    for (etcd::CronTick& t : History(name)) {
      if (records::FormatRfc3339(t.instant) == tick) return std::move(t);
    }
    return std::nullopt;
  }

  // Waits until that tick has its result; returns it.
  std::optional<etcd::CronTick> WaitForResultOf(const std::string& name,
                                                const std::string& tick) {
    std::optional<etcd::CronTick> found;
    test::PollUntil(
        [&] {
          found = TickAt(name, tick);
          return found.has_value() && found->result.has_value();
        },
        In(absl::Seconds(20)))
        .IgnoreError();
    return found.has_value() && found->result.has_value() ? found
                                                          : std::nullopt;
  }

  int Results(const std::string& name) {
    int n = 0;
    for (const etcd::CronTick& t : History(name)) n += t.result.has_value();
    return n;
  }

  void WaitForResults(const std::string& name, int n, absl::Duration within) {
    ASSERT_TRUE(
        test::PollUntil([&] { return Results(name) >= n; }, In(within)).ok())
        << name << " has " << Results(name) << " results, want " << n;
  }

  std::map<std::string, std::string> Live() {
    absl::StatusOr<std::map<std::string, std::string>> live =
        store_->LiveDaemons(etcd::Soon());
    EXPECT_TRUE(live.ok());
    return live.ok() ? *live : std::map<std::string, std::string>{};
  }

  // Lets `n` seconds of @every 1s ticks pass. The scenario needs ticks to
  // go by unclaimed; there is no event to wait for instead.
  static void LetTicksPass(int n) {
    absl::SleepFor(absl::Seconds(n) + absl::Milliseconds(300));
  }

  // The lines of a file the jobs append to.
  std::vector<std::string> Lines(const std::string& file) {
    std::vector<std::string> out;
    for (absl::string_view l :
         absl::StrSplit(d_.Read(file).value_or(""), '\n', absl::SkipEmpty())) {
      out.emplace_back(l);
    }
    return out;
  }

  std::string prefix_;
  Scratch d_;
  std::unique_ptr<etcd::Connection> conn_;
  std::unique_ptr<etcd::CronStore> store_;
  std::map<std::string, std::unique_ptr<ConchProcess>> daemons_;
};

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

// A daemon cut off from etcd by a blackhole (its connections stay open but
// carry nothing) stops its running job before its lease can expire: the
// job's group is gone before the daemon's registration disappears. The run
// is then recorded, or shows as a zombie, and no tick runs twice.
TEST_F(CronTest, BlackholedDaemonStopsItsJobBeforeItsLeaseCanExpire) {
  absl::StatusOr<std::unique_ptr<test::TcpProxy>> proxy =
      test::TcpProxy::Start(etcd().client_port());
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  daemons_["d1"] = ConchProcess::Start(
      {"--id", "d1", "--ttl", "3s", "--kill-after", "500ms"}, prefix_,
      (*proxy)->endpoint(), {}, kConchdBinary);
  ASSERT_TRUE(test::PollUntil([&] { return Live().count("d1") == 1; },
                              In(absl::Seconds(20)))
                  .ok())
      << daemons_["d1"]->Stderr();
  // The job ignores SIGTERM, so only the SIGKILL before the deadline stops
  // it.
  Add("long",
      absl::StrCat("echo \"$CONCH_TICK $$\" >> ", d_.Path("runs"),
                   "; trap '' TERM; while :; do sleep 0.01; done"),
      {"--overlap", "skip"});
  ASSERT_TRUE(d_.WaitFor("runs", In(absl::Seconds(20))));
  const std::vector<std::string> first =
      absl::StrSplit(Lines("runs").at(0), ' ');
  ASSERT_EQ(first.size(), 2u);
  int job_pid = 0;
  ASSERT_TRUE(absl::SimpleAtoi(first[1], &job_pid));
  // A second daemon, straight to etcd, takes the ticks after the loss.
  Daemon("d2");

  (*proxy)->SetMode(test::TcpProxy::Mode::kBlackhole);
  int64_t job_gone = 0;
  int64_t lease_gone = 0;
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    if (job_gone == 0 && !ProcessAlive(job_pid)) {
                      job_gone = NowNs();
                    }
                    if (lease_gone == 0 && Live().count("d1") == 0) {
                      lease_gone = NowNs();
                    }
                    return job_gone != 0 && lease_gone != 0;
                  },
                  In(absl::Seconds(15)), absl::Milliseconds(2))
                  .ok())
      << daemons_["d1"]->Stderr();
  EXPECT_LT(job_gone, lease_gone) << "the job outlived its daemon's lease by "
                                  << absl::Nanoseconds(job_gone - lease_gone);
  std::cout << "[measured] blackholed conchd: job gone "
            << absl::Nanoseconds(lease_gone - job_gone)
            << " before its lease was seen expired" << std::endl;

  (*proxy)->SetMode(test::TcpProxy::Mode::kPass);
  // The stopped run: a result (killed) once d1 is back, or a zombie.
  ASSERT_TRUE(test::PollUntil([&] { return Live().count("d1") == 1; },
                              In(absl::Seconds(20)))
                  .ok())
      << daemons_["d1"]->Stderr();
  const std::optional<etcd::CronTick> stopped = TickAt("long", first[0]);
  ASSERT_TRUE(stopped.has_value() && stopped->claim.has_value());
  EXPECT_EQ(stopped->claim->daemon(), "d1");
  if (stopped->result.has_value()) {
    EXPECT_EQ(stopped->result->signal(), SIGKILL);
  }
  // Each tick ran at most once.
  std::vector<std::string> ticks;
  for (const std::string& line : Lines("runs")) {
    ticks.push_back(std::vector<std::string>(absl::StrSplit(line, ' ')).at(0));
  }
  std::sort(ticks.begin(), ticks.end());
  EXPECT_EQ(std::adjacent_find(ticks.begin(), ticks.end()), ticks.end())
      << d_.Read("runs").value_or("");
  ASSERT_EQ(Cron({"rm", "long"}).exit_code, 0);
  EXPECT_EQ(StopDaemon("d1"), 0);
  EXPECT_EQ(StopDaemon("d2"), 0);
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
                      if (absl::StrContains(line, victim_tick) &&
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
  test::CommandResult r =
      Cron({"next", "--schedule", "30 2 * * *", "--tz", "America/New_York",
            "--from", "2026-03-07T12:00:00Z", "--count", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.DebugString();
  EXPECT_EQ(r.out,
            "2026-03-08T07:00:00Z  2026-03-08 03:00:00 EDT\n"
            "2026-03-09T06:30:00Z  2026-03-09 02:30:00 EDT\n"
            "2026-03-10T06:30:00Z  2026-03-10 02:30:00 EDT\n");
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
            "--from", "2026-10-24T12:00:00Z", "--count", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.DebugString();
  EXPECT_EQ(r.out,
            "2026-10-25T00:30:00Z  2026-10-25 02:30:00 CEST\n"
            "2026-10-26T01:30:00Z  2026-10-26 02:30:00 CET\n");
}

// An @every with a fraction shows it (it was printed without, so two
// different instants looked alike).
TEST_F(CronTest, NextShowsTheFractionOfAnInstant) {
  test::CommandResult r = Cron({"next", "--schedule", "@every 1.5s", "--from",
                                "2026-01-01T00:00:00Z", "--count", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.DebugString();
  EXPECT_EQ(r.out,
            "2026-01-01T00:00:01.5Z  2026-01-01 00:00:01.5 UTC\n"
            "2026-01-01T00:00:03Z  2026-01-01 00:00:03 UTC\n"
            "2026-01-01T00:00:04.5Z  2026-01-01 00:00:04.5 UTC\n");
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

TEST_F(CronTest, ConchdRefusesBadFlagsWith64AndRegistersNothing) {
  const std::vector<std::vector<std::string>> bad = {
      {"--id", "bad id"},
      {"--id", "d1", "--max-late", "10"},
      {"--id", "d1", "--workers", "0"},
      {"--id", "d1", "--ttl", "0s"},
      {"--id", "d1", "--job-nice", "-21"},  // below conchd's own
      {"--id", "d1", "--job-nice", "20"},
      {"--id", "d1", "--job-nice", "low"},
  };
  for (const std::vector<std::string>& args : bad) {
    std::vector<std::string> argv = {kConchdBinary};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const std::string& f : {std::string("--endpoints"), etcd().endpoint(),
                                 std::string("--prefix"), prefix_}) {
      argv.push_back(f);
    }
    absl::StatusOr<test::CommandResult> r =
        test::RunCommand(argv, absl::Seconds(30));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->exit_code, 64) << r->DebugString();
    // conchd's messages are conchd's, whichever flag is wrong.
    EXPECT_TRUE(absl::StartsWith(r->err, "conchd: ")) << r->err;
    EXPECT_EQ(std::count(r->err.begin(), r->err.end(), '\n'), 1) << r->err;
  }
  EXPECT_THAT(KeysUnder(etcd(), prefix_), IsEmpty());
  // A second daemon with a live id: 75, and the first keeps its key.
  Daemon("d1");
  const std::string lease = Live()["d1"];
  std::vector<std::string> argv = {
      kConchdBinary,     "--id",     "d1",   "--endpoints",
      etcd().endpoint(), "--prefix", prefix_};
  absl::StatusOr<test::CommandResult> twin =
      test::RunCommand(argv, absl::Seconds(30));
  ASSERT_TRUE(twin.ok());
  EXPECT_EQ(twin->exit_code, 75) << twin->DebugString();
  EXPECT_THAT(twin->err, HasSubstr("waiting for it to expire"));
  EXPECT_THAT(twin->err, HasSubstr("in use"));
  EXPECT_EQ(Live()["d1"], lease);
  EXPECT_EQ(StopDaemon("d1"), 0);
}

// A conchd restarted right after a crash (SIGKILL, then systemd's restart)
// takes its id over at once: its previous incarnation ran on this host and
// boot, and its pid is gone. It once exited 75 until the old lease expired.
TEST_F(CronTest, ARestartAfterACrashTakesTheIdOverAtOnce) {
  ConchProcess& first = Daemon("d1", {"--ttl", "10s"}, "2s");
  const std::string old_lease = Live()["d1"];
  ASSERT_TRUE(first.Signal(SIGKILL).ok());
  ASSERT_EQ(first.ExitCode(In(absl::Seconds(10))), 128 + SIGKILL);
  const absl::Time restarted = absl::Now();
  ConchProcess& second = Daemon("d1", {"--ttl", "10s"}, "2s", old_lease);
  // Registered long before the old lease (10 s) could have expired.
  EXPECT_LT(absl::Now() - restarted, absl::Seconds(5));
  EXPECT_THAT(second.Stderr(), HasSubstr("which is gone: taking the id over"));
  EXPECT_EQ(StopDaemon("d1"), 0);
}

// An id registered by a daemon that cannot be proven dead (another host)
// is waited for until its lease expires, then taken.
TEST_F(CronTest, AnIdRegisteredElsewhereIsWaitedForUntilItExpires) {
  absl::StatusOr<test::CommandResult> grant =
      etcd().Etcdctl({"lease", "grant", "3"});
  ASSERT_TRUE(grant.ok() && grant->Succeeded()) << grant.status();
  // "lease 694d7a... granted with TTL(3s)"
  const std::vector<std::string> words = absl::StrSplit(grant->out, ' ');
  ASSERT_GE(words.size(), 2u) << grant->out;
  absl::StatusOr<test::CommandResult> put = etcd().Etcdctl(
      {"put", "--lease", words[1], absl::StrCat(prefix_, "cron/daemon/d1"),
       "{\"host\":\"elsewhere\",\"pid\":1,\"boot_id\":\"x\"}"});
  ASSERT_TRUE(put.ok() && put->Succeeded()) << put.status();
  const std::string foreign = Live()["d1"];
  ASSERT_FALSE(foreign.empty());
  const absl::Time started = absl::Now();
  ConchProcess& d = Daemon("d1", {"--ttl", "10s"}, "2s", foreign);
  EXPECT_GE(absl::Now() - started, absl::Seconds(2));  // the lease's TTL
  EXPECT_THAT(d.Stderr(), HasSubstr("pid 1 on elsewhere"));
  EXPECT_THAT(d.Stderr(), HasSubstr("waiting for it to expire"));
  EXPECT_EQ(StopDaemon("d1"), 0);
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

TEST_F(CronTest, SigtermLetsTheRunningJobFinishThenUnregisters) {
  ConchProcess& d = Daemon("d1", {"--ttl", "20s"}, "10s");
  Add("finish",
      absl::StrCat("echo \"$CONCH_TICK\" >> ", d_.Path("started"),
                   "; while [ ! -e ", d_.Path("go"), " ]; do sleep 0.02; done"),
      {"--overlap", "skip"});
  ASSERT_TRUE(d_.WaitFor("started", In(absl::Seconds(20))));
  ASSERT_TRUE(d.Signal(SIGTERM).ok());
  ASSERT_TRUE(
      test::PollUntil(
          [&] { return absl::StrContains(d.Stderr(), "no more claims"); },
          In(absl::Seconds(10)))
          .ok());
  EXPECT_TRUE(d.Running());
  ASSERT_EQ(
      test::RunCommand({"touch", d_.Path("go")}, absl::Seconds(5))->exit_code,
      0);
  EXPECT_EQ(d.ExitCode(In(absl::Seconds(20))), 0) << d.Stderr();
  EXPECT_EQ(Live().count("d1"), 0u);
  const std::optional<etcd::CronTick> finished =
      TickAt("finish", Lines("started").at(0));
  ASSERT_TRUE(finished.has_value() && finished->result.has_value());
  EXPECT_EQ(finished->result->exit_code(), 0);
}

TEST_F(CronTest, LostLeaseStopsTheRunningJobAndTheDaemonRegistersAgain) {
  Daemon("d1");
  Add("long",
      absl::StrCat("echo \"$CONCH_TICK\" >> ", d_.Path("started"),
                   "; sleep 300 & wait"),
      {"--overlap", "skip"});
  ASSERT_TRUE(d_.WaitFor("started", In(absl::Seconds(20))));
  const std::string first = Lines("started").at(0);
  const std::string old_lease = Live()["d1"];
  ASSERT_FALSE(old_lease.empty());
  absl::StatusOr<etcd::LeaseId> lease = etcd::ParseLeaseHex(old_lease);
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(etcd().RevokeLease(*lease).ok());
  // The run is stopped (TERM to its group) and its result recorded.
  const std::optional<etcd::CronTick> stopped = WaitForResultOf("long", first);
  ASSERT_TRUE(stopped.has_value()) << daemons_["d1"]->Stderr();
  EXPECT_EQ(stopped->result->signal(), SIGTERM);
  // The daemon registers again on a new lease and runs later ticks.
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    const std::string now = Live()["d1"];
                    return !now.empty() && now != old_lease &&
                           Lines("started").size() >= 2;
                  },
                  In(absl::Seconds(20)))
                  .ok())
      << daemons_["d1"]->Stderr();
  const std::vector<std::string> started = Lines("started");
  EXPECT_EQ(std::count(started.begin(), started.end(), first), 1);
  ASSERT_EQ(Cron({"rm", "long"}).exit_code, 0);
}

// A private etcd, for the tests that restart and compact it.
class CronPrivateEtcdTest : public CronTest {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<test::EtcdServer>> server =
        test::EtcdServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    CronTest::SetUp();
  }
  test::EtcdServer& etcd() override { return *server_; }

  // Freezes etcd between 300 and 600 ms into a second, so that the next
  // @every 1s tick's claim goes out to the frozen server; `frozen_at` is
  // when (just before the freeze).
  void FreezeMidSecond(absl::Time* frozen_at) {
    ASSERT_TRUE(test::PollUntil(
                    [] {
                      const int64_t ms = absl::ToUnixMillis(absl::Now()) % 1000;
                      return ms >= 300 && ms < 600;
                    },
                    In(absl::Seconds(5)))
                    .ok());
    *frozen_at = absl::Now();
    ASSERT_TRUE(etcd().Freeze().ok());
  }

  std::unique_ptr<test::EtcdServer> server_;
};

TEST_F(CronPrivateEtcdTest,
       DaemonCatchesUpAfterAReconnectIntoCompactedHistory) {
  ConchProcess& d = Daemon("d1");
  Add("before", absl::StrCat("echo \"$CONCH_TICK\" >> ", d_.Path("before")));
  WaitForResults("before", 1, absl::Seconds(20));
  // While the daemon is frozen, etcd restarts (its watch stream breaks),
  // the definitions change, and the history they changed in is compacted:
  // the daemon's watch cannot resume and it must read the jobs again.
  ASSERT_TRUE(d.Signal(SIGSTOP).ok());
  ASSERT_TRUE(etcd().Restart().ok());
  ASSERT_EQ(Cron({"rm", "before"}).exit_code, 0);
  Add("after", absl::StrCat("echo \"$CONCH_TICK\" >> ", d_.Path("after")));
  absl::StatusOr<int64_t> rev = etcd().CurrentRevision();
  ASSERT_TRUE(rev.ok());
  ASSERT_TRUE(etcd().Compact(*rev).ok());
  const absl::Time removed = absl::Now();
  ASSERT_TRUE(d.Signal(SIGCONT).ok());
  WaitForResults("after", 2, absl::Seconds(30));
  // "before" is gone for the daemon: nothing of it ran after the rm.
  for (const std::string& tick : Lines("before")) {
    absl::Time t;
    std::string err;
    ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, tick, &t, &err)) << tick;
    EXPECT_LT(t, removed) << tick;
  }
  EXPECT_THAT(d.Stderr(), HasSubstr("re-reading"));
  EXPECT_EQ(StopDaemon("d1"), 0);
}

// CPU time (user + system) a process has used so far.
absl::Duration CpuTime(pid_t pid) {
  absl::StatusOr<std::string> stat =
      test::ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) return absl::ZeroDuration();
  // The fields after the command name (in parentheses): state is field 3,
  // utime and stime are 14 and 15.
  const std::vector<std::string> f =
      absl::StrSplit(stat->substr(stat->rfind(')') + 2), ' ');
  int64_t utime = 0, stime = 0;
  if (f.size() < 13 || !absl::SimpleAtoi(f[11], &utime) ||
      !absl::SimpleAtoi(f[12], &stime)) {
    return absl::ZeroDuration();
  }
  return absl::Seconds(static_cast<double>(utime + stime) /
                       static_cast<double>(sysconf(_SC_CLK_TCK)));
}

// With etcd gone the daemon has no session and cannot claim: it waits for
// its next try to register instead of spinning on the ticks that are due,
// and it runs ticks again once etcd is back.
TEST_F(CronPrivateEtcdTest, DaemonWithoutEtcdIdlesUntilItIsBack) {
  // A short dial timeout: each try to register fails within 1 s, so that
  // the window below is mostly the wait between tries.
  ConchProcess& d = Daemon("d1", {"--dial-timeout", "1s"});
  Add("j", absl::StrCat("echo \"$CONCH_TICK\" >> ", d_.Path("j")));
  WaitForResults("j", 1, absl::Seconds(20));
  ASSERT_TRUE(etcd().Stop().ok());
  ASSERT_TRUE(test::PollUntil(
                  [&] { return absl::StrContains(d.Stderr(), "retrying in"); },
                  In(absl::Seconds(20)))
                  .ok())
      << d.Stderr();
  // A measurement window, not a wait for a condition. A waiting daemon
  // used 0-10 ms of CPU in it; one that woke for every due tick it could
  // not claim used 230 ms (its tries to register and to re-read the jobs
  // block between the spins).
  const absl::Duration window = absl::Seconds(3);
  const absl::Duration cpu_before = CpuTime(d.pid());
  absl::SleepFor(window);
  const absl::Duration used = CpuTime(d.pid()) - cpu_before;
  EXPECT_LT(used, absl::Milliseconds(100))
      << "conchd used " << used << " of CPU in " << window
      << " without a session";
  const size_t runs = Lines("j").size();
  ASSERT_TRUE(etcd().Restart().ok());
  ASSERT_TRUE(test::PollUntil([&] { return Lines("j").size() >= runs + 2; },
                              In(absl::Seconds(30)))
                  .ok())
      << d.Stderr();
  EXPECT_EQ(StopDaemon("d1"), 0);
}

// A stopping daemon whose last etcd calls hang (etcd frozen) waits for
// them without spinning: after the grace, neither the grace's end nor a
// session retry it will not make may keep waking it.
TEST_F(CronPrivateEtcdTest, StoppingDaemonWaitsForEtcdWithoutSpinning) {
  // The claim below hangs until its deadline, the dial timeout; the lease
  // outlives the window below.
  ConchProcess& d = Daemon("d1", {"--dial-timeout", "6s", "--ttl", "10s"});
  Add("j", absl::StrCat("echo \"$CONCH_TICK\" >> ", d_.Path("j")));
  WaitForResults("j", 1, absl::Seconds(20));
  // Stop the daemon once the next tick's claim has gone out to the frozen
  // etcd.
  absl::Time frozen_at;
  ASSERT_NO_FATAL_FAILURE(FreezeMidSecond(&frozen_at));
  const absl::Time claim_sent =
      absl::FromUnixSeconds(absl::ToUnixSeconds(frozen_at) + 1) +
      absl::Milliseconds(200);
  ASSERT_TRUE(test::PollUntil([&] { return absl::Now() >= claim_sent; },
                              In(absl::Seconds(2)))
                  .ok());
  ASSERT_TRUE(d.Signal(SIGTERM).ok());
  // A measurement window, not a wait for a condition: the 1 s grace, then
  // the wait for the hanging claim. A daemon that spun on the grace's past
  // end used over a second of CPU in it.
  const absl::Duration window = absl::Seconds(3);
  const absl::Duration cpu_before = CpuTime(d.pid());
  absl::SleepFor(window);
  const absl::Duration used = CpuTime(d.pid()) - cpu_before;
  EXPECT_TRUE(d.Running()) << "nothing was in flight: " << d.Stderr();
  EXPECT_LT(used, absl::Milliseconds(150))
      << "conchd used " << used << " of CPU in " << window << " stopping";
  ASSERT_TRUE(etcd().Thaw().ok());
  EXPECT_EQ(d.ExitCode(In(absl::Seconds(30))), 0) << d.Stderr();
}

// A tick whose claim is answered only after the daemon lost its session
// (etcd froze between the claim and its answer, long enough for the lease
// deadline to pass) is recorded as skipped (session lost): it is not run
// without a fuse, nor under a new lease that its claim does not name. The
// daemon registers again and runs later ticks.
TEST_F(CronPrivateEtcdTest, ClaimAnsweredAfterTheSessionWasLostIsNotRun) {
  ConchProcess& d = Daemon("d1");
  Add("j", absl::StrCat("echo \"$CONCH_TICK\" >> ", d_.Path("j")));
  WaitForResults("j", 1, absl::Seconds(20));
  // The next tick's claim goes out to the frozen etcd.
  absl::Time frozen_at;
  ASSERT_NO_FATAL_FAILURE(FreezeMidSecond(&frozen_at));
  const std::string tick = records::FormatRfc3339(
      absl::FromUnixSeconds(absl::ToUnixSeconds(frozen_at) + 1));
  const bool lost =
      test::PollUntil(
          [&] { return absl::StrContains(d.Stderr(), "session lost ("); },
          In(absl::Seconds(10)))
          .ok();
  ASSERT_TRUE(etcd().Thaw().ok());
  ASSERT_TRUE(lost) << d.Stderr();
  std::optional<etcd::CronTick> t = WaitForResultOf("j", tick);
  ASSERT_TRUE(t.has_value()) << tick << "\n" << d.Stderr();
  EXPECT_EQ(t->result->skipped(), "session lost") << t->result->DebugString();
  for (const std::string& ran : Lines("j")) EXPECT_NE(ran, tick);
  const size_t runs = Lines("j").size();
  ASSERT_TRUE(test::PollUntil([&] { return Lines("j").size() >= runs + 2; },
                              In(absl::Seconds(30)))
                  .ok())
      << d.Stderr();
  EXPECT_EQ(StopDaemon("d1"), 0);
}

}  // namespace
}  // namespace conch
