// End-to-end tests of `conch sema`: one test per row of spec 03's contract
// table, against a real etcd with real conch processes, including the herd
// test that reads etcd's own count of delivered watch events.
#include <signal.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "conch/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/etcd_env.h"
#include "testing/files.h"
#include "testing/poll.h"

namespace conch {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

absl::Time In(absl::Duration d) { return absl::Now() + d; }

class SemaTest : public ::testing::Test {
 protected:
  void SetUp() override { prefix_ = test::UniquePrefix(); }

  virtual test::EtcdServer& etcd() { return test::SharedEtcd(); }

  // A holder's child: records slot, max, rev and start; runs until
  // "<id>.release" exists.
  std::vector<std::string> Child(const std::string& id, int code = 0) {
    return {"sh", "-c",
            absl::StrCat("echo \"$CONCH_SLOT $CONCH_MAX $CONCH_REV\" > ",
                         d_.Path(id + ".env"), "; date +%s%N > ",
                         d_.Path(id + ".start"), "; echo ", id, " >> ",
                         d_.Path("order"), "; while [ ! -e ",
                         d_.Path(id + ".release"),
                         " ]; do sleep 0.02; done; date +%s%N > ",
                         d_.Path(id + ".end"), "; exit ", code)};
  }

  std::unique_ptr<ConchProcess> Sema(const std::string& name, int max,
                                     const std::string& id,
                                     std::vector<std::string> flags = {}) {
    std::vector<std::string> args = {"sema", name, "--max", absl::StrCat(max)};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back("--");
    for (std::string& a : Child(id)) args.push_back(a);
    return ConchProcess::Start(args, prefix_, etcd());
  }

  std::vector<std::string> Queue(const std::string& name, int max) {
    return KeysUnder(etcd(),
                     absl::StrCat(prefix_, "sema/", name, "/", max, "/q/"));
  }

  void WaitForQueue(const std::string& name, int max, size_t n) {
    ASSERT_TRUE(test::PollUntil([&] { return Queue(name, max).size() == n; },
                                In(absl::Seconds(20)))
                    .ok())
        << "queue has " << Queue(name, max).size() << " keys, want " << n;
  }

  test::CommandResult Who(const std::string& name,
                          std::vector<std::string> flags = {}) {
    std::vector<std::string> args = {"sema", name, "--who"};
    args.insert(args.end(), flags.begin(), flags.end());
    return RunConch(args, prefix_, etcd());
  }

  int Running(const std::vector<std::string>& ids) {
    int n = 0;
    for (const std::string& id : ids) {
      n += d_.Exists(id + ".start") && !d_.Exists(id + ".end");
    }
    return n;
  }

  void Release(const std::string& id) {
    ASSERT_TRUE(test::WriteFile(d_.Path(id + ".release"), "").ok());
  }

  std::vector<std::string> Order() {
    return absl::StrSplit(d_.Read("order").value_or(""), '\n',
                          absl::SkipEmpty());
  }

