// The generated completions in the real shells, as a person meets them: an
// interactive bash (readline) and zsh (zle) on a pseudo-terminal load the
// scripts the build made (//packaging:conch.bash, :_conch), and keys are
// typed, TAB included. What is checked is what the terminal shows: the
// line as completed, or the candidates listed.
//
// Each case ends by abandoning the line (Ctrl-C) and waiting for the
// output of a marker command, so that nothing a case drew can satisfy the
// next one. No sleeps: every wait has a deadline.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/files.h"
#include "testing/pty_shell.h"

namespace conch {
namespace {

using test::PtyShell;
using ::testing::HasSubstr;
using ::testing::Not;

absl::Time Soon() { return absl::Now() + absl::Seconds(10); }

constexpr char kCtrlU[] = "\x15";

// An absolute path to a file of the test's runfiles.
std::string Runfile(const std::string& path) {
  char* real = realpath(path.c_str(), nullptr);
  std::string out = real != nullptr ? real : path;
  free(real);
  return out;
}

class CompletionShellTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> dir = test::MakeTempDir("completion-");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *dir;
    // PATH: conch, and a command with a name nothing else has.
    ASSERT_EQ(mkdir((dir_ + "/bin").c_str(), 0755), 0);
    ASSERT_EQ(
        symlink(Runfile("conch/conch").c_str(), (dir_ + "/bin/conch").c_str()),
        0);
    const std::string command = dir_ + "/bin/conchtestcmd-xyz";
    ASSERT_TRUE(test::WriteFile(command, "#!/bin/sh\n").ok());
    ASSERT_EQ(chmod(command.c_str(), 0755), 0);
    // The working directory: files and a directory to complete.
    ASSERT_EQ(mkdir((dir_ + "/work").c_str(), 0755), 0);
    for (const char* file :
         {"somefile-for-test.txt", "jobs.txt", "ca-test.pem"}) {
      ASSERT_TRUE(test::WriteFile(absl::StrCat(dir_, "/work/", file), "").ok());
    }
    ASSERT_EQ(mkdir((dir_ + "/work/jobs.d").c_str(), 0755), 0);
  }

  void TearDown() override { test::RemoveTree(dir_).IgnoreError(); }

  std::unique_ptr<PtyShell> Start(PtyShell::Shell shell) {
    PtyShell::Options options;
    options.shell = shell;
    options.line_editing = true;
    options.cwd = dir_ + "/work";
    const char* path = getenv("PATH");
    options.env["PATH"] =
        absl::StrCat(dir_, "/bin:", path != nullptr ? path : "/usr/bin:/bin");
    absl::StatusOr<std::unique_ptr<PtyShell>> sh = PtyShell::Start(options);
    EXPECT_TRUE(sh.ok()) << sh.status();
    return sh.ok() ? *std::move(sh) : nullptr;
  }

  // Abandons the line being edited (Ctrl-U: the line editor erases it;
  // Ctrl-C would flush keys typed after it) and waits until the shell is
  // back at a fresh prompt, past everything drawn before.
  absl::Status Reset(PtyShell& s) {
    ++resets_;
    const std::string done = absl::StrCat("done-", resets_ * 1000 + 7);
    // The arithmetic makes the output differ from the echoed command.
    if (absl::Status st = s.Type(
            absl::StrCat(kCtrlU, "echo done-$((", resets_, " * 1000 + 7))\n"));
        !st.ok()) {
      return st;
    }
    if (absl::Status st = s.WaitFor(done + "\n", Soon()); !st.ok()) return st;
    s.MarkPast(done + "\n");
    return s.WaitForPrompt(Soon());
  }

  // Types `keys` on a fresh line and waits until each of `shown` appears.
  absl::Status Completes(PtyShell& s, const std::string& keys,
                         std::initializer_list<std::string> shown) {
    s.Mark();
    if (absl::Status st = s.Type(keys); !st.ok()) return st;
    for (const std::string& text : shown) {
      if (absl::Status st = s.WaitFor(text, Soon()); !st.ok()) {
        return absl::Status(st.code(), absl::StrCat("after typing \"", keys,
                                                    "\": ", st.message()));
      }
    }
    return Reset(s);
  }

  std::string dir_;
  int resets_ = 0;
};

