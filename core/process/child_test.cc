#include "core/process/child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/files.h"
#include "testing/poll.h"
#include "testing/subprocess.h"

namespace conch {
namespace {

using ::testing::HasSubstr;

// Waits for the child with a deadline; returns its wait status.
int WaitFor(Child& child, absl::Duration timeout) {
  int status = 0;
  const absl::Status s = test::PollUntil(
      [&] { return waitpid(child.pid(), &status, WNOHANG) == child.pid(); },
      absl::Now() + timeout);
  EXPECT_TRUE(s.ok()) << s;
  return status;
}

TEST(ResolveCommandTest, FindsCommandsInPath) {
  absl::StatusOr<std::string> sh = ResolveCommand("sh");
  ASSERT_TRUE(sh.ok()) << sh.status();
  EXPECT_EQ(access(sh->c_str(), X_OK), 0);
  EXPECT_TRUE(ResolveCommand("/bin/sh").ok());
}

TEST(ResolveCommandTest, MissingIs127AndNotExecutableIs126) {
  absl::StatusOr<std::string> missing = ResolveCommand("no-such-command-xyz");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(ExitCodeForCommand(missing.status()), 127);
  EXPECT_THAT(missing.status().message(), HasSubstr("not found"));

  absl::StatusOr<std::string> dir = test::MakeTempDir("child-test");
  ASSERT_TRUE(dir.ok());
  const std::string plain = *dir + "/plain.txt";
  ASSERT_TRUE(test::WriteFile(plain, "not a program").ok());
  chmod(plain.c_str(), 0644);
  absl::StatusOr<std::string> denied = ResolveCommand(plain);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(ExitCodeForCommand(denied.status()), 126);
  absl::StatusOr<std::string> directory = ResolveCommand(*dir);
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(ExitCodeForCommand(directory.status()), 126);
  test::RemoveTree(*dir).IgnoreError();
}

TEST(ExitCodeFromWaitStatusTest, ExitCodesAndSignals) {
  EXPECT_EQ(ExitCodeFromWaitStatus(3 << 8), 3);
  EXPECT_EQ(ExitCodeFromWaitStatus(SIGTERM), 128 + SIGTERM);
  EXPECT_EQ(ExitCodeFromWaitStatus(SIGKILL), 137);
}

// Reads `fd` to EOF, then closes it.
std::string ReadAllAndClose(int fd) {
  std::string got;
  char buf[256];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) got.append(buf, n);
  close(fd);
  return got;
}

TEST(ChildTest, RunsInItsOwnGroupWithTheGivenEnvironment) {
  absl::StatusOr<std::string> dir = test::MakeTempDir("child-test");
  ASSERT_TRUE(dir.ok());
  const std::string out = *dir + "/out";
  ChildSpec spec;
  spec.path = "/bin/sh";
  spec.argv = {
      "sh", "-c",
      absl::StrCat("echo \"$CONCH_REV $(ps -o pgid= -p $$ | tr -d ' ')\" > ",
                   out, "; exit 3")};
  spec.env = {{"CONCH_REV", "42"}};
  spec.take_terminal = false;
  absl::StatusOr<std::unique_ptr<Child>> child = Child::Spawn(spec);
  ASSERT_TRUE(child.ok()) << child.status();
  const int status = WaitFor(**child, absl::Seconds(10));
  EXPECT_EQ(ExitCodeFromWaitStatus(status), 3);
  absl::StatusOr<std::string> text = test::ReadFile(out);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, absl::StrCat("42 ", (*child)->pgid(), "\n"));
  EXPECT_EQ((*child)->pgid(), (*child)->pid());
  test::RemoveTree(*dir).IgnoreError();
}

// spec.env overrides the parent's entry of the same name (one entry, the
// new value) and adds the rest; the parent's other entries pass through.
// Both spawn paths (with and without PDEATHSIG) build the same environment.
TEST(ChildTest, EnvironmentOverridesAndKeepsTheParents) {
  ASSERT_EQ(setenv("CONCH_REV", "old", 1), 0);
  ASSERT_EQ(setenv("CONCH_CHILD_TEST_KEEP", "kept", 1), 0);
  for (const bool die_with_parent : {true, false}) {
    SCOPED_TRACE(die_with_parent ? "with PDEATHSIG" : "without PDEATHSIG");
    absl::StatusOr<std::string> dir = test::MakeTempDir("child-test");
    ASSERT_TRUE(dir.ok());
    const std::string out = *dir + "/out";
    ChildSpec spec;
    spec.path = "/bin/sh";
    spec.argv = {
        "sh", "-c",
        absl::StrCat("{ env | grep -c '^CONCH_REV='; echo \"$CONCH_REV "
                     "$CONCH_CHILD_TEST_KEEP $CONCH_ADDED\"; } > ",
                     out)};
    spec.env = {{"CONCH_REV", "7"}, {"CONCH_ADDED", "new"}};
    spec.take_terminal = false;
    spec.die_with_parent = die_with_parent;
    absl::StatusOr<std::unique_ptr<Child>> child = Child::Spawn(spec);
    ASSERT_TRUE(child.ok()) << child.status();
    EXPECT_EQ(ExitCodeFromWaitStatus(WaitFor(**child, absl::Seconds(10))), 0);
    absl::StatusOr<std::string> text = test::ReadFile(out);
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(*text, "1\n7 kept new\n");
    test::RemoveTree(*dir).IgnoreError();
  }
  unsetenv("CONCH_REV");
  unsetenv("CONCH_CHILD_TEST_KEEP");
}

