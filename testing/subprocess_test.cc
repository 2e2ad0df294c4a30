#include "testing/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/files.h"
#include "testing/poll.h"

namespace conch::test {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kTimeout = absl::Seconds(20);

absl::Time Deadline() { return absl::Now() + kTimeout; }

// The one-letter state from /proc/<pid>/stat ('R', 'S', 'T', 'Z', ...), or
// '\0' once the process is gone entirely.
char ProcState(pid_t pid) {
  absl::StatusOr<std::string> stat =
      ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) return '\0';
  // The command name is in parentheses and may contain spaces.
  size_t close = stat->rfind(')');
  if (close == std::string::npos || close + 2 >= stat->size()) return '\0';
  return (*stat)[close + 2];
}

bool Gone(pid_t pid) {
  char state = ProcState(pid);
  return state == '\0' || state == 'Z' || state == 'X';
}

std::unique_ptr<Subprocess> StartOrDie(const SubprocessOptions& options) {
  absl::StatusOr<std::unique_ptr<Subprocess>> child =
      Subprocess::Start(options);
  EXPECT_TRUE(child.ok()) << child.status();
  return child.ok() ? std::move(*child) : nullptr;
}

TEST(SubprocessTest, ReportsExitCode) {
  SubprocessOptions options;
  options.argv = {"sh", "-c", "exit 3"};
  auto child = StartOrDie(options);
  ASSERT_NE(child, nullptr);
  absl::StatusOr<int> status = child->Wait(Deadline());
  ASSERT_TRUE(status.ok()) << status.status();
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 3);
  EXPECT_FALSE(child->Running());
  EXPECT_EQ(DescribeWaitStatus(*status), "exited with code 3");
  // Waiting again returns the same status.
  absl::StatusOr<int> again = child->Wait(absl::InfinitePast());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *status);
  EXPECT_EQ(child->Signal(SIGTERM).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(SubprocessTest, MissingProgramIsNotFound) {
  SubprocessOptions options;
  options.argv = {"conch-no-such-program-anywhere"};
  EXPECT_EQ(Subprocess::Start(options).status().code(),
            absl::StatusCode::kNotFound);
  options.argv = {"/nonexistent/bin/tool"};
  EXPECT_EQ(Subprocess::Start(options).status().code(),
            absl::StatusCode::kNotFound);
  options.argv = {};
  EXPECT_EQ(Subprocess::Start(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SubprocessTest, UnwritableRedirectIsReportedByStart) {
  SubprocessOptions options;
  options.argv = {"true"};
  options.stdout_path = "/nonexistent/dir/out.log";
  absl::StatusOr<std::unique_ptr<Subprocess>> child =
      Subprocess::Start(options);
  ASSERT_FALSE(child.ok());
  EXPECT_THAT(child.status().message(), HasSubstr("redirecting stdout"));
}

TEST(SubprocessTest, SignalTerminatesChild) {
  SubprocessOptions options;
  options.argv = {"sleep", "1000"};
  auto child = StartOrDie(options);
  ASSERT_NE(child, nullptr);
  EXPECT_TRUE(child->Running());
  ASSERT_TRUE(child->Signal(SIGTERM).ok());
  absl::StatusOr<int> status = child->Wait(Deadline());
  ASSERT_TRUE(status.ok()) << status.status();
  ASSERT_TRUE(WIFSIGNALED(*status)) << DescribeWaitStatus(*status);
  EXPECT_EQ(WTERMSIG(*status), SIGTERM);
}

TEST(SubprocessTest, WaitHonorsDeadline) {
  SubprocessOptions options;
  options.argv = {"sleep", "1000"};
  auto child = StartOrDie(options);
  ASSERT_NE(child, nullptr);
  const absl::Time start = absl::Now();
  absl::StatusOr<int> status = child->Wait(start + absl::Milliseconds(100));
  EXPECT_EQ(status.status().code(), absl::StatusCode::kDeadlineExceeded);
  const absl::Duration waited = absl::Now() - start;
  EXPECT_GE(waited, absl::Milliseconds(100));
  EXPECT_LT(waited, absl::Seconds(10));
  EXPECT_TRUE(child->Running());
}

TEST(SubprocessTest, StoppedChildIsStillRunningUntilContinued) {
  SubprocessOptions options;
  options.argv = {"sleep", "1000"};
  auto child = StartOrDie(options);
  ASSERT_NE(child, nullptr);
  const pid_t pid = child->pid();
  ASSERT_TRUE(child->Signal(SIGSTOP).ok());
  ASSERT_TRUE(
      PollUntil([pid] { return ProcState(pid) == 'T'; }, Deadline()).ok());
  EXPECT_TRUE(child->Running());
  ASSERT_TRUE(child->Signal(SIGCONT).ok());
  ASSERT_TRUE(
      PollUntil([pid] { return ProcState(pid) != 'T'; }, Deadline()).ok());
  EXPECT_TRUE(child->Running());
}

TEST(SubprocessTest, SignalGroupReachesGrandchildren) {
  absl::StatusOr<std::string> dir = MakeTempDir("subprocess-test-");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string pid_file = *dir + "/grandchild.pid";
  SubprocessOptions options;
  options.argv = {"sh", "-c",
                  absl::StrCat("sleep 1000 & echo $! > ", pid_file, ".tmp && ",
                               "mv ", pid_file, ".tmp ", pid_file, "; wait")};
  options.own_process_group = true;
  auto child = StartOrDie(options);
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(
      PollUntil([&] { return ReadFile(pid_file).ok(); }, Deadline()).ok());
  int grandchild = 0;
  ASSERT_TRUE(absl::SimpleAtoi(
      absl::StripAsciiWhitespace(ReadFile(pid_file).value()), &grandchild));
  EXPECT_EQ(getpgid(grandchild), child->pid());

  ASSERT_TRUE(child->SignalGroup(SIGKILL).ok());
  absl::StatusOr<int> status = child->Wait(Deadline());
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFSIGNALED(*status));
  EXPECT_TRUE(PollUntil([&] { return Gone(grandchild); }, Deadline()).ok())
      << "grandchild " << grandchild << " survived the group kill";
  EXPECT_TRUE(RemoveTree(*dir).ok());
}

TEST(SubprocessTest, SignalGroupRequiresOwnGroup) {
  SubprocessOptions options;
  options.argv = {"sleep", "1000"};
  auto child = StartOrDie(options);
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->SignalGroup(SIGTERM).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(SubprocessTest, DestructorKillsAndReaps) {
  pid_t pid = 0;
  {
    SubprocessOptions options;
    options.argv = {"sleep", "1000"};
    auto child = StartOrDie(options);
    ASSERT_NE(child, nullptr);
    pid = child->pid();
    ASSERT_NE(ProcState(pid), '\0');
  }
  // Reaped by the destructor: not even a zombie is left.
  EXPECT_EQ(ProcState(pid), '\0');
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), -1);
}

TEST(SubprocessTest, RedirectsBothStreamsToOneFileAndAppends) {
  absl::StatusOr<std::string> dir = MakeTempDir("subprocess-test-");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string log = *dir + "/log";
  ASSERT_TRUE(WriteFile(log, "before\n").ok());
  SubprocessOptions options;
  options.argv = {"sh", "-c", "echo out; echo err >&2"};
  options.stdout_path = log;
  options.stderr_path = log;
  auto child = StartOrDie(options);
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(child->Wait(Deadline()).ok());
  EXPECT_EQ(ReadFile(log).value_or(""), "before\nout\nerr\n");
  EXPECT_TRUE(RemoveTree(*dir).ok());
}

TEST(SubprocessTest, ChildDoesNotInheritDescriptors) {
  int fd = open("/dev/null", O_RDONLY);  // Deliberately not O_CLOEXEC.
  ASSERT_GE(fd, 0);
  int high = dup2(fd, 57);
  ASSERT_EQ(high, 57);
  absl::StatusOr<CommandResult> r =
      RunCommand({"sh", "-c", "test -e /proc/self/fd/57"}, kTimeout);
  close(fd);
  close(high);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 1) << "fd 57 leaked into the child";
}

