// End-to-end tests of conchd's lifecycle, with real conchd processes
// against a real etcd: a graceful SIGTERM, a restart after a crash taking
// its id over, an id registered elsewhere, refused flags, a lost lease, a
// daemon cut off from etcd (blackholed, stopped, restarted, compacted,
// frozen) and what becomes of its running job and of the ticks it claimed.
// The scheduling contract itself is in cron_test.cc.
//
// The jobs are `@every 1s`; the tests wait for a condition with a deadline,
// except where they measure the CPU a daemon uses in a window. The tests of
// CronPrivateEtcdTest restart, freeze and compact etcd, so each starts its
// own. The fixture is in cron_test_util.h.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "conch/cron_test_util.h"
#include "conch/test_util.h"
#include "core/cron/cron.h"
#include "core/etcd/types.h"
#include "core/records/records.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/etcd_server.h"
#include "testing/files.h"
#include "testing/poll.h"
#include "testing/subprocess.h"
#include "testing/tcp_proxy.h"

namespace conch {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

absl::Time In(absl::Duration d) { return absl::Now() + d; }

// Jobs added with Add() fire @every 1s.
class CronTest : public CronFixture {};

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
  // Registered long before the old lease (10 s) could have expired (the
  // bound leaves room for a slow sanitizer build, not for that wait).
  EXPECT_LT(absl::Now() - restarted, absl::Seconds(8));
  EXPECT_THAT(second.Stderr(), HasSubstr("which is gone: taking the id over"));
  EXPECT_EQ(StopDaemon("d1"), 0);
}

// An id registered by a daemon that cannot be proven dead (another host)
// is waited for until its lease expires, then taken.
TEST_F(CronTest, AnIdRegisteredElsewhereIsWaitedForUntilItExpires) {
  // Before the grant: the lease cannot expire sooner than its TTL after.
  const absl::Time granted_after = absl::Now();
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
  ConchProcess& d = Daemon("d1", {"--ttl", "10s"}, "2s", foreign);
  EXPECT_GE(absl::Now() - granted_after, absl::Seconds(3));  // the TTL
  EXPECT_THAT(d.Stderr(), HasSubstr("pid 1 on elsewhere"));
  EXPECT_THAT(d.Stderr(), HasSubstr("waiting for it to expire"));
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
  EXPECT_LT(used, Scaled(absl::Milliseconds(100)))
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
  EXPECT_LT(used, Scaled(absl::Milliseconds(150)))
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
  // A TTL of 3 s: the session, last renewed up to a third of it before the
  // freeze, must outlive the next tick's claim (sent at the next second).
  ConchProcess& d = Daemon("d1", {"--ttl", "3s"});
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
