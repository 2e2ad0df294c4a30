// Drills on a real 3-node etcd cluster on loopback (issue 7, spec 06 §4):
//   (a) tools/conch-smoke.sh passes against the cluster, and leaves nothing;
//   (b) the etcd leader is killed while elect and sema holders run: no
//       second holder, waiters keep their order, work goes on after the
//       re-election;
//   (c) 2 of 3 members stop while an `elect --restart` service runs: the
//       child is stopped within the TTL, and started again when quorum
//       returns;
//   (d) the conchd that claimed a tick is SIGKILLed (a power-off): the tick
//       is never rerun and shows as a zombie.
// Tagged "cluster": tools/test.sh runs these in a stage of their own.
#include <signal.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "conch/output.h"
#include "conch/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/etcd_cluster.h"
#include "testing/files.h"
#include "testing/poll.h"
#include "testing/subprocess.h"

namespace conch {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::Time In(absl::Duration d) { return absl::Now() + d; }

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<test::EtcdCluster>> c =
        test::EtcdCluster::Start();
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = *std::move(c);
  }

  void TearDown() override {
    for (auto& p : procs_) {
      if (p != nullptr && p->Running()) p->Signal(SIGKILL).IgnoreError();
    }
  }

  ConchProcess& Conch(std::vector<std::string> args,
                      const std::string& binary = kConchBinary) {
    procs_.push_back(ConchProcess::Start(std::move(args), prefix_,
                                         cluster_->endpoints(), {}, binary));
    return *procs_.back();
  }

  // tools/conch-smoke.sh against the cluster, its cron step every `every`.
  absl::StatusOr<test::CommandResult> Smoke(const std::string& every) {
    return test::RunCommand({"bash", "tools/conch-smoke.sh"},
                            absl::Seconds(120),
                            {{"CONCH_ENDPOINTS", cluster_->endpoints()},
                             {"CONCH_PREFIX", prefix_},
                             {"CONCH_BIN", kConchBinary},
                             {"CONCH_SMOKE_EVERY", every}});
  }

  test::CommandResult Run(std::vector<std::string> args) {
    return RunConch(std::move(args), prefix_, cluster_->endpoints());
  }

  // A holder's child: notes its start and end (ns) and the order; runs until
  // "<id>.release" exists.
  std::vector<std::string> Child(const std::string& id) {
    return {"sh", "-c",
            absl::StrCat("date +%s%N > ", d_.Path(id + ".start"), "; echo ", id,
                         " >> ", d_.Path("order"), "; while [ ! -e ",
                         d_.Path(id + ".release"),
                         " ]; do sleep 0.02; done; date +%s%N > ",
                         d_.Path(id + ".end"))};
  }

  ConchProcess& Holder(std::vector<std::string> args, const std::string& id) {
    args.push_back("--");
    for (std::string& a : Child(id)) args.push_back(a);
    return Conch(args);
  }

  void Release(const std::string& id) {
    ASSERT_TRUE(test::WriteFile(d_.Path(id + ".release"), "").ok());
  }

  int64_t Ns(const std::string& file) {
    int64_t v = 0;
    absl::SimpleAtoi(absl::StripAsciiWhitespace(d_.Read(file).value_or("")),
                     &v);
    return v;
  }

  bool Started(const std::string& id) { return d_.Exists(id + ".start"); }

  std::vector<std::string> Lines(const std::string& file) {
    return absl::StrSplit(d_.Read(file).value_or(""), '\n', absl::SkipEmpty());
  }

  std::vector<std::string> Order() {
    return absl::StrSplit(d_.Read("order").value_or(""), '\n',
                          absl::SkipEmpty());
  }

  int Keys(const std::string& under) {
    absl::StatusOr<test::CommandResult> r =
        cluster_->Etcdctl({"get", under, "--prefix", "--keys-only"});
    if (!r.ok() || !r->Succeeded()) return -1;
    int n = 0;
    for (absl::string_view l : absl::StrSplit(r->out, '\n')) {
      n += l.empty() ? 0 : 1;
    }
    return n;
  }

  std::unique_ptr<test::EtcdCluster> cluster_;
  std::string prefix_ = "/drill/";
  Scratch d_;
  std::vector<std::unique_ptr<ConchProcess>> procs_;
};

TEST_F(ClusterTest, SmokeScriptPassesAndLeavesNothingBehind) {
  Conch({"--id", "d1"}, kConchdBinary);
  Conch({"--id", "d2"}, kConchdBinary);
  ASSERT_TRUE(
      test::PollUntil([&] { return Keys(prefix_ + "cron/daemon/") == 2; },
                      In(absl::Seconds(20)))
          .ok());
  // A period well above the time the script's checks take, so that its
  // "exactly one tick" holds on a slow machine.
  absl::StatusOr<test::CommandResult> smoke = Smoke("10s");
  ASSERT_TRUE(smoke.ok()) << smoke.status();
  EXPECT_EQ(smoke->exit_code, 0) << smoke->DebugString();
  EXPECT_THAT(smoke->out, HasSubstr("[smoke] ok"));
  for (const char* step : {"1. ", "2. ", "3. ", "4. ", "5. ", "6. "}) {
    EXPECT_THAT(smoke->out, HasSubstr(absl::StrCat("[smoke] ", step)));
  }
  // Only the daemons' own keys remain.
  EXPECT_EQ(Keys(prefix_), 2);
  EXPECT_EQ(Keys(prefix_ + "cron/daemon/"), 2);
}