  std::string prefix_;
  Scratch d_;
};

TEST_F(SemaTest, NPlusOneContendersRunExactlyN) {
  std::vector<std::unique_ptr<ConchProcess>> procs;
  const std::vector<std::string> ids = {"a", "b", "c", "d"};
  for (const std::string& id : ids) procs.push_back(Sema("s", 3, id));
  WaitForQueue("s", 3, 4);
  ASSERT_TRUE(
      test::PollUntil([&] { return Running(ids) == 3; }, In(absl::Seconds(10)))
          .ok());
  // --who agrees: three slots held, one waiting.
  test::CommandResult who = Who("s");
  EXPECT_EQ(who.exit_code, 0) << who.DebugString();
  EXPECT_THAT(
      who.out,
      AllOf(HasSubstr("holder\t-\t3\t0\t"), HasSubstr("holder\t-\t3\t1\t"),
            HasSubstr("holder\t-\t3\t2\t"), HasSubstr("waiter\t1\t3\t-\t"),
            Not(HasSubstr("waiter\t2\t"))));
  EXPECT_EQ(Running(ids), 3);
  for (const std::string& id : ids) Release(id);
  for (auto& p : procs) EXPECT_EQ(p->ExitCode(In(absl::Seconds(20))), 0);
  EXPECT_TRUE(Queue("s", 3).empty());
}

TEST_F(SemaTest, ReleasePromotesExactlyTheNextWaiterFast) {
  std::vector<std::unique_ptr<ConchProcess>> procs;
  const std::vector<std::string> ids = {"a", "b", "c", "d"};
  for (size_t i = 0; i < ids.size(); ++i) {
    procs.push_back(Sema("s", 2, ids[i]));
    WaitForQueue("s", 2, i + 1);  // one after another: FIFO is defined
  }
  ASSERT_TRUE(
      test::PollUntil([&] { return Running(ids) == 2; }, In(absl::Seconds(10)))
          .ok());
  EXPECT_THAT(Order(), ::testing::ElementsAre("a", "b"));
  Release("a");
  ASSERT_TRUE(d_.WaitFor("c.start", In(absl::Seconds(10))));
  const int64_t gap = [&] {
    int64_t end = 0, start = 0;
    absl::SimpleAtoi(absl::StripAsciiWhitespace(*d_.Read("a.end")), &end);
    absl::SimpleAtoi(absl::StripAsciiWhitespace(*d_.Read("c.start")), &start);
    return start - end;
  }();
  EXPECT_LT(absl::Nanoseconds(gap), absl::Seconds(1));
  // c took a's slot; d still waits.
  EXPECT_EQ(d_.Read("c.env")->substr(0, 4), "0 2 ");
  EXPECT_FALSE(d_.Exists("d.start"));
  EXPECT_EQ(Running(ids), 2);
  for (const std::string& id : ids) Release(id);
  for (auto& p : procs) EXPECT_EQ(p->ExitCode(In(absl::Seconds(20))), 0);
  EXPECT_THAT(Order(), ::testing::ElementsAre("a", "b", "c", "d"));
}

TEST_F(SemaTest, FifoOrderAndPerSlotFencingTokens) {
  std::vector<std::unique_ptr<ConchProcess>> procs;
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    ids.push_back(absl::StrCat("p", i));
    procs.push_back(Sema("s", 1, ids.back()));
    WaitForQueue("s", 1, i + 1);
  }
  // Release each holder as soon as it runs: they must run in start order.
  for (const std::string& id : ids) {
    ASSERT_TRUE(d_.WaitFor(id + ".start", In(absl::Seconds(10)))) << id;
    Release(id);
  }
  for (auto& p : procs) EXPECT_EQ(p->ExitCode(In(absl::Seconds(20))), 0);
  EXPECT_EQ(Order(), ids);
  int64_t last = 0;
  for (const std::string& id : ids) {
    std::vector<std::string> env =
        absl::StrSplit(absl::StripAsciiWhitespace(*d_.Read(id + ".env")), ' ');
    ASSERT_THAT(env, SizeIs(3));
    EXPECT_EQ(env[0], "0");  // one slot
    EXPECT_EQ(env[1], "1");
    int64_t rev;
    ASSERT_TRUE(absl::SimpleAtoi(env[2], &rev));
    EXPECT_GT(rev, last) << "CONCH_REV must increase per slot";
    last = rev;
  }
}

TEST_F(SemaTest, MismatchedMaxLandsInSeparateGroups) {
  std::vector<std::unique_ptr<ConchProcess>> two, three;
  std::vector<std::string> ids2, ids3;
  for (int i = 0; i < 3; ++i) {
    ids2.push_back(absl::StrCat("two", i));
    two.push_back(Sema("s", 2, ids2.back()));
    ids3.push_back(absl::StrCat("three", i));
    three.push_back(Sema("s", 3, ids3.back()));
  }
  WaitForQueue("s", 2, 3);
  WaitForQueue("s", 3, 3);
  ASSERT_TRUE(
      test::PollUntil([&] { return Running(ids2) == 2 && Running(ids3) == 3; },
                      In(absl::Seconds(10)))
          .ok());
  test::CommandResult who = Who("s");
  EXPECT_THAT(who.out, AllOf(HasSubstr("waiter\t1\t2\t-\t"),
                             Not(HasSubstr("waiter\t1\t3\t"))));
  EXPECT_EQ(Running(ids2), 2);
  for (const std::string& id : ids2) Release(id);
  for (const std::string& id : ids3) Release(id);
  for (auto& p : two) EXPECT_EQ(p->ExitCode(In(absl::Seconds(20))), 0);
  for (auto& p : three) EXPECT_EQ(p->ExitCode(In(absl::Seconds(20))), 0);
}

TEST_F(SemaTest, NonblockWhenFullExits75FastLeavingNoKey) {
  std::unique_ptr<ConchProcess> a = Sema("s", 1, "a");
  ASSERT_TRUE(d_.WaitFor("a.start", In(absl::Seconds(10))));
  const absl::Time start = absl::Now();
  test::CommandResult r = RunConch(
      {"sema", "s", "--max", "1", "--nonblock", "--", "true"}, prefix_, etcd());
  EXPECT_LT(absl::Now() - start, Scaled(absl::Milliseconds(200)));
  EXPECT_EQ(r.exit_code, 75) << r.DebugString();
  EXPECT_THAT(Queue("s", 1), SizeIs(1));
  Release("a");
  EXPECT_EQ(a->ExitCode(In(absl::Seconds(10))), 0);
}

