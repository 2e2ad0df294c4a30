// FuseKeeper: one fuse for all of a wrapper's runs, replaced once it has
// fired, even while its guard still runs (a --restart service that lost
// its lease starts the next child under a fresh guard, which does not stop
// it at once); every lease deadline reaches the current fuse; a retired
// fuse lives on for the runs that hold it.
#include "core/process/fuse_keeper.h"

#include <signal.h>
#include <sys/wait.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/base/mono_time.h"
#include "core/process/child.h"
#include "core/process/fuse.h"
#include "core/process/test_child.h"
#include "gtest/gtest.h"
#include "testing/files.h"
#include "testing/poll.h"

namespace conch {
namespace {

TEST(FuseKeeperTest, StartsOneThenKeepsItWhileItsGuardLives) {
  FuseKeeper keeper(absl::Seconds(1));
  absl::StatusOr<std::shared_ptr<const Fuse>> first = keeper.Current();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_NE(*first, nullptr);
  EXPECT_TRUE((*first)->GuardAlive());
  absl::StatusOr<std::shared_ptr<const Fuse>> again = keeper.Current();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), first->get());  // the same guard, not a new fork
  EXPECT_EQ((*again)->guard_pid(), (*first)->guard_pid());
}

TEST(FuseKeeperTest, ReplacesAFuseThatFiredWithOneThatGuardsTheNextChild) {
  FuseKeeper keeper(absl::Milliseconds(200));
  absl::StatusOr<std::shared_ptr<const Fuse>> first = keeper.Current();
  ASSERT_TRUE(first.ok()) << first.status();
  // The first run's lease deadline passes: the guard stops the group and
  // exits (SIGKILL after the grace, then it is done).
  std::unique_ptr<Child> lost = test::SpawnShell("sleep 300");
  ASSERT_NE(lost, nullptr);
  // SIGTERM 300 ms before the deadline, SIGKILL 100 ms before it.
  (*first)->Arm(lost->pgid(), MonoNow() + absl::Milliseconds(400));
  const int lost_status = test::WaitExit(*lost, absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(WIFSIGNALED(lost_status)) << lost_status;
  EXPECT_EQ(WTERMSIG(lost_status), SIGTERM);
  ASSERT_TRUE(test::PollUntil([&] { return !(*first)->GuardAlive(); },
                              absl::Now() + absl::Seconds(5))
                  .ok());
  const pid_t fired = (*first)->guard_pid();
  // The next run gets a live guard of its own, which does its job.
  absl::StatusOr<std::shared_ptr<const Fuse>> second = keeper.Current();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE((*second)->guard_pid(), fired);
  EXPECT_TRUE((*second)->GuardAlive());
  std::unique_ptr<Child> next = test::SpawnShell("sleep 300");
  ASSERT_NE(next, nullptr);
  const MonoTime deadline = MonoNow() + absl::Milliseconds(600);
  (*second)->Arm(next->pgid(), deadline);
  int status = 0;
  ASSERT_EQ(waitpid(next->pid(), &status, WNOHANG), 0)
      << "the new guard stopped the child before its deadline";
  const int next_status = test::WaitExit(*next, absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(WIFSIGNALED(next_status)) << next_status;
  EXPECT_EQ(WTERMSIG(next_status), SIGTERM);
  EXPECT_GE(MonoNow(), deadline - absl::Milliseconds(300));
}

// The bug this guards against: a guard that fired stays alive while a
// group is left to kill; arming it again would send the new child SIGTERM
// at once.
TEST(FuseKeeperTest, ReplacesAFuseThatFiredEvenWhileItsGuardStillRuns) {
  FuseKeeper keeper(absl::Seconds(1));
  absl::StatusOr<std::shared_ptr<const Fuse>> first = keeper.Current();
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::string> dir = test::MakeTempDir("fuse-keeper-");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string ready = *dir + "/ready";
  std::unique_ptr<Child> stubborn = test::SpawnShell(absl::StrCat(
      "trap '' TERM; touch ", ready, "; while :; do sleep 0.05; done"));
  ASSERT_NE(stubborn, nullptr);
  ASSERT_TRUE(test::PollUntil([&] { return test::ReadFile(ready).ok(); },
                              absl::Now() + absl::Seconds(5))
                  .ok());
  (*first)->Arm(stubborn->pgid(), MonoNow() + absl::Seconds(60));
  (*first)->Fire();                     // the wrapper heard of a revoke
  EXPECT_TRUE((*first)->GuardAlive());  // it waits to SIGKILL the group
  const pid_t fired = (*first)->guard_pid();
  absl::StatusOr<std::shared_ptr<const Fuse>> second = keeper.Current();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE((*second)->guard_pid(), fired);
  EXPECT_FALSE((*second)->Fired());
  // The run still holds the fired fuse, which does its job: SIGKILL after
  // the grace, well before the (distant) deadline.
  const int status = test::WaitExit(*stubborn, absl::Now() + absl::Seconds(10));
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  test::RemoveTree(*dir).IgnoreError();
}

TEST(FuseKeeperTest, EveryDeadlineReachesTheCurrentFuse) {
  FuseKeeper keeper(absl::Milliseconds(200));
  FuseKeeper::Listener listener = keeper.DeadlineListener();
  listener(MonoNow() + absl::Seconds(1), absl::OkStatus());  // no fuse yet
  absl::StatusOr<std::shared_ptr<const Fuse>> fuse = keeper.Current();
  ASSERT_TRUE(fuse.ok()) << fuse.status();
  std::unique_ptr<Child> child = test::SpawnShell("sleep 300");
  ASSERT_NE(child, nullptr);
  // SIGTERM would come 300 ms before each deadline: without the listener's
  // extensions the child would be stopped after 300 ms.
  (*fuse)->Arm(child->pgid(), MonoNow() + absl::Milliseconds(600));
  const MonoTime until = MonoNow() + absl::Milliseconds(1200);
  while (MonoNow() < until) {
    listener(MonoNow() + absl::Milliseconds(600), absl::OkStatus());
    int status;
    ASSERT_EQ(waitpid(child->pid(), &status, WNOHANG), 0) << "child stopped";
    absl::SleepFor(absl::Milliseconds(50));
  }
  // A loss reported to the listener is not a deadline: the fuse goes on to
  // stop the child on its own, at the last deadline it was given.
  listener(MonoTime::Infinite(), absl::DeadlineExceededError("lost"));
  const int status = test::WaitExit(*child, absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
}

TEST(FuseKeeperTest, ARetiredFuseGuardsItsRunsAndTheNextGetsANewOne) {
  FuseKeeper keeper(absl::Milliseconds(200));
  FuseKeeper::Listener listener = keeper.DeadlineListener();
  absl::StatusOr<std::shared_ptr<const Fuse>> old = keeper.Current();
  ASSERT_TRUE(old.ok()) << old.status();
  std::unique_ptr<Child> child = test::SpawnShell("sleep 300");
  ASSERT_NE(child, nullptr);
  const MonoTime deadline = MonoNow() + absl::Milliseconds(700);
  (*old)->Arm(child->pgid(), deadline);
  keeper.Retire();  // its session was lost
  // The next session's deadlines go to the next fuse, not the retired one.
  absl::StatusOr<std::shared_ptr<const Fuse>> next = keeper.Current();
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_NE((*next)->guard_pid(), (*old)->guard_pid());
  listener(MonoNow() + absl::Seconds(60), absl::OkStatus());
  const int status = test::WaitExit(*child, absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_LT(MonoNow(), deadline);
}

}  // namespace
}  // namespace conch