TEST(ChildTest, SignalGroupReachesGrandchildren) {
  ChildSpec spec;
  spec.path = "/bin/sh";
  // The grandchild ignores nothing; the shell waits for it.
  spec.argv = {"sh", "-c", "sleep 300 & wait"};
  spec.take_terminal = false;
  absl::StatusOr<std::unique_ptr<Child>> child = Child::Spawn(spec);
  ASSERT_TRUE(child.ok()) << child.status();
  Child& c = **child;
  // Wait until the grandchild exists in the group.
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    absl::StatusOr<test::CommandResult> r = test::RunCommand(
                        {"pgrep", "-g", absl::StrCat(c.pgid())},
                        absl::Seconds(5));
                    return r.ok() &&
                           std::count(r->out.begin(), r->out.end(), '\n') >= 2;
                  },
                  absl::Now() + absl::Seconds(10))
                  .ok());
  c.SignalGroup(SIGTERM);
  WaitFor(c, absl::Seconds(10));
  EXPECT_TRUE(test::PollUntil([&] { return !c.GroupAlive(); },
                              absl::Now() + absl::Seconds(10))
                  .ok());
}

TEST(ChildTest, OutputFdCapturesStdoutAndStderrAndStdinIsEmpty) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  ChildSpec spec;
  spec.path = "/bin/sh";
  spec.argv = {"sh", "-c", "echo out; echo err >&2; cat; echo done"};
  spec.take_terminal = false;
  spec.output_fd = fds[1];
  absl::StatusOr<std::unique_ptr<Child>> child = Child::Spawn(spec);
  close(fds[1]);
  ASSERT_TRUE(child.ok()) << child.status();
  const std::string got = ReadAllAndClose(fds[0]);
  EXPECT_EQ(ExitCodeFromWaitStatus(WaitFor(**child, absl::Seconds(10))), 0);
  // `cat` read EOF from /dev/null at once instead of the test's stdin.
  EXPECT_EQ(got, "out\nerr\ndone\n");
}

TEST(ChildTest, ChildWithoutPdeathsigLeadsItsGroupWithDefaultSignals) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  ChildSpec spec;
  spec.path = "/bin/sh";
  // Prints its pgid, its env var, and whether SIGINT is ignored (it must
  // not be: the parent's dispositions are reset).
  spec.argv = {"sh", "-c",
               "echo $(ps -o pgid= -p $$ | tr -d ' ') $CONCH_REV; "
               "grep SigIgn /proc/$$/status; cat"};
  spec.env = {{"CONCH_REV", "9"}};
  spec.take_terminal = false;
  spec.output_fd = fds[1];
  spec.die_with_parent = false;
  absl::StatusOr<std::unique_ptr<Child>> child = Child::Spawn(spec);
  close(fds[1]);
  ASSERT_TRUE(child.ok()) << child.status();
  const std::string got = ReadAllAndClose(fds[0]);
  EXPECT_EQ(ExitCodeFromWaitStatus(WaitFor(**child, absl::Seconds(10))), 0);
  EXPECT_THAT(got, HasSubstr(absl::StrCat((*child)->pid(), " 9\n")));
  // No standard signal ignored (glibc keeps its internal ones, 32 and 33).
  const size_t at = got.find("SigIgn:\t");
  ASSERT_NE(at, std::string::npos) << got;
  uint64_t ignored = 0;
  ASSERT_TRUE(absl::SimpleHexAtoi(got.substr(at + 8, 16), &ignored)) << got;
  EXPECT_EQ(ignored & 0x7fffffffu, 0u) << got;

  spec.path = "/nonexistent/program";
  spec.output_fd = -1;  // closed above
  absl::StatusOr<std::unique_ptr<Child>> missing = Child::Spawn(spec);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(ExitCodeForCommand(missing.status()), 127) << missing.status();
}

// ChildSpec::nice is the child's nice value by the time Spawn returns; the
// caller's own stays as it was, and a child without it gets the caller's.
TEST(ChildTest, NiceIsSetBeforeSpawnReturns) {
  errno = 0;
  const int own = getpriority(PRIO_PROCESS, 0);
  ASSERT_EQ(errno, 0);
  const int want = std::min(19, own + 3);
  ASSERT_NE(want, own) << "the test runs at nice 19 already";
  ChildSpec spec;
  spec.path = "/bin/sh";
  spec.argv = {"sh", "-c", "sleep 300"};
  spec.take_terminal = false;
  spec.nice = want;
  absl::StatusOr<std::unique_ptr<Child>> niced = Child::Spawn(spec);
  ASSERT_TRUE(niced.ok()) << niced.status();
  spec.nice.reset();
  absl::StatusOr<std::unique_ptr<Child>> plain = Child::Spawn(spec);
  ASSERT_TRUE(plain.ok()) << plain.status();

  EXPECT_EQ((*niced)->nice_errno(), 0);
  errno = 0;
  EXPECT_EQ(getpriority(PRIO_PROCESS, (*niced)->pid()), want);
  EXPECT_EQ(getpriority(PRIO_PROCESS, (*plain)->pid()), own);
  EXPECT_EQ(getpriority(PRIO_PROCESS, 0), own);
  EXPECT_EQ(errno, 0);
  for (Child* c : {niced->get(), plain->get()}) {
    c->SignalGroup(SIGKILL);
    EXPECT_TRUE(WIFSIGNALED(WaitFor(*c, absl::Seconds(10))));
  }
}

TEST(ChildTest, ExecFailureIsReportedBySpawn) {
  ChildSpec spec;
  spec.path = "/nonexistent/program";
  spec.argv = {"program"};
  spec.take_terminal = false;
  absl::StatusOr<std::unique_ptr<Child>> child = Child::Spawn(spec);
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(ExitCodeForCommand(child.status()), 127);
}

}  // namespace
}  // namespace conch
