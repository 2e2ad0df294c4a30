// RunTable with real processes and a real fuse, no etcd: a run's outcome
// (exit code, signal, output tail, CONCH_* environment), starts that cannot
// happen, a quick child reaped before it was registered, a lingering group,
// stops (shutdown, and a loss left to the fuse's one SIGTERM), many runs'
// output read through the one polled fd, and NextWake following exits and
// stops.
#include "conch/daemon/run_table.h"

#include <poll.h>
#include <signal.h>

#include <memory>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "conch/daemon/completion.h"
#include "conch/daemon/job_table.h"
#include "core/base/mono_time.h"
#include "core/base/notifier.h"
#include "core/cron/cron.h"
#include "core/process/fuse.h"
#include "core/process/reaper.h"
#include "gtest/gtest.h"
#include "testing/files.h"
#include "testing/poll.h"

namespace conch::daemon {
namespace {

class RunTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> dir = test::MakeTempDir("run-table-");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *dir;
    absl::StatusOr<std::unique_ptr<Fuse>> fuse =
        Fuse::Start(absl::Milliseconds(300));
    ASSERT_TRUE(fuse.ok()) << fuse.status();
    fuse_ = *std::move(fuse);
  }
  void TearDown() override { test::RemoveTree(dir_).IgnoreError(); }

  static Tick ShellTick(const std::string& script,
                        absl::Time instant = absl::Now()) {
    auto job = std::make_shared<etcd::CronJob>();
    job->name = "job one";
    job->encoded = "job%20one";
    job->job.add_argv("/bin/sh");
    job->job.add_argv("-c");
    job->job.add_argv(script);
    return Tick{job, instant};
  }

  RunStart StartOf(Tick tick) {
    return RunStart{std::move(tick), 42, "7f", fuse_,
                    MonoNow() + absl::Seconds(60)};
  }

  // Runs the loop's part (register, reap, read, advance) until `n`
  // outcomes came back or `deadline` passed.
  std::vector<RunOutcome> Drive(size_t n, absl::Time deadline) {
    std::vector<RunOutcome> outcomes;
    while (outcomes.size() < n && absl::Now() < deadline) {
      for (Completion& c : done_.TakeAll()) {
        Spawned* s = std::get_if<Spawned>(&c);
        if (s == nullptr) continue;
        if (auto o = runs_.Register(std::move(*s))) outcomes.push_back(*o);
      }
      reaper_.Reap();
      for (RunOutcome& o : runs_.Advance(MonoNow())) outcomes.push_back(o);
      std::vector<struct pollfd> fds;
      runs_.AddPollFds(&fds);
      EXPECT_EQ(fds.size(), 1u) << "one epoll fd, whatever the runs";
      poll(fds.data(), fds.size(), 10);
      runs_.ReadOutputs(fds.data(), fds.size());
    }
    return outcomes;
  }

  // Waits for the spawner's report of the one run started.
  Spawned NextSpawned() {
    std::vector<Completion> got;
    EXPECT_TRUE(test::PollUntil(
                    [&] {
                      got = done_.TakeAll();
                      return !got.empty();
                    },
                    absl::Now() + absl::Seconds(5))
                    .ok());
    if (got.empty() || !std::holds_alternative<Spawned>(got[0])) return {};
    return std::move(std::get<Spawned>(got[0]));
  }

  std::string dir_;
  std::shared_ptr<const Fuse> fuse_;
  Notifier wake_;
  CompletionQueue done_{&wake_};
  Reaper reaper_;
  RunTable runs_{{.daemon_id = "d1",
                  .kill_after = absl::Milliseconds(300),
                  .max_late = absl::Seconds(10)},
                 &done_,
                 &reaper_};
};

TEST_F(RunTableTest, ARunsOutcomeCarriesItsCodeOutputAndEnvironment) {
  ASSERT_FALSE(runs_
                   .Start(StartOf(ShellTick(
                       "echo \"$CONCH_JOB|$CONCH_NAME|$CONCH_REV|$CONCH_LEASE"
                       "|$CONCH_TICK\"; echo err >&2; exit 7")))
                   .has_value());
  EXPECT_EQ(runs_.spawning(), 1);
  std::vector<RunOutcome> got = Drive(1, absl::Now() + absl::Seconds(10));
  ASSERT_EQ(got.size(), 1u);
  const records::Result& r = got[0].result;
  EXPECT_EQ(r.daemon(), "d1");
  EXPECT_EQ(r.exit_code(), 7);
  EXPECT_TRUE(absl::StartsWith(r.output_tail(), "job one|job one|42|7f|"))
      << r.output_tail();
  EXPECT_TRUE(absl::EndsWith(r.output_tail(), "\nerr\n")) << r.output_tail();
  EXPECT_TRUE(absl::StartsWith(got[0].line, "failed (code 7) after "))
      << got[0].line;
  EXPECT_TRUE(absl::EndsWith(got[0].line, ", rev 42")) << got[0].line;
  EXPECT_TRUE(runs_.empty());
  EXPECT_FALSE(runs_.RunningHere("job%20one"));
}

