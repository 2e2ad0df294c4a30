// The fuse stops a child's process group on its own, on the StopPlan's
// schedule (SIGTERM at deadline - kill_after - margin, SIGKILL at
// deadline - margin) or at once on Fire — here without any wrapper loop.
// It fires once, tells the wrapper before its first signal, and sends one
// SIGTERM per loss. Wrapper death (SIGKILL) is covered end to end by the
// elect tests.
#include "core/process/fuse.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/process/child.h"
#include "core/process/stop_plan.h"
#include "core/process/test_child.h"
#include "gtest/gtest.h"
#include "testing/files.h"
#include "testing/poll.h"

namespace conch {
namespace {

TEST(FuseTest, TerminatesTheGroupAheadOfTheDeadline) {
  const absl::Duration kill_after = absl::Milliseconds(400);
  absl::StatusOr<std::unique_ptr<Fuse>> fuse = Fuse::Start(kill_after);
  ASSERT_TRUE(fuse.ok()) << fuse.status();
  std::unique_ptr<Child> child = test::SpawnShell("sleep 300");
  ASSERT_NE(child, nullptr);
  const MonoTime deadline = MonoNow() + absl::Milliseconds(1000);
  const MonoTime term_at = StopPlan{kill_after}.TermAt(deadline);
  (*fuse)->Arm(child->pgid(), deadline);
  const int status = test::WaitExit(*child, absl::Now() + absl::Seconds(3));
  const MonoTime ended = MonoNow();
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_GE(ended, term_at);
  EXPECT_LE(ended - term_at, absl::Milliseconds(200));
  EXPECT_LT(ended, deadline);
  EXPECT_TRUE((*fuse)->Fired());
}

TEST(FuseTest, KillsAChildThatIgnoresSigtermBeforeTheDeadline) {
  const absl::Duration kill_after = absl::Milliseconds(400);
  absl::StatusOr<std::unique_ptr<Fuse>> fuse = Fuse::Start(kill_after);
  ASSERT_TRUE(fuse.ok());
  std::unique_ptr<Child> child =
      test::SpawnShell("trap '' TERM; while :; do sleep 0.05; done");
  ASSERT_NE(child, nullptr);
  const MonoTime deadline = MonoNow() + absl::Milliseconds(1000);
  const MonoTime kill_at = StopPlan{kill_after}.KillAt(deadline);
  (*fuse)->Arm(child->pgid(), deadline);
  const int status = test::WaitExit(*child, absl::Now() + absl::Seconds(5));
  const MonoTime ended = MonoNow();
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  EXPECT_GE(ended, kill_at);
  // Gone before the deadline: WaitExit polls every few ms, the margin is
  // 100 ms.
  EXPECT_LT(ended, deadline);
}

TEST(FuseTest, PushedDeadlinesKeepTheChildAlive) {
  absl::StatusOr<std::unique_ptr<Fuse>> fuse =
      Fuse::Start(absl::Milliseconds(200));
  ASSERT_TRUE(fuse.ok());
  std::unique_ptr<Child> child = test::SpawnShell("sleep 300");
  ASSERT_NE(child, nullptr);
  // SIGTERM would come 300 ms before each deadline.
  (*fuse)->Arm(child->pgid(), MonoNow() + absl::Milliseconds(600));
  // Keep extending, like keepalive answers would, for well past 300 ms.
  const MonoTime until = MonoNow() + absl::Milliseconds(1200);
  while (MonoNow() < until) {
    (*fuse)->SetDeadline(MonoNow() + absl::Milliseconds(600));
    int status;
    ASSERT_EQ(waitpid(child->pid(), &status, WNOHANG), 0) << "child died";
    absl::SleepFor(absl::Milliseconds(50));  // the keepalive cadence
  }
  EXPECT_FALSE((*fuse)->Fired());
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
  absl::StatusOr<std::unique_ptr<Fuse>> fuse =
      Fuse::Start(absl::Milliseconds(200));
  ASSERT_TRUE(fuse.ok()) << fuse.status();
  std::unique_ptr<Child> a = test::SpawnShell("sleep 300");
  std::unique_ptr<Child> b = test::SpawnShell("sleep 300");
  std::unique_ptr<Child> released = test::SpawnShell("sleep 300");
  ASSERT_TRUE(a != nullptr && b != nullptr && released != nullptr);
  const MonoTime deadline = MonoNow() + absl::Milliseconds(600);
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
  absl::StatusOr<std::unique_ptr<Fuse>> fuse =
      Fuse::Start(absl::Milliseconds(200));
  ASSERT_TRUE(fuse.ok()) << fuse.status();
  constexpr int kGroups = 70;
  constexpr int kKept = 4;  // the last ones stay armed
  std::vector<std::unique_ptr<Child>> children;
  for (int i = 0; i < kGroups; ++i) {
    children.push_back(test::SpawnShell("sleep 300"));
    ASSERT_NE(children.back(), nullptr);
  }
  const MonoTime deadline = MonoNow() + absl::Milliseconds(800);
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

TEST(FuseTest, FireStopsTheGroupAtOnceAndKillsAfterTheGrace) {
  const absl::Duration kill_after = absl::Milliseconds(300);
  absl::StatusOr<std::unique_ptr<Fuse>> fuse = Fuse::Start(kill_after);
  ASSERT_TRUE(fuse.ok());
  absl::StatusOr<std::string> dir = test::MakeTempDir("fuse-");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string up = *dir + "/up";
  std::unique_ptr<Child> child = test::SpawnShell(absl::StrCat(
      "trap '' TERM; echo > ", up, "; while :; do sleep 0.05; done"));
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(test::PollUntil([&] { return test::ReadFile(up).ok(); },
                              absl::Now() + absl::Seconds(5))
                  .ok());
  // A deadline far away: only Fire makes it act.
  (*fuse)->Arm(child->pgid(), MonoNow() + absl::Seconds(60));
  EXPECT_FALSE((*fuse)->Fired());
  const MonoTime fired = MonoNow();
  (*fuse)->Fire();
  EXPECT_TRUE((*fuse)->Fired());
  const int status = test::WaitExit(*child, absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  EXPECT_GE(MonoNow() - fired, kill_after);
  EXPECT_LE(MonoNow() - fired, kill_after + absl::Milliseconds(300));
  test::RemoveTree(*dir).IgnoreError();
}

// The guard tells the wrapper before it signals, so that a wrapper that
// sees its child end by the fuse's SIGTERM already sees the report.
TEST(FuseTest, ReportsFiringBeforeTheChildCanEnd) {
  absl::StatusOr<std::unique_ptr<Fuse>> fuse =
      Fuse::Start(absl::Milliseconds(200));
  ASSERT_TRUE(fuse.ok());
  std::unique_ptr<Child> child = test::SpawnShell("sleep 300");
  ASSERT_NE(child, nullptr);
  struct pollfd p = {(*fuse)->report_fd(), POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 0) << "a report before anything fired";
  (*fuse)->Arm(child->pgid(), MonoNow() + absl::Milliseconds(500));
  const int status = test::WaitExit(*child, absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(poll(&p, 1, 0), 1);
  EXPECT_TRUE((*fuse)->Fired());
}

// One SIGTERM per loss: the deadline fires the fuse, and a Fire from the
// wrapper that learned of the loss later sends nothing more.
TEST(FuseTest, SendsOneSigtermPerLossWhoeverNoticesFirst) {
  absl::StatusOr<std::string> dir = test::MakeTempDir("fuse-");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string terms = *dir + "/terms";
  absl::StatusOr<std::unique_ptr<Fuse>> fuse =
      Fuse::Start(absl::Milliseconds(600));
  ASSERT_TRUE(fuse.ok());
  std::unique_ptr<Child> child = test::SpawnShell(absl::StrCat(
      "trap 'echo t >> ", terms, "' TERM; while :; do sleep 0.02; done"));
  ASSERT_NE(child, nullptr);
  (*fuse)->Arm(child->pgid(), MonoNow() + absl::Milliseconds(900));
  ASSERT_TRUE(test::PollUntil([&] { return test::ReadFile(terms).ok(); },
                              absl::Now() + absl::Seconds(5))
                  .ok());
  (*fuse)->Fire();  // the wrapper's own view of the same loss
  const int status = test::WaitExit(*child, absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  absl::StatusOr<std::string> got = test::ReadFile(terms);
  EXPECT_EQ(got.value_or("(unreadable)"), "t\n");
  test::RemoveTree(*dir).IgnoreError();
}

// A group stopped by SIGSTOP (job control) cannot act on SIGTERM: the fuse
// continues it, so a cooperative child exits gracefully.
TEST(FuseTest, ContinuesAStoppedGroupSoThatItCanExit) {
  absl::StatusOr<std::unique_ptr<Fuse>> fuse = Fuse::Start(absl::Seconds(2));
  ASSERT_TRUE(fuse.ok());
  std::unique_ptr<Child> child = test::SpawnShell("sleep 300");
  ASSERT_NE(child, nullptr);
  child->SignalGroup(SIGSTOP);
  (*fuse)->Arm(child->pgid(), MonoNow() + absl::Seconds(60));
  (*fuse)->Fire();
  const int status = test::WaitExit(*child, absl::Now() + absl::Seconds(1));
  ASSERT_NE(status, -1) << "the stopped group was not continued";
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
}

}  // namespace
}  // namespace conch
