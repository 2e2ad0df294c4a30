// GroupRun: a group is done only when the child and every process it left
// behind are gone; what lingers gets SIGTERM (with SIGCONT), then SIGKILL
// after the grace; a loss is left to the fuse's one SIGTERM. No etcd: real
// processes, a real fuse.
#include "core/process/group_run.h"

#include <signal.h>
#include <sys/wait.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/base/mono_time.h"
#include "core/process/child.h"
#include "core/process/fuse.h"
#include "core/process/reaper.h"
#include "core/process/test_child.h"
#include "gtest/gtest.h"
#include "testing/files.h"
#include "testing/poll.h"

namespace conch {
namespace {

class GroupRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> dir = test::MakeTempDir("group-run-");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *dir;
  }
  void TearDown() override { test::RemoveTree(dir_).IgnoreError(); }

  // Advances `run` (and reaps) like an owner's loop until it is done;
  // false if it is not done by `deadline`.
  bool RunUntilDone(GroupRun& run, Reaper& reaper, absl::Time deadline) {
    return test::PollUntil(
               [&] {
                 reaper.Reap();
                 return run.Advance(MonoNow());
               },
               deadline, absl::Milliseconds(5))
        .ok();
  }

  std::string dir_;
};

TEST_F(GroupRunTest, IsDoneWhenTheChildExitsAlone) {
  GroupRun run(test::SpawnShell("exit 3"), nullptr, absl::Seconds(1));
  Reaper reaper;
  reaper.Watch(&run.child());
  ASSERT_TRUE(RunUntilDone(run, reaper, absl::Now() + absl::Seconds(5)));
  EXPECT_FALSE(run.stopping());  // nothing had to be stopped
  EXPECT_EQ(WEXITSTATUS(run.child().wait_status()), 3);
}

TEST_F(GroupRunTest, StopsWhatTheChildLeftBehind) {
  const std::string pid_file = dir_ + "/bg";
  GroupRun run(test::SpawnShell(absl::StrCat("sleep 300 & echo $! > ", pid_file,
                                             "; exit 0")),
               nullptr, absl::Seconds(5));
  Reaper reaper;
  reaper.Watch(&run.child());
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    reaper.Reap();
                    return run.child().exited();
                  },
                  absl::Now() + absl::Seconds(5))
                  .ok());
  EXPECT_TRUE(run.child().GroupAlive());  // the background sleep
  EXPECT_FALSE(run.Done());
  const MonoTime asked = MonoNow();
  ASSERT_TRUE(RunUntilDone(run, reaper, absl::Now() + absl::Seconds(3)));
  EXPECT_TRUE(run.stopping());
  // SIGTERM did it, long before SIGKILL was due.
  EXPECT_LT(MonoNow() - asked, absl::Seconds(2));
}

TEST_F(GroupRunTest, KillsAStubbornGroupAfterTheGrace) {
  const std::string ready = dir_ + "/ready";
  GroupRun run(test::SpawnShell(absl::StrCat("trap '' TERM; touch ", ready,
                                             "; while :; do sleep 0.02; done")),
               nullptr, absl::Milliseconds(300));
  Reaper reaper;
  reaper.Watch(&run.child());
  ASSERT_TRUE(test::PollUntil([&] { return test::ReadFile(ready).ok(); },
                              absl::Now() + absl::Seconds(5))
                  .ok());
  const MonoTime stopped = MonoNow();
  run.Stop(stopped);
  EXPECT_EQ(run.NextWake(stopped), stopped + GroupRun::kRecheck);
  ASSERT_TRUE(RunUntilDone(run, reaper, absl::Now() + absl::Seconds(5)));
  EXPECT_GE(MonoNow() - stopped, absl::Milliseconds(300));
  ASSERT_TRUE(WIFSIGNALED(run.child().wait_status()));
  EXPECT_EQ(WTERMSIG(run.child().wait_status()), SIGKILL);
}

TEST_F(GroupRunTest, ContinuesAStoppedGroupSoThatItCanExit) {
  GroupRun run(test::SpawnShell("sleep 300"), nullptr, absl::Seconds(5));
  Reaper reaper;
  reaper.Watch(&run.child());
  run.child().SignalGroup(SIGSTOP);
  run.Stop(MonoNow());
  ASSERT_TRUE(RunUntilDone(run, reaper, absl::Now() + absl::Seconds(2)));
  ASSERT_TRUE(WIFSIGNALED(run.child().wait_status()));
  EXPECT_EQ(WTERMSIG(run.child().wait_status()), SIGTERM);
}

TEST_F(GroupRunTest, OnALossTheFuseSendsTheOneSigterm) {
  const std::string terms = dir_ + "/terms";
  absl::StatusOr<std::unique_ptr<Fuse>> fuse =
      Fuse::Start(absl::Milliseconds(300));
  ASSERT_TRUE(fuse.ok()) << fuse.status();
  std::shared_ptr<const Fuse> shared = *std::move(fuse);
  const std::string ready = dir_ + "/ready";
  GroupRun run(
      test::SpawnShell(absl::StrCat("trap 'echo t >> ", terms, "' TERM; touch ",
                                    ready, "; while :; do sleep 0.02; done")),
      shared, absl::Milliseconds(300));
  shared->Arm(run.child().pgid(), MonoNow() + absl::Seconds(60));
  Reaper reaper;
  reaper.Watch(&run.child());
  ASSERT_TRUE(test::PollUntil([&] { return test::ReadFile(ready).ok(); },
                              absl::Now() + absl::Seconds(5))
                  .ok());
  run.StopForLoss(MonoNow());
  EXPECT_TRUE(shared->Fired());
  run.StopForLoss(MonoNow());  // asked again: nothing more is sent
  run.Stop(MonoNow());
  ASSERT_TRUE(RunUntilDone(run, reaper, absl::Now() + absl::Seconds(5)));
  ASSERT_TRUE(WIFSIGNALED(run.child().wait_status()));
  EXPECT_EQ(WTERMSIG(run.child().wait_status()), SIGKILL);
  absl::StatusOr<std::string> got = test::ReadFile(terms);
  EXPECT_EQ(got.value_or("(none)"), "t\n");
}

TEST_F(GroupRunTest, WithoutALiveFuseALossStopsTheGroupItself) {
  GroupRun run(test::SpawnShell("sleep 300"), nullptr, absl::Seconds(5));
  Reaper reaper;
  reaper.Watch(&run.child());
  run.StopForLoss(MonoNow());
  EXPECT_TRUE(run.stopping());
  ASSERT_TRUE(RunUntilDone(run, reaper, absl::Now() + absl::Seconds(2)));
  EXPECT_EQ(WTERMSIG(run.child().wait_status()), SIGTERM);
}

}  // namespace
}  // namespace conch
