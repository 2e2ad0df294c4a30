// LiveFuse: a wrapper keeps one fuse for all its runs and replaces it once
// it has fired, even while its guard still runs (a --restart service that
// lost its lease starts the next child under a fresh guard, which does not
// stop it at once).
#include "conch/wrapper.h"

#include <signal.h>
#include <sys/wait.h>

#include <memory>

#include "absl/time/clock.h"
#include "core/child.h"
#include "core/fuse.h"
#include "core/mono_time.h"
#include "core/test_child.h"
#include "gtest/gtest.h"
#include "testing/poll.h"

namespace conch {
namespace {

TEST(LiveFuseTest, StartsOneThenKeepsItWhileItsGuardLives) {
  std::unique_ptr<Fuse> slot;
  absl::StatusOr<Fuse*> first = LiveFuse(&slot, absl::Seconds(1));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_NE(*first, nullptr);
  EXPECT_EQ(*first, slot.get());
  EXPECT_TRUE((*first)->GuardAlive());
  const pid_t guard = (*first)->guard_pid();
  absl::StatusOr<Fuse*> again = LiveFuse(&slot, absl::Seconds(1));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->guard_pid(), guard);  // the same guard, not a new fork
}

TEST(LiveFuseTest, ReplacesAFuseThatFiredWithOneThatGuardsTheNextChild) {
  std::unique_ptr<Fuse> slot;
  absl::StatusOr<Fuse*> first = LiveFuse(&slot, absl::Milliseconds(200));
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
  absl::StatusOr<Fuse*> second = LiveFuse(&slot, absl::Milliseconds(200));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, slot.get());
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
TEST(LiveFuseTest, ReplacesAFuseThatFiredEvenWhileItsGuardStillRuns) {
  std::unique_ptr<Fuse> slot;
  absl::StatusOr<Fuse*> first = LiveFuse(&slot, absl::Seconds(5));
  ASSERT_TRUE(first.ok()) << first.status();
  std::unique_ptr<Child> stubborn =
      test::SpawnShell("trap '' TERM; while :; do sleep 0.05; done");
  ASSERT_NE(stubborn, nullptr);
  (*first)->Arm(stubborn->pgid(), MonoNow() + absl::Seconds(60));
  (*first)->Fire();                     // the wrapper heard of a revoke
  EXPECT_TRUE((*first)->GuardAlive());  // it waits to SIGKILL the group
  const pid_t fired = (*first)->guard_pid();
  absl::StatusOr<Fuse*> second = LiveFuse(&slot, absl::Seconds(5));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE((*second)->guard_pid(), fired);
  EXPECT_FALSE((*second)->Fired());
  // The old guard was disarmed when it was replaced; clean up by hand.
  stubborn->SignalGroup(SIGKILL);
  test::WaitExit(*stubborn, absl::Now() + absl::Seconds(5));
}

}  // namespace
}  // namespace conch
