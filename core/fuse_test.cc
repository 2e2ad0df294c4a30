// The fuse stops a child's process group on its own: at the deadline
// (SIGTERM, then SIGKILL after the grace) — here without any wrapper loop.
// Wrapper death (SIGKILL) is covered end to end by the elect tests.
#include "core/fuse.h"

#include <signal.h>
#include <sys/wait.h>

#include <vector>

#include "absl/time/clock.h"
#include "core/child.h"
#include "core/test_child.h"
#include "gtest/gtest.h"
#include "testing/poll.h"

namespace conch {
namespace {

TEST(FuseTest, TerminatesTheGroupAtTheDeadline) {
  absl::StatusOr<std::unique_ptr<Fuse>> fuse = Fuse::Start(absl::Seconds(5));
  ASSERT_TRUE(fuse.ok()) << fuse.status();
  std::unique_ptr<Child> child = test::SpawnShell("sleep 300");
  ASSERT_NE(child, nullptr);
  const MonoTime deadline = MonoNow() + absl::Milliseconds(300);
  (*fuse)->Arm(child->pgid(), deadline);
  const int status = test::WaitExit(*child, absl::Now() + absl::Seconds(3));
  const MonoTime ended = MonoNow();
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_GE(ended, deadline);
  EXPECT_LE(ended - deadline, absl::Milliseconds(200));
}

TEST(FuseTest, KillsAChildThatIgnoresSigtermAfterTheGrace) {
  absl::StatusOr<std::unique_ptr<Fuse>> fuse =
      Fuse::Start(absl::Milliseconds(400));
  ASSERT_TRUE(fuse.ok());
  std::unique_ptr<Child> child =
      test::SpawnShell("trap '' TERM; while :; do sleep 0.05; done");
  ASSERT_NE(child, nullptr);
  const MonoTime deadline = MonoNow() + absl::Milliseconds(200);
  (*fuse)->Arm(child->pgid(), deadline);
  const int status = test::WaitExit(*child, absl::Now() + absl::Seconds(5));
  const MonoTime ended = MonoNow();
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  EXPECT_GE(ended - deadline, absl::Milliseconds(400));
  EXPECT_LE(ended - deadline, absl::Milliseconds(800));
}

TEST(FuseTest, PushedDeadlinesKeepTheChildAlive) {
  absl::StatusOr<std::unique_ptr<Fuse>> fuse = Fuse::Start(absl::Seconds(1));
  ASSERT_TRUE(fuse.ok());
  std::unique_ptr<Child> child = test::SpawnShell("sleep 300");
  ASSERT_NE(child, nullptr);
  (*fuse)->Arm(child->pgid(), MonoNow() + absl::Milliseconds(200));
  // Keep extending, like keepalive answers would, for well past 200 ms.
  const MonoTime until = MonoNow() + absl::Milliseconds(800);
  while (MonoNow() < until) {
    (*fuse)->SetDeadline(MonoNow() + absl::Milliseconds(200));
    int status;
    ASSERT_EQ(waitpid(child->pid(), &status, WNOHANG), 0) << "child died";
    absl::SleepFor(absl::Milliseconds(50));  // the keepalive cadence
  }
  // Disarmed, the guard exits and leaves the child alone.
  (*fuse)->Disarm();
  ASSERT_TRUE(test::PollUntil([&] { return !(*fuse)->GuardAlive(); },
                              absl::Now() + absl::Seconds(5))
                  .ok());
  int status;
  EXPECT_EQ(waitpid(child->pid(), &status, WNOHANG), 0);
  child->SignalGroup(SIGKILL);
  test::WaitExit(*child, absl::Now() + absl::Seconds(5));
}

TEST(FuseTest, GuardsManyGroupsAndSparesReleasedOnes) {
  absl::StatusOr<std::unique_ptr<Fuse>> fuse = Fuse::Start(absl::Seconds(5));
  ASSERT_TRUE(fuse.ok()) << fuse.status();
  std::unique_ptr<Child> a = test::SpawnShell("sleep 300");
  std::unique_ptr<Child> b = test::SpawnShell("sleep 300");
  std::unique_ptr<Child> released = test::SpawnShell("sleep 300");
  ASSERT_TRUE(a != nullptr && b != nullptr && released != nullptr);
  const MonoTime deadline = MonoNow() + absl::Milliseconds(300);
  (*fuse)->Arm(a->pgid(), deadline);
  (*fuse)->Arm(b->pgid(), deadline);
  (*fuse)->Arm(released->pgid(), deadline);
  (*fuse)->Release(released->pgid());
  const int sa = test::WaitExit(*a, absl::Now() + absl::Seconds(5));
  const int sb = test::WaitExit(*b, absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(WIFSIGNALED(sa) && WIFSIGNALED(sb)) << sa << " " << sb;
  EXPECT_EQ(WTERMSIG(sa), SIGTERM);
  EXPECT_EQ(WTERMSIG(sb), SIGTERM);
  // The released group is not the fuse's any more.
  int status = 0;
  EXPECT_EQ(waitpid(released->pid(), &status, WNOHANG), 0);
  released->SignalGroup(SIGKILL);
  test::WaitExit(*released, absl::Now() + absl::Seconds(5));
}

// Release of many groups at once (more than one datagram's worth): those
// are spared at the deadline, the rest are stopped.
TEST(FuseTest, ReleasesManyGroupsInOneCall) {
  absl::StatusOr<std::unique_ptr<Fuse>> fuse = Fuse::Start(absl::Seconds(5));
  ASSERT_TRUE(fuse.ok()) << fuse.status();
  constexpr int kGroups = 70;
  constexpr int kKept = 4;  // the last ones stay armed
  std::vector<std::unique_ptr<Child>> children;
  for (int i = 0; i < kGroups; ++i) {
    children.push_back(test::SpawnShell("sleep 300"));
    ASSERT_NE(children.back(), nullptr);
  }
  const MonoTime deadline = MonoNow() + absl::Milliseconds(500);
  std::vector<pid_t> released;
  for (int i = 0; i < kGroups; ++i) {
    (*fuse)->Arm(children[i]->pgid(), deadline);
    if (i < kGroups - kKept) released.push_back(children[i]->pgid());
  }
  (*fuse)->Release(released);
  for (int i = kGroups - kKept; i < kGroups; ++i) {
    const int status =
        test::WaitExit(*children[i], absl::Now() + absl::Seconds(5));
    ASSERT_TRUE(WIFSIGNALED(status)) << i << ": " << status;
    EXPECT_EQ(WTERMSIG(status), SIGTERM);
  }
  for (int i = 0; i < kGroups - kKept; ++i) {
    int status = 0;
    EXPECT_EQ(waitpid(children[i]->pid(), &status, WNOHANG), 0)
        << "released group " << i << " was stopped";
    children[i]->SignalGroup(SIGKILL);
    test::WaitExit(*children[i], absl::Now() + absl::Seconds(5));
  }
}

}  // namespace
}  // namespace conch