TEST(RunCommandTest, CapturesStdoutStderrAndExitCodeSeparately) {
  absl::StatusOr<CommandResult> r = RunCommand(
      {"sh", "-c", "echo to-out; echo to-err >&2; exit 2"}, kTimeout);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->out, "to-out\n");
  EXPECT_EQ(r->err, "to-err\n");
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_FALSE(r->Succeeded());
  EXPECT_THAT(r->DebugString(), HasSubstr("exited with code 2"));
}

TEST(RunCommandTest, AddsEnvironmentAndReadsEmptyStdin) {
  absl::StatusOr<CommandResult> r =
      RunCommand({"sh", "-c", "printf '%s|' \"$CONCH_X\" \"$HOME\"; cat"},
                 kTimeout, {{"CONCH_X", "a b"}, {"HOME", "/override"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->Succeeded()) << r->DebugString();
  EXPECT_EQ(r->out, "a b|/override|");
}

TEST(RunCommandTest, ReportsSignalDeath) {
  absl::StatusOr<CommandResult> r =
      RunCommand({"sh", "-c", "kill -9 $$"}, kTimeout);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, -1);
  ASSERT_TRUE(WIFSIGNALED(r->wait_status));
  EXPECT_EQ(WTERMSIG(r->wait_status), SIGKILL);
}

TEST(RunCommandTest, TimesOutAndKillsTheCommand) {
  const absl::Time start = absl::Now();
  absl::StatusOr<CommandResult> r = RunCommand(
      {"sh", "-c", "echo started; sleep 1000"}, absl::Milliseconds(300));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(r.status().message(), HasSubstr("started"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

}  // namespace
}  // namespace conch::test
