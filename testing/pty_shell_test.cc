// PtyShell: a real interactive bash on a pseudo-terminal, with job control.
#include "testing/pty_shell.h"

#include <memory>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace conch::test {
namespace {

using ::testing::HasSubstr;

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

}  // namespace
}  // namespace conch::test
