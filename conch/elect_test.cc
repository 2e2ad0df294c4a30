// End-to-end tests of `conch elect`: one test per row of spec 02's contract
// table, against a real etcd, with real conch processes, real signals
// (SIGKILL, SIGSTOP, SIGTERM) and real children that record what happened
// to them in a scratch directory.
#include <signal.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "conch/identity.h"
#include "conch/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/etcd_env.h"
#include "testing/files.h"
#include "testing/poll.h"
#include "testing/subprocess.h"

namespace conch {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::SizeIs;

absl::Time In(absl::Duration d) { return absl::Now() + d; }

int64_t ParseNs(const std::optional<std::string>& text) {
  int64_t v = 0;
  if (!text.has_value() ||
      !absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &v)) {
    ADD_FAILURE() << "not a number: " << text.value_or("(missing)");
  }
  return v;
}

std::vector<int64_t> ParseLines(const std::optional<std::string>& text) {
  std::vector<int64_t> out;
  if (!text.has_value()) return out;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    int64_t v;
    if (absl::SimpleAtoi(line, &v)) out.push_back(v);
  }
  return out;
}

class ElectTest : public ::testing::Test {
 protected:
  void SetUp() override { prefix_ = test::UniquePrefix(); }

  test::EtcdServer& etcd() { return test::SharedEtcd(); }

  // A child that records its CONCH_* variables and start time, then runs
  // until the test creates "<id>.release", then records its end and exits
  // with `code`.
  std::vector<std::string> Holder(const std::string& id, int code = 0) {
    return {
        "sh", "-c",
        absl::StrCat("echo $CONCH_REV > ", d_.Path(id + ".rev"), "; ",
                     "echo \"$CONCH_NAME|$CONCH_LEASE\" > ",
                     d_.Path(id + ".env"), "; ", "date +%s%N > ",
                     d_.Path(id + ".start"), "; ", "while [ ! -e ",
                     d_.Path(id + ".release"), " ]; do sleep 0.01; done; ",
                     "date +%s%N > ", d_.Path(id + ".end"), "; exit ", code)};
  }

  std::unique_ptr<ConchProcess> Elect(const std::string& name,
                                      std::vector<std::string> flags,
                                      std::vector<std::string> command) {
    std::vector<std::string> args = {"elect", name};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back("--");
    args.insert(args.end(), command.begin(), command.end());
    return ConchProcess::Start(args, prefix_, etcd());
  }

  test::CommandResult Who(const std::string& name,
                          std::vector<std::string> flags = {}) {
    std::vector<std::string> args = {"elect", name, "--who"};
    args.insert(args.end(), flags.begin(), flags.end());
    return RunConch(args, prefix_, etcd());
  }

  // Keys of office `name` (names here need no encoding).
  std::vector<std::string> OfficeKeys(const std::string& name) {
    return KeysUnder(etcd(), absl::StrCat(prefix_, "elect/", name, "/"));
  }

  // Waits until the office has `n` candidate keys.
  void WaitForCandidates(const std::string& name, size_t n) {
    ASSERT_TRUE(test::PollUntil([&] { return OfficeKeys(name).size() == n; },
                                In(absl::Seconds(10)))
                    .ok())
        << "office " << name << " has " << OfficeKeys(name).size()
        << " keys, want " << n;
  }

  void Release(const std::string& id) {
    ASSERT_TRUE(test::WriteFile(d_.Path(id + ".release"), "").ok());
  }

  std::string prefix_;
  Scratch d_;
};

