// Job control, tried as a person at a terminal would: an interactive bash
// on a real pseudo-terminal (testing/pty_shell.h) runs conch in the
// foreground; Ctrl-Z, `jobs`, `fg`, Ctrl-C and Ctrl-\ are typed keys, and
// what is checked is what the person would see (the prompt, the job's
// state, the exit status) plus what etcd holds. One test needs no
// terminal: SIGTERM to conch while its child is stopped.
#include <signal.h>
#include <stdlib.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "conch/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/etcd_env.h"
#include "testing/poll.h"
#include "testing/pty_shell.h"

namespace conch {
namespace {

using test::PtyShell;
using ::testing::HasSubstr;

absl::Time In(absl::Duration d) { return absl::Now() + d; }

class JobControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prefix_ = test::UniquePrefix();
    absl::StatusOr<std::unique_ptr<PtyShell>> sh = PtyShell::Start({});
    ASSERT_TRUE(sh.ok()) << sh.status();
    shell_ = *std::move(sh);
  }

  test::EtcdServer& etcd() { return test::SharedEtcd(); }

  // `conch elect NAME FLAGS -- sh -c 'echo $$ > pid; exec cat'` as typed.
  std::string ElectCat(const std::string& flags) {
    return absl::StrCat(ConchPath(), " elect jc --endpoints ",
                        etcd().endpoint(), " --prefix ", prefix_, " ", flags,
                        " -- sh -c 'echo $$ > ", d_.Path("pid"), "; exec cat'");
  }

  // The child's pid, once it has started.
  pid_t ChildPid() {
    std::optional<std::string> text = d_.WaitFor("pid", In(absl::Seconds(10)));
    int pid = 0;
    EXPECT_TRUE(text.has_value() &&
                absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &pid))
        << text.value_or("(no pid file)")
        << "; the terminal showed: " << shell_->screen();
    return pid;
  }

  // Types a line and waits for cat to have printed it back: the terminal
  // echoes it once, cat prints it again (other lines, such as the command
  // line bash prints on `fg`, may come between).
  void ThroughCat(const std::string& line) {
    shell_->Mark();
    ASSERT_TRUE(shell_->Type(line + "\n").ok());
    const std::string text = line + "\n";
    ASSERT_TRUE(shell_->WaitFor(text, In(absl::Seconds(10))).ok());
    shell_->MarkPast(text);
    ASSERT_TRUE(shell_->WaitFor(text, In(absl::Seconds(10))).ok())
        << "cat did not print it: " << shell_->SinceMark();
  }

  // Ctrl-Z: the prompt must come back with the job reported stopped.
  void Suspend() {
    shell_->Mark();
    ASSERT_TRUE(shell_->Type(PtyShell::kCtrlZ).ok());
    ASSERT_TRUE(shell_->WaitFor("Stopped", In(absl::Seconds(5))).ok())
        << "no job stopped: " << shell_->SinceMark();
    ASSERT_TRUE(shell_->WaitForPrompt(In(absl::Seconds(5))).ok());
    absl::StatusOr<std::string> jobs =
        shell_->Run("jobs", In(absl::Seconds(5)));
    ASSERT_TRUE(jobs.ok()) << jobs.status();
    EXPECT_THAT(*jobs, HasSubstr("Stopped"));
    EXPECT_THAT(*jobs, HasSubstr("elect jc"));
  }

  // The exit status of the last foreground job, once the prompt is back.
  std::string LastStatus() {
    EXPECT_TRUE(shell_->WaitForPrompt(In(absl::Seconds(10))).ok())
        << shell_->SinceMark();
    absl::StatusOr<std::string> code =
        shell_->Run("echo status=$?", In(absl::Seconds(5)));
    EXPECT_TRUE(code.ok()) << code.status();
    return code.ok() ? std::string(absl::StripAsciiWhitespace(*code)) : "";
  }

  std::string prefix_;
  Scratch d_;
  std::unique_ptr<PtyShell> shell_;
};