TEST_F(ClusterTest, SmokeScriptFailsLoudlyWithoutADaemon) {
  absl::StatusOr<test::CommandResult> smoke = Smoke("1s");
  ASSERT_TRUE(smoke.ok()) << smoke.status();
  EXPECT_EQ(smoke->exit_code, 1) << smoke->DebugString();
  EXPECT_THAT(smoke->err, HasSubstr("is a conchd running"));
  EXPECT_EQ(Keys(prefix_), 0) << "the failed run cleaned up";
}

TEST_F(ClusterTest, KilledLeaderLeavesOneHolderAndTheQueueInOrder) {
  // elect: a holds, b waits. sema (max 2): s1 and s2 hold, s3 then s4 wait.
  Holder({"elect", "office", "--ttl", "5s"}, "a");
  ASSERT_TRUE(d_.WaitFor("a.start", In(absl::Seconds(20))));
  Holder({"elect", "office", "--ttl", "5s"}, "b");
  std::vector<std::string> sema = {"s1", "s2", "s3", "s4"};
  for (size_t i = 0; i < sema.size(); ++i) {
    Holder({"sema", "pool", "--max", "2", "--ttl", "5s"}, sema[i]);
    // One after another, so that the arrival order is defined: queued, and
    // the first two started (their children write the order file).
    ASSERT_TRUE(test::PollUntil(
                    [&] {
                      return Keys(prefix_ + "sema/pool/2/q/") ==
                                 static_cast<int>(i + 1) &&
                             (i >= 2 || Started(sema[i]));
                    },
                    In(absl::Seconds(20)))
                    .ok());
  }
  ASSERT_TRUE(
      test::PollUntil([&] { return Keys(prefix_ + "elect/office/") == 2; },
                      In(absl::Seconds(20)))
          .ok());
  ASSERT_TRUE(test::PollUntil([&] { return Started("s1") && Started("s2"); },
                              In(absl::Seconds(20)))
                  .ok());

  absl::StatusOr<int> leader = cluster_->Leader();
  ASSERT_TRUE(leader.ok()) << leader.status();
  ASSERT_TRUE(cluster_->Kill(*leader).ok());
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    absl::StatusOr<int> l = cluster_->Leader();
                    return l.ok() && *l != *leader;
                  },
                  In(absl::Seconds(20)))
                  .ok());
  // The holders keep their leases (TTL 5 s) through the election: for
  // longer than a TTL after it, nobody else starts. (An absence can only be
  // observed for a bounded time.)
  const absl::Status second = test::PollUntil(
      [&] { return Started("b") || Started("s3") || Started("s4"); },
      In(absl::Seconds(6)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(second)) << "a second holder started";
  for (ConchProcess* p : {procs_[0].get(), procs_[2].get(), procs_[3].get()}) {
    EXPECT_TRUE(p->Running()) << p->Stderr();
  }

  // Work goes on after the re-election, in order.
  Release("a");
  ASSERT_TRUE(d_.WaitFor("b.start", In(absl::Seconds(20))));
  EXPECT_GE(Ns("b.start"), Ns("a.end"));
  Release("s1");
  ASSERT_TRUE(d_.WaitFor("s3.start", In(absl::Seconds(20))));
  EXPECT_FALSE(Started("s4"));
  Release("s2");
  ASSERT_TRUE(d_.WaitFor("s4.start", In(absl::Seconds(20))));
  for (const char* id : {"b", "s3", "s4"}) Release(id);
  for (auto& p : procs_) EXPECT_EQ(p->ExitCode(In(absl::Seconds(20))), 0);
  EXPECT_THAT(Order(), ElementsAre("a", "s1", "s2", "b", "s3", "s4"));
  // Never more than 2 of the sema holders at once: s3 after s1, s4 after s2.
  EXPECT_GE(Ns("s3.start"), Ns("s1.end"));
  EXPECT_GE(Ns("s4.start"), Ns("s2.end"));
}

