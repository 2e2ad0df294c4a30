// Reaper: the one waitpid(-1) loop hands each watched child its status,
// reaps everything else, and keeps an unwatched status for a child watched
// later only while asked to.
#include "core/process/reaper.h"

#include <signal.h>
#include <sys/wait.h>

#include <memory>

#include "absl/time/clock.h"
#include "core/process/child.h"
#include "core/process/test_child.h"
#include "gtest/gtest.h"
#include "testing/poll.h"

namespace conch {
namespace {

// A stop and a continue are passed on, and neither is taken for an exit.
TEST(ReaperTest, PassesOnStopsAndContinues) {
  std::unique_ptr<Child> child = test::SpawnShell("kill -TSTP $$; exit 3");
  ASSERT_NE(child, nullptr);
  Reaper reaper;
  reaper.Watch(child.get());
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    reaper.Reap();
                    return child->stop_signal() != 0;
                  },
                  absl::Now() + absl::Seconds(5))
                  .ok());
  EXPECT_EQ(child->stop_signal(), SIGTSTP);
  EXPECT_FALSE(child->exited());
  child->SignalGroup(SIGCONT);
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    reaper.Reap();
                    return child->exited();
                  },
                  absl::Now() + absl::Seconds(5))
                  .ok());
  EXPECT_EQ(child->stop_signal(), 0);
  EXPECT_EQ(ExitCodeFromWaitStatus(child->wait_status()), 3);
}

TEST(ReaperTest, HandsAWatchedChildItsStatus) {
  std::unique_ptr<Child> child = test::SpawnShell("exit 7");
  ASSERT_NE(child, nullptr);
  Reaper reaper;
  reaper.Watch(child.get());
  int reaped = 0;
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    reaped += reaper.Reap();
                    return child->exited();
                  },
                  absl::Now() + absl::Seconds(5))
                  .ok());
  EXPECT_EQ(reaped, 1);
  ASSERT_TRUE(WIFEXITED(child->wait_status()));
  EXPECT_EQ(WEXITSTATUS(child->wait_status()), 7);
}

TEST(ReaperTest, ReapsUnwatchedChildrenAndForgetsThem) {
  std::unique_ptr<Child> stray = test::SpawnShell("exit 3");
  ASSERT_NE(stray, nullptr);
  Reaper reaper;
  // Reaped (no zombie is left: waitpid finds nothing) but nobody's.
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    reaper.Reap();
                    return waitpid(stray->pid(), nullptr, WNOHANG) < 0;
                  },
                  absl::Now() + absl::Seconds(5))
                  .ok());
  reaper.Watch(stray.get());
  EXPECT_FALSE(stray->exited());  // nothing was kept for it
  reaper.Unwatch(stray->pid());
}

TEST(ReaperTest, KeepsAnEarlyExitForAChildWatchedLater) {
  Reaper reaper;
  reaper.KeepUnwatched(true);
  std::unique_ptr<Child> quick = test::SpawnShell("exit 5");
  ASSERT_NE(quick, nullptr);
  // The loop reaps it before its spawner hands it over.
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    reaper.Reap();
                    return waitpid(quick->pid(), nullptr, WNOHANG) < 0;
                  },
                  absl::Now() + absl::Seconds(5))
                  .ok());
  ASSERT_FALSE(quick->exited());
  reaper.Watch(quick.get());
  ASSERT_TRUE(quick->exited());
  EXPECT_EQ(WEXITSTATUS(quick->wait_status()), 5);
}

TEST(ReaperTest, DropsKeptStatusesWhenToldToStopKeeping) {
  Reaper reaper;
  reaper.KeepUnwatched(true);
  std::unique_ptr<Child> quick = test::SpawnShell("exit 5");
  ASSERT_NE(quick, nullptr);
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    reaper.Reap();
                    return waitpid(quick->pid(), nullptr, WNOHANG) < 0;
                  },
                  absl::Now() + absl::Seconds(5))
                  .ok());
  reaper.KeepUnwatched(false);
  reaper.Watch(quick.get());
  EXPECT_FALSE(quick->exited());
  reaper.Unwatch(quick->pid());
}

}  // namespace
}  // namespace conch