// A forgotten office name is never taken from the command: before "--"
// there is no name, so nothing runs and nothing is written.
TEST_F(ElectTest, AForgottenNameIsRefusedNotTakenFromTheCommand) {
  test::CommandResult r =
      RunConch({"elect", "--nonblock", "--", "sleep", "1"}, prefix_, etcd());
  EXPECT_EQ(r.exit_code, 64) << r.DebugString();
  EXPECT_THAT(r.err, HasSubstr("name is required"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(KeysUnder(etcd(), prefix_).empty());
  // A name with a control character is refused on one line.
  test::CommandResult evil =
      RunConch({"elect", "a\nb", "--", "true"}, prefix_, etcd());
  EXPECT_EQ(evil.exit_code, 64) << evil.DebugString();
  EXPECT_THAT(evil.err, HasSubstr("has a control character"));
  EXPECT_EQ(std::count(evil.err.begin(), evil.err.end(), '\n'), 1) << evil.err;
  // Subcommands that run nothing refuse a command after "--".
  test::CommandResult who =
      RunConch({"cron", "ls", "--", "true"}, prefix_, etcd());
  EXPECT_EQ(who.exit_code, 64) << who.DebugString();
  EXPECT_THAT(who.err, HasSubstr("run a command after --"));
}

// Flags that do not go together are refused, not half-honoured: --who
// with --nonblock once checked an office named "true".
TEST_F(ElectTest, WhoRefusesTheFlagsOfTheRunMode) {
  test::CommandResult nameless =
      RunConch({"elect", "--who", "--nonblock"}, prefix_, etcd());
  EXPECT_EQ(nameless.exit_code, 64) << nameless.DebugString();
  EXPECT_THAT(nameless.err, HasSubstr("name is required"));
  for (const std::vector<std::string>& extra :
       std::vector<std::vector<std::string>>{{"--nonblock"},
                                             {"--timeout", "1s"},
                                             {"--restart"},
                                             {"--", "true"}}) {
    std::vector<std::string> args = {"elect", "x", "--who"};
    args.insert(args.end(), extra.begin(), extra.end());
    test::CommandResult r = RunConch(args, prefix_, etcd());
    EXPECT_EQ(r.exit_code, 64) << extra[0] << ": " << r.DebugString();
    EXPECT_THAT(r.err, HasSubstr("--who only looks")) << extra[0];
  }
  test::CommandResult sema =
      RunConch({"sema", "x", "--who", "--restart"}, prefix_, etcd());
  EXPECT_EQ(sema.exit_code, 64) << sema.DebugString();
  EXPECT_THAT(sema.err, HasSubstr("--who only looks"));
  EXPECT_TRUE(KeysUnder(etcd(), prefix_).empty());
}

TEST_F(ElectTest, VacantOfficeRunsAtOnceWithConchRevAndItsExitCode) {
  test::CommandResult r =
      RunConch({"elect", "x", "--", "sh", "-c",
                absl::StrCat("echo \"$CONCH_REV|$CONCH_NAME|$CONCH_LEASE\" > ",
                             d_.Path("env"), "; exit 0")},
               prefix_, etcd());
  EXPECT_EQ(r.exit_code, 0) << r.DebugString();
  std::vector<std::string> env =
      absl::StrSplit(absl::StripTrailingAsciiWhitespace(*d_.Read("env")), '|');
  ASSERT_THAT(env, SizeIs(3));
  int64_t rev = 0;
  EXPECT_TRUE(absl::SimpleAtoi(env[0], &rev) && rev > 0) << env[0];
  EXPECT_EQ(env[1], "x");
  EXPECT_EQ(env[2].size(), 16u);
  EXPECT_TRUE(OfficeKeys("x").empty());  // handed back
}

TEST_F(ElectTest, TwoCandidatesExactlyOneRunsAndCleanExitHandsOverFast) {
  std::unique_ptr<ConchProcess> a = Elect("x", {}, Holder("a"));
  ASSERT_TRUE(d_.WaitFor("a.start", In(absl::Seconds(10))));
  std::unique_ptr<ConchProcess> b = Elect("x", {}, Holder("b"));
  WaitForCandidates("x", 2);
  // B is queued, not running; --who names A.
  EXPECT_FALSE(d_.Exists("b.start"));
  test::CommandResult who = Who("x");
  EXPECT_EQ(who.exit_code, 0);
  EXPECT_THAT(who.out, HasSubstr(absl::StrCat("leader\t-\t", HostName(), "\t",
                                              a->pid(), "\t")));

  Release("a");
  EXPECT_EQ(a->ExitCode(In(absl::Seconds(10))), 0) << a->Stderr();
  ASSERT_TRUE(d_.WaitFor("b.start", In(absl::Seconds(10))));
  const absl::Duration handover = absl::Nanoseconds(
      ParseNs(d_.Read("b.start")) - ParseNs(d_.Read("a.end")));
  EXPECT_LT(handover, absl::Seconds(1)) << "not TTL-bound";
  // The fencing token grows across the succession.
  EXPECT_GT(ParseNs(d_.Read("b.rev")), ParseNs(d_.Read("a.rev")));
  Release("b");
  EXPECT_EQ(b->ExitCode(In(absl::Seconds(10))), 0) << b->Stderr();
  EXPECT_TRUE(OfficeKeys("x").empty());
}

TEST_F(ElectTest, WinnerExitingWithThreeExits3AndHandsOverTheSameWay) {
  std::unique_ptr<ConchProcess> a = Elect("x", {}, Holder("a", 3));
  ASSERT_TRUE(d_.WaitFor("a.start", In(absl::Seconds(10))));
  std::unique_ptr<ConchProcess> b = Elect("x", {}, Holder("b"));
  WaitForCandidates("x", 2);
  Release("a");
  EXPECT_EQ(a->ExitCode(In(absl::Seconds(10))), 3);
  ASSERT_TRUE(d_.WaitFor("b.start", In(absl::Seconds(10))));
  EXPECT_LT(absl::Nanoseconds(ParseNs(d_.Read("b.start")) -
                              ParseNs(d_.Read("a.end"))),
            absl::Seconds(1));
  Release("b");
  EXPECT_EQ(b->ExitCode(In(absl::Seconds(10))), 0);
}

TEST_F(ElectTest, WhoOnAVacantOfficePrintsNothingAndExits1) {
  test::CommandResult r = Who("nobody");
  EXPECT_EQ(r.exit_code, 1) << r.DebugString();
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "conch: office \"nobody\" is vacant\n");
}

TEST_F(ElectTest, WhoOnAHeldOfficePrintsTheHolderTextAndJson) {
  std::unique_ptr<ConchProcess> a = Elect("x", {}, Holder("a"));
  ASSERT_TRUE(d_.WaitFor("a.start", In(absl::Seconds(10))));
  const std::string rev(absl::StripAsciiWhitespace(*d_.Read("a.rev")));
  test::CommandResult text = Who("x");
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_THAT(text.out, AllOf(HasSubstr(absl::StrCat("\t", a->pid(), "\t20")),
                              HasSubstr("\t" + rev + "\n")));
  test::CommandResult json = Who("x", {"--json"});
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_THAT(json.out,
              AllOf(HasSubstr(absl::StrCat("\"pid\":", a->pid())),
                    HasSubstr("\"rev\":" + rev), HasSubstr("\"argv\":[\"sh\""),
                    HasSubstr("\"host\":"), HasSubstr("\"lease\":")));
  Release("a");
  EXPECT_EQ(a->ExitCode(In(absl::Seconds(10))), 0);
}

TEST_F(ElectTest, RevokedLeaseTermsThenKillsTheWholeGroupAndExits70) {
  // The child and its grandchild ignore SIGTERM (the child notes it).
  std::unique_ptr<ConchProcess> a =
      Elect("x", {"--kill-after", "500ms"},
            {"sh", "-c",
             absl::StrCat("trap 'echo term >> ", d_.Path("terms"), "' TERM; ",
                          "sh -c 'trap \"\" TERM; sleep 300' & echo $! > ",
                          d_.Path("gc"), "; echo up > ", d_.Path("up"),
                          "; while :; do sleep 0.02; done")});
  ASSERT_TRUE(d_.WaitFor("up", In(absl::Seconds(10))));
  const pid_t grandchild = static_cast<pid_t>(ParseNs(d_.Read("gc")));
  ASSERT_TRUE(ProcessAlive(grandchild));
  test::CommandResult who = Who("x", {"--json"});
  std::optional<int64_t> lease = FirstLease(who.out);
  ASSERT_TRUE(lease.has_value()) << who.out;

  // The wrapper may see the revoke before etcdctl returns, so the clock
  // starts before the call: TERM comes after it, KILL --kill-after later.
  const absl::Time before_revoke = absl::Now();
  ASSERT_TRUE(etcd().RevokeLease(*lease).ok());
  EXPECT_EQ(a->ExitCode(In(absl::Seconds(10))), 70) << a->Stderr();
  // SIGTERM came first (noted), SIGKILL after --kill-after.
  EXPECT_THAT(d_.Read("terms").value_or(""), HasSubstr("term"));
  EXPECT_GE(absl::Now() - before_revoke, absl::Milliseconds(500));
  EXPECT_THAT(a->Stderr(), HasSubstr("lease lost"));
  EXPECT_TRUE(test::PollUntil([&] { return !ProcessAlive(grandchild); },
                              In(absl::Seconds(2)))
                  .ok())
      << "grandchild " << grandchild << " survived";
}

TEST_F(ElectTest, SigkilledWrapperLosesItsGroupWithinASecond) {
  std::unique_ptr<ConchProcess> a =
      Elect("x", {"--ttl", "2s", "--kill-after", "500ms"},
            {"sh", "-c",
             absl::StrCat("sleep 300 & echo $! > ", d_.Path("gc"),
                          "; echo $$ > ", d_.Path("child"), "; wait")});
  ASSERT_TRUE(d_.WaitFor("child", In(absl::Seconds(10))));
  ASSERT_TRUE(d_.WaitFor("gc", In(absl::Seconds(10))));
  const pid_t child = static_cast<pid_t>(ParseNs(d_.Read("child")));
  const pid_t grandchild = static_cast<pid_t>(ParseNs(d_.Read("gc")));
  std::unique_ptr<ConchProcess> b =
      Elect("x", {"--ttl", "2s", "--kill-after", "500ms"}, Holder("b"));
  WaitForCandidates("x", 2);

  ASSERT_TRUE(a->Signal(SIGKILL).ok());
  const absl::Time killed = absl::Now();
  EXPECT_TRUE(
      test::PollUntil(
          [&] { return !ProcessAlive(child) && !ProcessAlive(grandchild); },
          killed + absl::Seconds(1))
          .ok())
      << "the child's group outlived the wrapper by more than 1 s";
  // The standby takes over once the lease expires: within the TTL.
  EXPECT_TRUE(d_.WaitFor("b.start",
                         killed + absl::Seconds(2) + absl::Milliseconds(500)));
  Release("b");
  EXPECT_EQ(b->ExitCode(In(absl::Seconds(10))), 0);
}

TEST_F(ElectTest, FrozenWrapperIsFusedByTheLeaseDeadlineAndExits70OnThaw) {
  std::unique_ptr<ConchProcess> a =
      Elect("x", {"--ttl", "2s", "--kill-after", "1s"},
            {"sh", "-c",
             absl::StrCat("trap 'date +%s%N > ", d_.Path("a.term"),
                          "; exit 0' TERM; date +%s%N > ", d_.Path("a.start"),
                          "; while :; do sleep 0.02; done")});
  ASSERT_TRUE(d_.WaitFor("a.start", In(absl::Seconds(10))));
  std::unique_ptr<ConchProcess> b =
      Elect("x", {"--ttl", "2s", "--kill-after", "500ms"}, Holder("b"));
  WaitForCandidates("x", 2);

  ASSERT_TRUE(a->Signal(SIGSTOP).ok());
  const int64_t stopped = NowNs();
  // The fuse stops the child ahead of the lease deadline (SIGTERM at
  // TTL - kill-after - 100 ms after the last keepalive answer's send),
  // without the frozen wrapper.
  ASSERT_TRUE(d_.WaitFor("a.term", In(absl::Seconds(4))));
  const int64_t term = ParseNs(d_.Read("a.term"));
  EXPECT_LE(absl::Nanoseconds(term - stopped),
            absl::Milliseconds(2000 - 1100 + 200));
  // The standby takes over only after that.
  ASSERT_TRUE(d_.WaitFor("b.start", In(absl::Seconds(5))));
  EXPECT_GE(ParseNs(d_.Read("b.start")), term);

  ASSERT_TRUE(a->Signal(SIGCONT).ok());
  EXPECT_EQ(a->ExitCode(In(absl::Seconds(10))), 70) << a->Stderr();
  Release("b");
  EXPECT_EQ(b->ExitCode(In(absl::Seconds(10))), 0);
}

TEST_F(ElectTest, NonblockWhileHeldExits75FastAndLeavesNothing) {
  std::unique_ptr<ConchProcess> a = Elect("x", {}, Holder("a"));
  ASSERT_TRUE(d_.WaitFor("a.start", In(absl::Seconds(10))));
  const absl::Time start = absl::Now();
  test::CommandResult r =
      RunConch({"elect", "x", "--nonblock", "--", "true"}, prefix_, etcd());
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(r.exit_code, 75) << r.DebugString();
  EXPECT_LT(took, Scaled(absl::Milliseconds(200)));
  EXPECT_THAT(OfficeKeys("x"), SizeIs(1));
  Release("a");
  EXPECT_EQ(a->ExitCode(In(absl::Seconds(10))), 0);
}

TEST_F(ElectTest, TimeoutWhileHeldExits75AfterTheTimeoutAndDeletesItsKey) {
  std::unique_ptr<ConchProcess> a = Elect("x", {}, Holder("a"));
  ASSERT_TRUE(d_.WaitFor("a.start", In(absl::Seconds(10))));
  const absl::Time start = absl::Now();
  test::CommandResult r = RunConch(
      {"elect", "x", "--timeout", "2s", "--", "true"}, prefix_, etcd());
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(r.exit_code, 75) << r.DebugString();
  EXPECT_GE(took, absl::Seconds(2));
  EXPECT_LT(took, absl::Seconds(3));
  EXPECT_THAT(OfficeKeys("x"), SizeIs(1));
  Release("a");
  EXPECT_EQ(a->ExitCode(In(absl::Seconds(10))), 0);
}

TEST_F(ElectTest, SigtermWhileWaitingExits143AndKeepsTheQueueOrder) {
  std::unique_ptr<ConchProcess> a = Elect("x", {}, Holder("a"));
  ASSERT_TRUE(d_.WaitFor("a.start", In(absl::Seconds(10))));
  std::unique_ptr<ConchProcess> b = Elect("x", {}, Holder("b"));
  WaitForCandidates("x", 2);
  std::unique_ptr<ConchProcess> c = Elect("x", {}, Holder("c"));
  WaitForCandidates("x", 3);

  ASSERT_TRUE(b->Signal(SIGTERM).ok());
  EXPECT_EQ(b->ExitCode(In(absl::Seconds(10))), 143);
  WaitForCandidates("x", 2);
  Release("a");
  EXPECT_EQ(a->ExitCode(In(absl::Seconds(10))), 0);
  ASSERT_TRUE(d_.WaitFor("c.start", In(absl::Seconds(10))));
  EXPECT_FALSE(d_.Exists("b.start"));
  Release("c");
  EXPECT_EQ(c->ExitCode(In(absl::Seconds(10))), 0);
}

TEST_F(ElectTest, RestartBacksOffOneTwoFourSecondsWhileKeepingTheOffice) {
  std::unique_ptr<ConchProcess> a = Elect(
      "x", {"--restart"},
      {"sh", "-c",
       absl::StrCat("date +%s%N >> ", d_.Path("starts"),
                    "; echo $CONCH_REV >> ", d_.Path("revs"), "; exit 1")});
  ASSERT_TRUE(
      test::PollUntil([&] { return ParseLines(d_.Read("starts")).size() >= 4; },
                      In(absl::Seconds(15)))
          .ok());
  // The office stays ours between runs.
  EXPECT_EQ(Who("x").exit_code, 0);
  ASSERT_TRUE(a->Signal(SIGTERM).ok());
  // Waiting in backoff: 143; if the signal met a child that was just
  // exiting with 1, that child's code (a stop signal ends --restart).
  EXPECT_THAT(a->ExitCode(In(absl::Seconds(10))), ::testing::AnyOf(143, 1));
  EXPECT_TRUE(OfficeKeys("x").empty());

  std::vector<int64_t> starts = ParseLines(d_.Read("starts"));
  const double want[] = {1, 2, 4};
  for (int i = 0; i < 3; ++i) {
    const double gap = (starts[i + 1] - starts[i]) / 1e9;
    EXPECT_GE(gap, want[i] * 0.8) << "gap " << i;
    EXPECT_LE(gap, want[i] * 1.2 + 0.3) << "gap " << i;
  }
  // Each restart is said at the default log level (a crash loop is not
  // silent), with its delay (jittered) in whole milliseconds.
  const std::string err = a->Stderr();
  int restarts = 0;
  for (size_t at = err.find("; restarting in "); at != std::string::npos;
       at = err.find("; restarting in ", at + 1)) {
    ++restarts;
  }
  EXPECT_GE(restarts, 3) << err;
  EXPECT_THAT(
      err, ::testing::ContainsRegex("warn: child exited with 1; restarting in "
                                    "[0-9]+(\\.[0-9]{1,3})?m?s\n"))
      << err;
  std::vector<int64_t> revs = ParseLines(d_.Read("revs"));
  ASSERT_GE(revs.size(), 4u);
  EXPECT_EQ(std::count(revs.begin(), revs.end(), revs[0]),
            static_cast<long>(revs.size()));
}

TEST_F(ElectTest, RestartBackoffResetsAfterAStableRun) {
  // Run 1 fails at once; run 2 runs 1.7 s (> --restart-reset 1.5s) and
  // fails; so the wait before run 3 is back to ~1 s, not ~2 s.
  std::unique_ptr<ConchProcess> a = Elect(
      "x", {"--restart", "--restart-reset", "1500ms"},
      {"sh", "-c",
       absl::StrCat("n=$(cat ", d_.Path("count"), " 2>/dev/null || echo 0); ",
                    "n=$((n+1)); echo $n > ", d_.Path("count"), "; ",
                    "date +%s%N >> ", d_.Path("starts"), "; ",
                    "if [ $n -eq 2 ]; then sleep 1.7; fi; ", "date +%s%N >> ",
                    d_.Path("ends"), "; exit 1")});
  ASSERT_TRUE(
      test::PollUntil([&] { return ParseLines(d_.Read("starts")).size() >= 3; },
                      In(absl::Seconds(15)))
          .ok());
  ASSERT_TRUE(a->Signal(SIGTERM).ok());
  EXPECT_THAT(a->ExitCode(In(absl::Seconds(10))),
              ::testing::AnyOf(143, 1));  // as above
  std::vector<int64_t> starts = ParseLines(d_.Read("starts"));
  std::vector<int64_t> ends = ParseLines(d_.Read("ends"));
  ASSERT_GE(ends.size(), 2u);
  const double wait = (starts[2] - ends[1]) / 1e9;
  EXPECT_GE(wait, 0.8);
  EXPECT_LE(wait, 1.5) << "backoff was not reset after a stable run";
}

TEST_F(ElectTest, RestartCampaignsAgainAfterALostLease) {
  std::unique_ptr<ConchProcess> a =
      Elect("x", {"--restart", "--kill-after", "500ms"},
            {"sh", "-c",
             absl::StrCat("echo $CONCH_REV >> ", d_.Path("revs"),
                          "; while :; do sleep 0.02; done")});
  ASSERT_TRUE(
      test::PollUntil([&] { return ParseLines(d_.Read("revs")).size() == 1; },
                      In(absl::Seconds(10)))
          .ok());
  test::CommandResult who = Who("x", {"--json"});
  std::optional<int64_t> lease = FirstLease(who.out);
  ASSERT_TRUE(lease.has_value()) << who.out;
  ASSERT_TRUE(etcd().RevokeLease(*lease).ok());
  // Stopped, then re-elected with a new, larger fencing token.
  ASSERT_TRUE(
      test::PollUntil([&] { return ParseLines(d_.Read("revs")).size() == 2; },
                      In(absl::Seconds(10)))
          .ok())
      << a->Stderr();
  std::vector<int64_t> revs = ParseLines(d_.Read("revs"));
  EXPECT_GT(revs[1], revs[0]);
  EXPECT_TRUE(a->Running());
  ASSERT_TRUE(a->Signal(SIGTERM).ok());
  EXPECT_EQ(a->ExitCode(In(absl::Seconds(10))), 143);
}

TEST_F(ElectTest, NamesWithSlashSpacesAndUnicodeStayInTheirOwnOffice) {
  const std::string name = "a/b c \xC3\xA9";
  std::unique_ptr<ConchProcess> a = Elect(name, {}, Holder("a"));
  ASSERT_TRUE(d_.WaitFor("a.start", In(absl::Seconds(10))));
  // CONCH_NAME is the name as given; the key holds it percent-encoded.
  std::vector<std::string> env = absl::StrSplit(
      absl::StripTrailingAsciiWhitespace(*d_.Read("a.env")), '|');
  ASSERT_THAT(env, SizeIs(2));
  EXPECT_EQ(env[0], name);
  EXPECT_THAT(KeysUnder(etcd(), prefix_),
              ::testing::ElementsAre(
                  absl::StrCat(prefix_, "elect/a%2Fb%20c%20%C3%A9/", env[1])));
  EXPECT_EQ(Who(name).exit_code, 0);
  EXPECT_EQ(Who("a").exit_code, 1);
  EXPECT_EQ(Who("a/b c").exit_code, 1);
  // Another office whose name is a prefix of it is not blocked by it.
  test::CommandResult other =
      RunConch({"elect", "a/b", "--nonblock", "--", "true"}, prefix_, etcd());
  EXPECT_EQ(other.exit_code, 0) << other.DebugString();
  Release("a");
  EXPECT_EQ(a->ExitCode(In(absl::Seconds(10))), 0);
}

TEST_F(ElectTest, WhoWatchPrintsEachNewLeader) {
  std::unique_ptr<ConchProcess> watch =
      ConchProcess::Start({"elect", "x", "--who", "--watch"}, prefix_, etcd());
  ASSERT_TRUE(
      test::PollUntil(
          [&] { return absl::EndsWith(watch->Stdout(), "): vacant\n"); },
          In(absl::Seconds(10)))
          .ok());
  std::unique_ptr<ConchProcess> a = Elect("x", {}, Holder("a"));
  ASSERT_TRUE(d_.WaitFor("a.start", In(absl::Seconds(10))));
  std::unique_ptr<ConchProcess> b = Elect("x", {}, Holder("b"));
  WaitForCandidates("x", 2);
  Release("a");
  ASSERT_TRUE(d_.WaitFor("b.start", In(absl::Seconds(10))));
  Release("b");
  EXPECT_EQ(b->ExitCode(In(absl::Seconds(10))), 0);
  // Vacant, a, a with b standing by, b, vacant: each change a block that
  // starts with "TIME office x (rev R):".
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    std::vector<std::string> lines = absl::StrSplit(
                        watch->Stdout(), '\n', absl::SkipEmpty());
                    return lines.size() >= 5 &&
                           absl::EndsWith(lines.back(), "): vacant");
                  },
                  In(absl::Seconds(10)))
                  .ok())
      << watch->Stdout();
  const std::string out = watch->Stdout();
  const size_t a_leads =
      out.find(absl::StrCat("leader\t-\t", HostName(), "\t", a->pid(), "\t"));
  const size_t b_leads =
      out.find(absl::StrCat("leader\t-\t", HostName(), "\t", b->pid(), "\t"));
  const size_t b_stands_by =
      out.find(absl::StrCat("standby\t1\t", HostName(), "\t", b->pid(), "\t"));
  ASSERT_NE(a_leads, std::string::npos) << out;
  ASSERT_NE(b_leads, std::string::npos) << out;
  EXPECT_LT(a_leads, b_stands_by) << out;
  EXPECT_LT(b_stands_by, b_leads) << out;
  EXPECT_THAT(out, HasSubstr(" office x (rev ")) << out;
  ASSERT_TRUE(watch->Signal(SIGTERM).ok());
  EXPECT_EQ(watch->ExitCode(In(absl::Seconds(10))), 0);
}