TEST_F(RunTableTest, ACommandThatIsNotThereNeverStarts) {
  Tick tick = ShellTick("");
  auto job = std::make_shared<etcd::CronJob>(*tick.job);
  job->job.clear_argv();
  job->job.add_argv("conch-no-such-command");
  tick.job = job;
  std::optional<RunOutcome> o = runs_.Start(StartOf(tick));
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->result.exit_code(), 127);
  EXPECT_TRUE(absl::StrContains(o->line, "not started")) << o->line;
  EXPECT_EQ(runs_.spawning(), 0);
  EXPECT_EQ(done_.outstanding(), 0);
}

TEST_F(RunTableTest, ATickTooOldToStartIsSkippedAsLate) {
  ASSERT_FALSE(
      runs_.Start(StartOf(ShellTick("exit 0", absl::Now() - absl::Seconds(11))))
          .has_value());
  std::vector<RunOutcome> got = Drive(1, absl::Now() + absl::Seconds(5));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].result.skipped(), "late");
  EXPECT_TRUE(runs_.empty());
}

TEST_F(RunTableTest, AChildReapedBeforeItWasRegisteredKeepsItsStatus) {
  ASSERT_FALSE(runs_.Start(StartOf(ShellTick("exit 3"))).has_value());
  Spawned s = NextSpawned();
  ASSERT_TRUE(s.child.ok()) << s.child.status();
  const pid_t pid = (*s.child)->pid();
  // The loop reaps it before it hears of the start.
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    reaper_.Reap();
                    return kill(pid, 0) != 0;
                  },
                  absl::Now() + absl::Seconds(5))
                  .ok());
  ASSERT_FALSE(runs_.Register(std::move(s)).has_value());
  // Its exit is known: Advance has something to do soon.
  const MonoTime now = MonoNow();
  EXPECT_EQ(runs_.NextWake(now), now + GroupRun::kRecheck);
  std::vector<RunOutcome> got = Drive(1, absl::Now() + absl::Seconds(5));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].result.exit_code(), 3);
}

TEST_F(RunTableTest, ARunLastsUntilItsGroupIsGone) {
  const std::string bg = dir_ + "/bg";
  ASSERT_FALSE(runs_
                   .Start(StartOf(ShellTick(
                       absl::StrCat("sleep 300 & echo $! > ", bg, "; exit 0"))))
                   .has_value());
  std::vector<RunOutcome> got = Drive(1, absl::Now() + absl::Seconds(5));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].result.exit_code(), 0);
  absl::StatusOr<std::string> pid = test::ReadFile(bg);
  ASSERT_TRUE(pid.ok());
  EXPECT_NE(kill(std::stoi(*pid), 0), 0) << "the background sleep survived";
}

TEST_F(RunTableTest, AShutdownStopsEveryRun) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_FALSE(runs_.Start(StartOf(ShellTick("sleep 300"))).has_value());
  }
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    Drive(0, absl::Now());
                    for (Completion& c : done_.TakeAll()) {
                      runs_.Register(std::move(std::get<Spawned>(c)));
                    }
                    return runs_.size() == 3;
                  },
                  absl::Now() + absl::Seconds(5))
                  .ok());
  EXPECT_TRUE(runs_.RunningHere("job%20one"));
  runs_.StopAll("shutdown", /*lease_lost=*/false, MonoNow());
  const MonoTime now = MonoNow();
  EXPECT_LE(runs_.NextWake(now), now + GroupRun::kRecheck);
  std::vector<RunOutcome> got = Drive(3, absl::Now() + absl::Seconds(5));
  ASSERT_EQ(got.size(), 3u);
  for (const RunOutcome& o : got) {
    EXPECT_EQ(o.result.signal(), SIGTERM);
    EXPECT_TRUE(absl::EndsWith(o.line, "stopped by conchd")) << o.line;
  }
}

TEST_F(RunTableTest, ALossIsLeftToTheFusesOneSigterm) {
  const std::string terms = dir_ + "/terms";
  const std::string ready = dir_ + "/ready";
  ASSERT_FALSE(runs_
                   .Start(StartOf(ShellTick(
                       absl::StrCat("trap 'echo t >> ", terms, "' TERM; touch ",
                                    ready, "; while :; do sleep 0.02; done"))))
                   .has_value());
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    Drive(0, absl::Now());
                    for (Completion& c : done_.TakeAll()) {
                      runs_.Register(std::move(std::get<Spawned>(c)));
                    }
                    // Registered too: the child can touch `ready` before
                    // its spawner reports it.
                    return runs_.size() == 1 && test::ReadFile(ready).ok();
                  },
                  absl::Now() + absl::Seconds(5))
                  .ok());
  runs_.StopAll("lease lost", /*lease_lost=*/true, MonoNow());
  EXPECT_TRUE(fuse_->Fired());
  std::vector<RunOutcome> got = Drive(1, absl::Now() + absl::Seconds(5));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].result.signal(), SIGKILL);  // it ignored the TERM
  absl::StatusOr<std::string> t = test::ReadFile(terms);
  EXPECT_EQ(t.value_or("(none)"), "t\n");
}

