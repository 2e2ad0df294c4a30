// PtyShell: a real interactive bash on a pseudo-terminal, with job control.
#include "testing/pty_shell.h"

#include <memory>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace conch::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

absl::Time Soon() { return absl::Now() + absl::Seconds(10); }

TEST(PtyShellTest, RunsCommandsOnATerminal) {
  absl::StatusOr<std::unique_ptr<PtyShell>> sh = PtyShell::Start({});
  ASSERT_TRUE(sh.ok()) << sh.status();
  absl::StatusOr<std::string> out =
      (*sh)->Run("test -t 0 && echo on-a-terminal", Soon());
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "on-a-terminal\n");
}

TEST(PtyShellTest, CtrlZStopsTheForegroundJobAndFgResumesIt) {
  absl::StatusOr<std::unique_ptr<PtyShell>> sh = PtyShell::Start({});
  ASSERT_TRUE(sh.ok()) << sh.status();
  PtyShell& s = **sh;
  s.Mark();
  ASSERT_TRUE(s.Type("cat\n").ok());
  ASSERT_TRUE(s.WaitFor("cat\n", Soon()).ok());
  ASSERT_TRUE(s.Type("one\n").ok());
  ASSERT_TRUE(s.WaitFor("one\none\n", Soon()).ok()) << s.SinceMark();
  ASSERT_TRUE(s.Type(PtyShell::kCtrlZ).ok());
  ASSERT_TRUE(s.WaitFor("Stopped", Soon()).ok());
  ASSERT_TRUE(s.WaitForPrompt(Soon()).ok());
  absl::StatusOr<std::string> jobs = s.Run("jobs", Soon());
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_THAT(*jobs, HasSubstr("Stopped"));
  s.Mark();
  ASSERT_TRUE(s.Type("fg\n").ok());
  ASSERT_TRUE(s.WaitFor("cat\n", Soon()).ok());
  ASSERT_TRUE(s.Type("two\n").ok());
  ASSERT_TRUE(s.WaitFor("two\ntwo\n", Soon()).ok()) << s.SinceMark();
  ASSERT_TRUE(s.Type(PtyShell::kCtrlC).ok());
  ASSERT_TRUE(s.WaitForPrompt(Soon()).ok());
  absl::StatusOr<std::string> code = s.Run("echo $?", Soon());
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, "130\n");
}

TEST(PtyShellTest, TabCompletesOnlyWithLineEditing) {
  for (const bool editing : {false, true}) {
    PtyShell::Options options;
    options.line_editing = editing;
    absl::StatusOr<std::unique_ptr<PtyShell>> sh = PtyShell::Start(options);
    ASSERT_TRUE(sh.ok()) << sh.status();
    PtyShell& s = **sh;
    ASSERT_TRUE(s.Run("pty_tab_target() { echo ran-$1; }", Soon()).ok());
    s.Mark();
    ASSERT_TRUE(s.Type("pty_tab_tar\t").ok());
    if (editing) {
      // Readline completes the name and adds a space.
      ASSERT_TRUE(s.WaitFor("pty_tab_target ", Soon()).ok()) << s.SinceMark();
      ASSERT_TRUE(s.Type("x\n").ok());
      ASSERT_TRUE(s.WaitFor("ran-x\n", Soon()).ok()) << s.SinceMark();
    } else {
      // The TAB is part of the line: no such command.
      ASSERT_TRUE(s.Type("\n").ok());
      ASSERT_TRUE(s.WaitFor("command not found", Soon()).ok()) << s.SinceMark();
      EXPECT_THAT(s.SinceMark(), Not(HasSubstr("ran-")));
    }
  }
}

TEST(PtyShellTest, ZshWithLineEditingCompletes) {
  PtyShell::Options options;
  options.shell = PtyShell::Shell::kZsh;
  options.line_editing = true;
  absl::StatusOr<std::unique_ptr<PtyShell>> sh = PtyShell::Start(options);
  ASSERT_TRUE(sh.ok()) << sh.status();
  PtyShell& s = **sh;
  s.Mark();
  ASSERT_TRUE(s.Type("pty_zsh_target() { echo zsh-$ZSH_VERSION-$1; }\n").ok());
  ASSERT_TRUE(s.WaitForPrompt(Soon()).ok()) << s.SinceMark();
  ASSERT_TRUE(s.Type("pty_zsh_tar\t").ok());
  ASSERT_TRUE(s.WaitFor("pty_zsh_target ", Soon()).ok()) << s.SinceMark();
  ASSERT_TRUE(s.Type("y\n").ok());
  ASSERT_TRUE(s.WaitFor("zsh-5", Soon()).ok()) << s.SinceMark();
  ASSERT_TRUE(s.WaitFor("-y\n", Soon()).ok()) << s.SinceMark();
}

}  // namespace
}  // namespace conch::test