TEST_F(ElectTest, OnATerminalTheChildIsTheForegroundGroupUntilItExits) {
  // script(1) runs a shell on a fresh pseudo-terminal. Inside, the child
  // reports its process group and the terminal's foreground group; after
  // conch exits, the shell reports the foreground group again.
  const std::string conch = absl::StrCat(
      kConchBinary, " elect tty --endpoints ", etcd().endpoint(), " --prefix ",
      prefix_, " -- sh -c 'echo child $(ps -o pgid= -p $$) ",
      "$(ps -o tpgid= -p $$)'");
  const std::string shell = absl::StrCat(
      conch, "; echo shell $(ps -o pgid= -p $$) $(ps -o tpgid= -p $$)");
  absl::StatusOr<test::CommandResult> r = test::RunCommand(
      {"script", "-qec", shell, "/dev/null"}, absl::Seconds(30));
  ASSERT_TRUE(r.ok()) << r.status();
  std::map<std::string, std::pair<std::string, std::string>> seen;
  for (absl::string_view line : absl::StrSplit(r->out, '\n')) {
    std::vector<std::string> f = absl::StrSplit(
        absl::StripAsciiWhitespace(line), ' ', absl::SkipEmpty());
    if (f.size() == 3) seen[f[0]] = {f[1], f[2]};
  }
  ASSERT_TRUE(seen.count("child") && seen.count("shell")) << r->out;
  // The child's group owns the terminal (Ctrl-C, Ctrl-Z reach it) …
  EXPECT_EQ(seen["child"].first, seen["child"].second) << r->out;
  EXPECT_NE(seen["child"].first, seen["shell"].first) << r->out;
  // … and the terminal is given back afterwards.
  EXPECT_EQ(seen["shell"].first, seen["shell"].second) << r->out;
}