TEST_F(RunTableTest, ManyRunsHaveAllTheirOutputReadWhileTheyRun) {
  // Each writes more than a pipe holds (64 KiB): it finishes only if its
  // pipe is read while it runs. The sleep keeps them running together.
  constexpr int kRuns = 200;
  constexpr int kBytes = 100000;
  for (int i = 0; i < kRuns; ++i) {
    RunStart start = StartOf(ShellTick(
        absl::StrCat("head -c ", kBytes, " /dev/zero | tr '\\0' x; echo; ",
                     "echo \"done $CONCH_REV\"; sleep 0.2")));
    start.revision = i;
    ASSERT_FALSE(runs_.Start(start).has_value());
  }
  std::vector<RunOutcome> got = Drive(kRuns, absl::Now() + absl::Seconds(30));
  ASSERT_EQ(got.size(), static_cast<size_t>(kRuns));
  std::set<std::string> seen;
  for (const RunOutcome& o : got) {
    const records::Result& r = o.result;
    EXPECT_EQ(r.exit_code(), 0) << o.line;
    // The tail starts after the line of x's, all of which was counted.
    EXPECT_EQ(r.output_cut(), kBytes + 1) << o.line;
    ASSERT_TRUE(absl::StartsWith(r.output_tail(), "done ")) << r.output_tail();
    const std::string rev(
        absl::StripSuffix(absl::StripPrefix(r.output_tail(), "done "), "\n"));
    EXPECT_TRUE(absl::EndsWith(o.line, absl::StrCat(", rev ", rev))) << o.line;
    seen.insert(rev);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kRuns));
  EXPECT_TRUE(runs_.empty());
  EXPECT_EQ(runs_.NextWake(MonoNow()), MonoTime::Infinite());
}

TEST_F(RunTableTest, NextWakeFollowsAStop) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_FALSE(runs_.Start(StartOf(ShellTick("sleep 300"))).has_value());
  }
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    for (Completion& c : done_.TakeAll()) {
                      runs_.Register(std::move(std::get<Spawned>(c)));
                    }
                    reaper_.Reap();
                    runs_.Advance(MonoNow());
                    return runs_.size() == 3;
                  },
                  absl::Now() + absl::Seconds(5))
                  .ok());
  // Running, nothing asked: nothing due without an outside event.
  EXPECT_EQ(runs_.NextWake(MonoNow()), MonoTime::Infinite());
  const MonoTime stop = MonoNow();
  runs_.StopAll("test", /*lease_lost=*/false, stop);
  // Looked at again soon, counted from the caller's now; the SIGKILL
  // instant (kill_after 300 ms) stays where the stop put it.
  EXPECT_EQ(runs_.NextWake(stop), stop + GroupRun::kRecheck);
  EXPECT_EQ(runs_.NextWake(stop + absl::Milliseconds(100)),
            stop + absl::Milliseconds(100) + GroupRun::kRecheck);
  EXPECT_EQ(runs_.NextWake(stop + absl::Seconds(1)),
            stop + absl::Milliseconds(300));
  std::vector<RunOutcome> got = Drive(3, absl::Now() + absl::Seconds(5));
  ASSERT_EQ(got.size(), 3u);
  for (const RunOutcome& o : got) EXPECT_EQ(o.result.signal(), SIGTERM);
  EXPECT_EQ(runs_.NextWake(MonoNow()), MonoTime::Infinite());
}

TEST_F(RunTableTest, NextWakeFollowsAnExitSeenByAdvance) {
  // The child exits at once; its group lingers (TERM ignored) until the
  // SIGKILL, kill_after (300 ms) after the exit was seen.
  ASSERT_FALSE(
      runs_.Start(StartOf(ShellTick("(trap '' TERM; exec sleep 300) & exit 4")))
          .has_value());
  std::vector<RunOutcome> got;
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    for (Completion& c : done_.TakeAll()) {
                      runs_.Register(std::move(std::get<Spawned>(c)));
                    }
                    reaper_.Reap();
                    for (RunOutcome& o : runs_.Advance(MonoNow())) {
                      got.push_back(o);
                    }
                    return runs_.NextWake(MonoNow()) != MonoTime::Infinite();
                  },
                  absl::Now() + absl::Seconds(5))
                  .ok());
  EXPECT_TRUE(got.empty()) << "done before its group was killed";
  const MonoTime now = MonoNow();
  EXPECT_LE(runs_.NextWake(now), now + GroupRun::kRecheck);
  got = Drive(1, absl::Now() + absl::Seconds(5));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].result.exit_code(), 4);
  EXPECT_EQ(runs_.NextWake(MonoNow()), MonoTime::Infinite());
}

}  // namespace
}  // namespace conch::daemon