// Ctrl-Z stops the child and conch (the prompt returns), the office is
// still held, `fg` gives the terminal back to the child, and Ctrl-C then
// reaches the child like any foreground job's.
TEST_F(JobControlTest, CtrlZSuspendsLikeAShellJobAndFgResumesIt) {
  shell_->Mark();
  ASSERT_TRUE(shell_->Type(ElectCat("") + "\n").ok());
  const pid_t child = ChildPid();
  ThroughCat("before");
  Suspend();
  EXPECT_TRUE(ProcessAlive(child));
  EXPECT_EQ(KeysUnder(etcd(), prefix_).size(), 1u) << "the office is held";

  shell_->Mark();
  ASSERT_TRUE(shell_->Type("fg\n").ok());
  ThroughCat("after");  // cat reads the terminal again: it is foreground
  ASSERT_TRUE(shell_->Type(PtyShell::kCtrlC).ok());
  EXPECT_EQ(LastStatus(), "status=130");
  EXPECT_FALSE(ProcessAlive(child));
  EXPECT_TRUE(
      test::PollUntil([&] { return KeysUnder(etcd(), prefix_).empty(); },
                      In(absl::Seconds(5)))
          .ok())
      << "the office is released";
}

// Ctrl-\ (SIGQUIT) after a suspension and resumption reaches the child too.
TEST_F(JobControlTest, CtrlBackslashReachesTheChildAfterFg) {
  shell_->Mark();
  ASSERT_TRUE(shell_->Type(ElectCat("") + "\n").ok());
  ChildPid();
  ThroughCat("before");
  Suspend();
  shell_->Mark();
  ASSERT_TRUE(shell_->Type("fg\n").ok());
  ThroughCat("after");
  ASSERT_TRUE(shell_->Type(PtyShell::kCtrlBackslash).ok());
  EXPECT_EQ(LastStatus(), "status=131");
}

// conch cannot keep its lease while it is stopped: suspended past the loss
// threshold, the fuse stops the child's group (the successor may start),
// and after `fg` conch exits 70.
TEST_F(JobControlTest, SuspendedPastTheLossThresholdExits70AfterFg) {
  shell_->Mark();
  ASSERT_TRUE(
      shell_->Type(ElectCat("--ttl 2s --kill-after 200ms") + "\n").ok());
  const pid_t child = ChildPid();
  ThroughCat("before");
  Suspend();
  // The fuse (a process of its own, not stopped with conch) ends the child
  // before the lease's deadline; etcd then lets the lease expire.
  EXPECT_TRUE(test::PollUntil([&] { return !ProcessAlive(child); },
                              In(absl::Seconds(10)))
                  .ok())
      << "the stopped child outlived the lease";
  EXPECT_TRUE(
      test::PollUntil([&] { return KeysUnder(etcd(), prefix_).empty(); },
                      In(absl::Seconds(10)))
          .ok());
  shell_->Mark();
  ASSERT_TRUE(shell_->Type("fg\n").ok());
  EXPECT_EQ(LastStatus(), "status=70");
  EXPECT_THAT(shell_->screen(), HasSubstr("lease lost"));
}

// Not at a terminal: SIGTERM to conch while its child is stopped (by
// SIGSTOP from elsewhere) is forwarded with SIGCONT, so the child acts on
// it and conch exits promptly instead of holding the office forever.
TEST_F(JobControlTest, SigtermWhileTheChildIsStoppedEndsTheRun) {
  std::unique_ptr<ConchProcess> conch = ConchProcess::Start(
      {"elect", "stopped", "--", "sh", "-c",
       absl::StrCat("echo $$ > ", d_.Path("pid"), "; exec sleep 300")},
      prefix_, etcd());
  const pid_t child = ChildPid();
  ASSERT_EQ(kill(child, SIGSTOP), 0);
  ASSERT_TRUE(conch->Signal(SIGTERM).ok());
  EXPECT_EQ(conch->ExitCode(In(Scaled(absl::Seconds(1)))), 143)
      << conch->Stderr();
  EXPECT_FALSE(ProcessAlive(child));
}

}  // namespace
}  // namespace conch