TEST_F(CompletionShellTest, Bash) {
  std::unique_ptr<PtyShell> sh = Start(PtyShell::Shell::kBash);
  ASSERT_NE(sh, nullptr);
  PtyShell& s = *sh;
  absl::StatusOr<std::string> loaded =
      s.Run(absl::StrCat("source ", Runfile("packaging/conch.bash"),
                         " && complete -p conch"),
            Soon());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_THAT(*loaded, HasSubstr("complete -F _conch conch"));

  // Subcommands, nested subcommands.
  EXPECT_TRUE(Completes(s, "conch cro\t", {"conch cron "}).ok())
      << s.SinceMark();
  EXPECT_TRUE(Completes(s, "conch cron a\t", {"conch cron add "}).ok());
  EXPECT_TRUE(Completes(s, "conch compl\t", {"conch completion "}).ok());
  // A subcommand's flags; the common flags after a nested subcommand.
  EXPECT_TRUE(Completes(s, "conch cron add x --sch\t", {"--schedule "}).ok());
  EXPECT_TRUE(Completes(s, "conch elect x --non\t", {"--nonblock "}).ok());
  EXPECT_TRUE(Completes(s, "conch cron ls --pre\t", {"--prefix "}).ok());
  // Values conch knows: two candidates are listed at the second TAB.
  EXPECT_TRUE(
      Completes(s, "conch cron add x --overlap \t\t", {"allow", "skip"}).ok());
  EXPECT_TRUE(
      Completes(s, "conch --log-level d\t", {"--log-level debug "}).ok());
  EXPECT_TRUE(
      Completes(s, "conch status --log-level=in\t", {"--log-level=info "})
          .ok());
  EXPECT_TRUE(Completes(s, "conch completion z\t", {"completion zsh "}).ok());
  // Files, directories only, zones.
  EXPECT_TRUE(
      Completes(s, "conch status --cacert ca-t\t", {"ca-test.pem "}).ok());
  EXPECT_TRUE(
      Completes(s, "conch cron add x --dir job\t", {"--dir jobs.d/"}).ok());
  EXPECT_TRUE(
      Completes(s, "conch cron add x --tz Europe/Berl\t", {"Europe/Berlin "})
          .ok());
  // After --: a command, then its arguments (files).
  EXPECT_TRUE(Completes(s, "conch elect x -- conchtestcmd-x\t",
                        {"-- conchtestcmd-xyz "})
                  .ok());
  EXPECT_TRUE(Completes(s, "conch sema x --max 2 -- conchtestcmd-xyz somef\t",
                        {"somefile-for-test.txt "})
                  .ok());
}

// Where conch knows nothing to offer (a name only etcd knows, a number),
// TAB adds nothing: the next key lands right after what was typed, and no
// file names are listed.
TEST_F(CompletionShellTest, BashOffersNothingForNamesAndNumbers) {
  std::unique_ptr<PtyShell> sh = Start(PtyShell::Shell::kBash);
  ASSERT_NE(sh, nullptr);
  PtyShell& s = *sh;
  ASSERT_TRUE(
      s.Run(absl::StrCat("source ", Runfile("packaging/conch.bash")), Soon())
          .ok());
  for (const std::string& line :
       {std::string("conch elect "), std::string("conch cron ls --history "),
        std::string("conch cron rm ")}) {
    s.Mark();
    ASSERT_TRUE(s.Type(line + "\t\tq").ok());
    ASSERT_TRUE(s.WaitFor("q", Soon()).ok()) << s.SinceMark();
    // Readline rings the bell (\a) at each TAB; nothing else comes.
    EXPECT_EQ(absl::StrReplaceAll(s.SinceMark(), {{"\a", ""}}), line + "q");
    ASSERT_TRUE(Reset(s).ok()) << s.SinceMark();
  }
  EXPECT_THAT(s.screen(), Not(HasSubstr("somefile-for-test.txt")));
}

TEST_F(CompletionShellTest, Zsh) {
  std::unique_ptr<PtyShell> sh = Start(PtyShell::Shell::kZsh);
  ASSERT_NE(sh, nullptr);
  PtyShell& s = *sh;
  const std::string fpath = Runfile("packaging/_conch");
  const std::string dir = fpath.substr(0, fpath.rfind('/'));
  s.Mark();
  ASSERT_TRUE(s.Type(absl::StrCat("fpath=(", dir,
                                  " $fpath); autoload -Uz compinit; "
                                  "compinit -u -D; echo loaded-$((6 * 7))\n"))
                  .ok());
  ASSERT_TRUE(s.WaitFor("loaded-42\n", Soon()).ok()) << s.SinceMark();
  s.MarkPast("loaded-42\n");
  ASSERT_TRUE(s.WaitForPrompt(Soon()).ok()) << s.SinceMark();

  EXPECT_TRUE(Completes(s, "conch cro\t", {"conch cron "}).ok())
      << s.SinceMark();
  EXPECT_TRUE(Completes(s, "conch cron a\t", {"conch cron add "}).ok());
  EXPECT_TRUE(Completes(s, "conch elect x --non\t", {"--nonblock "}).ok());
  EXPECT_TRUE(Completes(s, "conch cron ls --hist\t", {"--history"}).ok());
  // zsh lists ambiguous candidates at the first TAB.
  EXPECT_TRUE(
      Completes(s, "conch cron add x --overlap \t", {"allow", "skip"}).ok());
  EXPECT_TRUE(Completes(s, "conch completion \t", {"bash", "zsh"}).ok());
  EXPECT_TRUE(
      Completes(s, "conch cron add x --tz Europe/Berl\t", {"Europe/Berlin "})
          .ok());
  EXPECT_TRUE(
      Completes(s, "conch elect x -- conchtestcmd-x\t", {"conchtestcmd-xyz "})
          .ok());
}

}  // namespace
}  // namespace conch