TEST_F(ElectTest, UnrunnableCommandsExit127Or126BeforeAcquiring) {
  test::CommandResult missing =
      RunConch({"elect", "x", "--", "no-such-command-xyz"}, prefix_, etcd());
  EXPECT_EQ(missing.exit_code, 127) << missing.DebugString();
  ASSERT_TRUE(test::WriteFile(d_.Path("plain"), "text").ok());
  test::CommandResult denied =
      RunConch({"elect", "x", "--", d_.Path("plain")}, prefix_, etcd());
  EXPECT_EQ(denied.exit_code, 126) << denied.DebugString();
  EXPECT_TRUE(KeysUnder(etcd(), prefix_).empty());
}

TEST_F(ElectTest, BadInputExits64WithOneLineAndWritesNothing) {
  const std::vector<std::vector<std::string>> cases = {
      {"elect", "", "--", "true"},
      {"elect", std::string(257, 'n'), "--", "true"},
      {"elect", "x"},
      {"elect", "x", "--timeout", "soon", "--", "true"},
      {"elect", "x", "--timeout", "1s", "--nonblock", "--", "true"},
      {"elect", "x", "--watch", "--", "true"},
      {"elect", "x", "--who", "--", "true"},
      {"elect", "x", "--restart-reset", "0s", "--", "true"},
  };
  for (const auto& args : cases) {
    test::CommandResult r = RunConch(args, prefix_, etcd());
    EXPECT_EQ(r.exit_code, 64) << r.DebugString();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1)
        << r.DebugString();
  }
  EXPECT_TRUE(KeysUnder(etcd(), prefix_).empty());
}

}  // namespace
}  // namespace conch