TEST_F(SemaTest, TimeoutWhenFullExits75AfterItAndRemovesItsKey) {
  std::unique_ptr<ConchProcess> a = Sema("s", 1, "a");
  ASSERT_TRUE(d_.WaitFor("a.start", In(absl::Seconds(10))));
  const absl::Time start = absl::Now();
  test::CommandResult r =
      RunConch({"sema", "s", "--max", "1", "--timeout", "1s", "--", "true"},
               prefix_, etcd());
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(r.exit_code, 75) << r.DebugString();
  EXPECT_GE(took, absl::Seconds(1));
  EXPECT_LT(took, absl::Seconds(2));
  EXPECT_THAT(Queue("s", 1), SizeIs(1));
  Release("a");
  EXPECT_EQ(a->ExitCode(In(absl::Seconds(10))), 0);
}

TEST_F(SemaTest, SigkilledWaiterLeavesWithItsLeaseAndTheQueueKeepsOrder) {
  std::unique_ptr<ConchProcess> a = Sema("s", 1, "a");
  WaitForQueue("s", 1, 1);
  std::unique_ptr<ConchProcess> b =
      Sema("s", 1, "b", {"--ttl", "2s", "--kill-after", "500ms"});
  WaitForQueue("s", 1, 2);
  std::unique_ptr<ConchProcess> c = Sema("s", 1, "c");
  WaitForQueue("s", 1, 3);
  ASSERT_TRUE(b->Signal(SIGKILL).ok());
  // Its key goes with its lease, within the TTL.
  ASSERT_TRUE(test::PollUntil([&] { return Queue("s", 1).size() == 2; },
                              In(absl::Seconds(2) + absl::Milliseconds(500)))
                  .ok());
  Release("a");
  ASSERT_TRUE(d_.WaitFor("c.start", In(absl::Seconds(10))));
  Release("c");
  EXPECT_EQ(a->ExitCode(In(absl::Seconds(10))), 0);
  EXPECT_EQ(c->ExitCode(In(absl::Seconds(10))), 0);
  EXPECT_THAT(Order(), ::testing::ElementsAre("a", "c"));
}

TEST_F(SemaTest, RevokedHolderIsStoppedWith70AndTheNextWaiterGetsTheSlot) {
  std::unique_ptr<ConchProcess> a = ConchProcess::Start(
      {"sema", "s", "--max", "1", "--kill-after", "300ms", "--", "sh", "-c",
       absl::StrCat("trap '' TERM; echo up > ", d_.Path("a.up"),
                    "; while :; do sleep 0.02; done")},
      prefix_, etcd());
  ASSERT_TRUE(d_.WaitFor("a.up", In(absl::Seconds(10))));
  std::unique_ptr<ConchProcess> b = Sema("s", 1, "b");
  WaitForQueue("s", 1, 2);
  test::CommandResult who = Who("s", {"--json"});
  std::optional<int64_t> lease = FirstLease(who.out);
  ASSERT_TRUE(lease.has_value()) << who.out;
  ASSERT_TRUE(etcd().RevokeLease(*lease).ok());
  EXPECT_EQ(a->ExitCode(In(absl::Seconds(10))), 70) << a->Stderr();
  ASSERT_TRUE(d_.WaitFor("b.start", In(absl::Seconds(10))));
  EXPECT_EQ(d_.Read("b.env")->substr(0, 4), "0 1 ");
  Release("b");
  EXPECT_EQ(b->ExitCode(In(absl::Seconds(10))), 0);
}