TEST_F(ClusterTest, QuorumLossStopsTheServiceWithinTheTtlAndQuorumRestartsIt) {
  // The child notes each start; --restart brings it back after a loss.
  Conch({"elect", "svc", "--restart", "--ttl", "2s", "--kill-after", "500ms",
         "--", "sh", "-c",
         absl::StrCat("echo $$ >> ", d_.Path("starts"),
                      "; while :; do sleep 0.05; done")});
  ASSERT_TRUE(d_.WaitFor("starts", In(absl::Seconds(20))));
  const std::vector<std::string> first = Lines("starts");
  ASSERT_EQ(first.size(), 1u);
  pid_t child = 0;
  ASSERT_TRUE(absl::SimpleAtoi(first[0], &child));

  absl::StatusOr<int> leader = cluster_->Leader();
  ASSERT_TRUE(leader.ok());
  std::vector<int> stopped;
  for (int i = 0; i < cluster_->size() && stopped.size() < 2; ++i) {
    if (i != *leader) stopped.push_back(i);
  }
  for (int i : stopped) ASSERT_TRUE(cluster_->Stop(i).ok());
  const absl::Time lost = absl::Now();
  ASSERT_TRUE(test::PollUntil([&] { return !ProcessAlive(child); },
                              In(absl::Seconds(10)))
                  .ok())
      << "the child outlived the lost quorum";
  // The fuse fires at the local lease deadline: TTL after the last answered
  // keepalive, plus the TERM→KILL grace at most.
  EXPECT_LE(absl::Now() - lost, absl::Seconds(2) + absl::Milliseconds(500) +
                                    absl::Milliseconds(500));
  EXPECT_EQ(Lines("starts").size(), 1u) << "restarted without quorum";

  for (int i : stopped) ASSERT_TRUE(cluster_->Restart(i).ok());
  ASSERT_TRUE(test::PollUntil([&] { return Lines("starts").size() >= 2; },
                              In(absl::Seconds(60)))
                  .ok())
      << procs_[0]->Stderr();
  ASSERT_TRUE(procs_[0]->Signal(SIGTERM).ok());
  EXPECT_EQ(procs_[0]->ExitCode(In(absl::Seconds(20))), 128 + SIGTERM);
}

TEST_F(ClusterTest, PoweredOffTickWinnerLeavesAZombieNeverRerun) {
  Conch({"--id", "d1", "--ttl", "2s", "--kill-after", "500ms"}, kConchdBinary);
  Conch({"--id", "d2", "--ttl", "2s", "--kill-after", "500ms"}, kConchdBinary);
  Conch({"--id", "d3", "--ttl", "2s", "--kill-after", "500ms"}, kConchdBinary);
  ASSERT_TRUE(
      test::PollUntil([&] { return Keys(prefix_ + "cron/daemon/") == 3; },
                      In(absl::Seconds(20)))
          .ok());
  ASSERT_EQ(
      Run({"cron", "add", "fire", "--schedule", "@every 1s", "--", "sh", "-c",
           absl::StrCat(
               "if mkdir ", d_.Path("lock"),
               " 2>/dev/null; then echo \"$CONCH_TICK\" > ", d_.Path("victim"),
               "; sleep 300; fi; echo \"$CONCH_TICK\" >> ", d_.Path("runs"))})
          .exit_code,
      0);
  ASSERT_TRUE(d_.WaitFor("victim", In(absl::Seconds(20))));
  const std::string tick(absl::StripAsciiWhitespace(*d_.Read("victim")));
  // The tick as ls prints it (the job sees ….000Z; ls drops a zero
  // fraction).
  const std::string row = StoredTimestamp(tick);
  // Who won it: the history row of that tick names the daemon.
  std::string winner;
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    test::CommandResult ls =
                        Run({"cron", "ls", "fire", "--history", "100"});
                    for (absl::string_view line :
                         absl::StrSplit(ls.out, '\n')) {
                      if (!absl::StrContains(line, row)) continue;
                      const size_t at = line.find("running on ");
                      if (at == absl::string_view::npos) return false;
                      winner = std::string(
                          absl::StripAsciiWhitespace(line.substr(at + 11, 2)));
                      return true;
                    }
                    return false;
                  },
                  In(absl::Seconds(10)))
                  .ok());
  ASSERT_THAT(winner, ::testing::MatchesRegex("d[123]"));
  ConchProcess& victim = *procs_[winner[1] - '1'];
  ASSERT_TRUE(victim.Signal(SIGKILL).ok());
  // Its lease expires (TTL 2 s); the row turns into a zombie.
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    test::CommandResult ls =
                        Run({"cron", "ls", "fire", "--history", "100"});
                    for (absl::string_view line :
                         absl::StrSplit(ls.out, '\n')) {
                      if (absl::StrContains(line, row)) {
                        return absl::StrContains(line, "zombie");
                      }
                    }
                    return false;
                  },
                  In(absl::Seconds(20)))
                  .ok());
  // Later ticks still run, on the survivors; the zombie tick never does.
  const size_t before = Lines("runs").size();
  ASSERT_TRUE(
      test::PollUntil([&] { return Lines("runs").size() >= before + 3; },
                      In(absl::Seconds(20)))
          .ok());
  EXPECT_THAT(d_.Read("runs").value_or(""), ::testing::Not(HasSubstr(tick)));
  EXPECT_EQ(Run({"cron", "rm", "fire", "--purge"}).exit_code, 0);
}

}  // namespace
}  // namespace conch