TEST_F(SemaTest, WhoListsHoldersWaitersAndJsonAndExits1WhenNobodyHolds) {
  test::CommandResult empty = Who("s");
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_EQ(empty.out, "");
  std::unique_ptr<ConchProcess> a = Sema("s", 1, "a");
  ASSERT_TRUE(d_.WaitFor("a.start", In(absl::Seconds(10))));
  std::unique_ptr<ConchProcess> b = Sema("s", 1, "b");
  WaitForQueue("s", 1, 2);
  const std::vector<std::string> env =
      absl::StrSplit(absl::StripAsciiWhitespace(*d_.Read("a.env")), ' ');
  const std::string rev = env.back();
  test::CommandResult text = Who("s", {"--max", "1"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_THAT(text.out, AllOf(HasSubstr("holder\t-\t1\t0\t"),
                              HasSubstr(absl::StrCat("\t", a->pid(), "\t20")),
                              HasSubstr("\t" + rev + "\n"),
                              HasSubstr(absl::StrCat("waiter\t1\t1\t-\t"))));
  test::CommandResult json = Who("s", {"--json"});
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_THAT(json.out,
              AllOf(HasSubstr("\"max\":1"), HasSubstr("{\"slot\":0,"),
                    HasSubstr("\"rev\":" + rev), HasSubstr("{\"position\":1,"),
                    HasSubstr(absl::StrCat("\"pid\":", b->pid()))));
  // Another N: nobody holds that group.
  EXPECT_EQ(Who("s", {"--max", "4"}).exit_code, 1);
  Release("a");
  ASSERT_TRUE(d_.WaitFor("b.start", In(absl::Seconds(10))));
  Release("b");
  EXPECT_EQ(a->ExitCode(In(absl::Seconds(10))), 0);
  EXPECT_EQ(b->ExitCode(In(absl::Seconds(10))), 0);
}

TEST_F(SemaTest, BadMaxExits64AndWritesNothing) {
  for (const char* max : {"0", "-1", "abc", "1.5", "", "1000001"}) {
    test::CommandResult r =
        RunConch({"sema", "s", "--max", max, "--", "true"}, prefix_, etcd());
    EXPECT_EQ(r.exit_code, 64) << max << ": " << r.DebugString();
    EXPECT_THAT(r.err, HasSubstr("--max")) << max;
  }
  test::CommandResult missing =
      RunConch({"sema", "s", "--", "true"}, prefix_, etcd());
  EXPECT_EQ(missing.exit_code, 64);
  EXPECT_TRUE(KeysUnder(etcd(), prefix_).empty());
}

// The command boundary: a command without "--" is refused before anything
// is written (it once ran with conch's flags taken out of it), and every
// word after "--" reaches the child as it is, "--json" and "--" included.
TEST_F(SemaTest, TheCommandStartsOnlyAfterTheSeparator) {
  test::CommandResult bare = RunConch(
      {"sema", "s", "--max", "1", "printf", "[%s]\n", "a", "--json", "b"},
      prefix_, etcd());
  EXPECT_EQ(bare.exit_code, 64) << bare.DebugString();
  EXPECT_EQ(bare.err,
            "conch: unexpected argument \"printf\": put -- before the "
            "command (see conch sema --help)\n");
  EXPECT_TRUE(KeysUnder(etcd(), prefix_).empty());

  const std::string args = d_.Path("args");
  test::CommandResult r =
      RunConch({"sema", "s", "--max", "1", "--", "sh", "-c",
                absl::StrCat("printf '%s|' \"$@\" > ", args), "sh", "a",
                "--json", "--", "--max", "b"},
               prefix_, etcd());
  EXPECT_EQ(r.exit_code, 0) << r.DebugString();
  EXPECT_EQ(test::ReadFile(args).value_or("(none)"), "a|--json|--|--max|b|");
  EXPECT_TRUE(r.out.empty()) << r.out;  // no --json answer of conch's
}

// A long command line works the same for sema and elect (130 KB once
// exited 69 here and 0 there), and one too long for a record in etcd is
// refused before anything is written.
TEST_F(SemaTest, LongCommandLinesWorkAndTooLongOnesAreRefusedUpFront) {
  // Linux takes at most 128 KiB per argument: the line is cut in 64 KB
  // pieces.
  const std::string piece(64 * 1024, 'a');
  auto command = [&](int pieces) {
    std::vector<std::string> c = {"sh", "-c", "exit 0", "sh"};
    for (int i = 0; i < pieces; ++i) c.push_back(piece);
    return c;
  };
  for (const char* kind : {"sema", "elect"}) {
    std::vector<std::string> head = {kind, "long"};
    if (std::string(kind) == "sema") head.insert(head.end(), {"--max", "1"});
    head.push_back("--");
    std::vector<std::string> args = head;
    for (std::string& a : command(2)) args.push_back(a);  // 128 KB
    test::CommandResult ok = RunConch(args, prefix_, etcd());
    EXPECT_EQ(ok.exit_code, 0) << kind << ": " << ok.DebugString();
    args = head;
    for (std::string& a : command(5)) args.push_back(a);  // 320 KB
    test::CommandResult refused = RunConch(args, prefix_, etcd());
    EXPECT_EQ(refused.exit_code, 64) << kind << ": " << refused.DebugString();
    EXPECT_THAT(refused.err, HasSubstr("the command is too long")) << kind;
  }
  std::vector<std::string> add = {"cron",       "add",    "long",
                                  "--schedule", "@daily", "--"};
  for (std::string& a : command(5)) add.push_back(a);
  test::CommandResult job = RunConch(add, prefix_, etcd());
  EXPECT_EQ(job.exit_code, 64) << job.DebugString();
  EXPECT_THAT(job.err, HasSubstr("the command is too long"));
  EXPECT_TRUE(KeysUnder(etcd(), prefix_).empty());
}

// The herd test runs on a private etcd so that no other test's watches
// touch the counter it reads.
class SemaHerdTest : public SemaTest {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<test::EtcdServer>> etcd =
        test::EtcdServer::Start();
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    server_ = *std::move(etcd);
  }
  static void TearDownTestSuite() { server_.reset(); }
  test::EtcdServer& etcd() override { return *server_; }

  double Events() {
    absl::StatusOr<double> v =
        server_->MetricValue("etcd_debugging_mvcc_events_total");
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : 0;
  }

  static inline std::unique_ptr<test::EtcdServer> server_;  // the suite's
};

// Uncontended, a whole cycle is two writes: one Txn queues and takes slot 0
// together, the revoke removes both keys. CONCH_REV is the first of them.
TEST_F(SemaHerdTest, UncontendedCycleIsOneWriteToHoldAndOneToRelease) {
  for (int max : {1, 3}) {
    absl::StatusOr<int64_t> before = server_->CurrentRevision();
    ASSERT_TRUE(before.ok()) << before.status();
    test::CommandResult r =
        RunConch({"sema", "u", "--max", absl::StrCat(max), "--", "sh", "-c",
                  "echo \"$CONCH_SLOT $CONCH_REV\""},
                 prefix_, etcd());
    ASSERT_EQ(r.exit_code, 0) << r.DebugString();
    absl::StatusOr<int64_t> after = server_->CurrentRevision();
    ASSERT_TRUE(after.ok()) << after.status();
    EXPECT_EQ(*after - *before, 2) << "max " << max;
    EXPECT_EQ(absl::StripAsciiWhitespace(r.out),
              absl::StrCat("0 ", *before + 1))
        << "max " << max;
  }
  EXPECT_TRUE(KeysUnder(etcd(), prefix_).empty());
}

TEST_F(SemaHerdTest, HundredWaitersEachReleaseCostsAtMostThreeEvents) {
  constexpr int kWaiters = 100;
  constexpr int kReleases = 10;
  std::vector<std::unique_ptr<ConchProcess>> procs;
  std::vector<std::string> ids;
  for (int i = 0; i <= kWaiters; ++i) {
    ids.push_back(absl::StrCat("w", i));
    procs.push_back(Sema("herd", 1, ids.back()));
    WaitForQueue("herd", 1, i + 1);  // strict arrival order
  }
  ASSERT_TRUE(d_.WaitFor("w0.start", In(absl::Seconds(10))));
  for (int r = 0; r < kReleases; ++r) {
    // Quiet: the previous promotion's events have all been delivered.
    double before = Events();
    ASSERT_TRUE(test::PollUntil(
                    [&] {
                      const double now = Events();
                      const bool stable = now == before;
                      before = now;
                      return stable;
                    },
                    In(absl::Seconds(10)), absl::Milliseconds(200))
                    .ok());
    Release(ids[r]);
    // Exactly the next one is promoted …
    ASSERT_TRUE(d_.WaitFor(ids[r + 1] + ".start", In(absl::Seconds(10))));
    EXPECT_EQ(Running(ids), 1) << "after release " << r;
    // … and once things settle, the release cost at most three events.
    double after = Events();
    ASSERT_TRUE(test::PollUntil(
                    [&] {
                      const double now = Events();
                      const bool stable = now == after;
                      after = now;
                      return stable;
                    },
                    In(absl::Seconds(10)), absl::Milliseconds(200))
                    .ok());
    std::cout << "release " << r << ": " << after - before
              << " watch events delivered\n";
    EXPECT_LE(after - before, 3) << "release " << r << " delivered "
                                 << after - before << " watch events";
    EXPECT_GE(after - before, 1);
  }
  EXPECT_EQ(Order(),
            std::vector<std::string>(ids.begin(), ids.begin() + kReleases + 1));
  for (auto& p : procs) ASSERT_TRUE(p->Signal(SIGTERM).ok());
  for (auto& p : procs) p->ExitCode(In(absl::Seconds(20)));
}

}  // namespace
}  // namespace conch
