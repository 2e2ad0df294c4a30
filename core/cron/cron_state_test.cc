// StateOfTick: every row of the state table in core/cron/cron_state.h.
#include "core/cron/cron_state.h"

#include "gtest/gtest.h"

namespace conch::etcd {
namespace {

CronTick Claimed(const std::string& daemon, const std::string& lease) {
  CronTick t;
  t.instant = absl::FromUnixSeconds(1800000000);
  records::Claim c;
  c.set_daemon(daemon);
  c.set_lease(lease);
  t.claim = c;
  return t;
}

const std::map<std::string, std::string> kLive = {{"d1", "00000000000000a1"},
                                                  {"d2", "00000000000000b2"}};

TEST(CronStateTest, ResultsDecideOkFailedAndSkipped) {
  CronTick t = Claimed("d1", "00000000000000a1");
  t.result.emplace().set_exit_code(0);
  EXPECT_EQ(FormatTickState(StateOfTick(t, kLive)), "ok");
  t.result->set_exit_code(3);
  EXPECT_EQ(FormatTickState(StateOfTick(t, kLive)), "failed (code 3)");
  t.result->set_signal(9);
  EXPECT_EQ(FormatTickState(StateOfTick(t, kLive)), "failed (signal 9)");
  t.result->set_skipped("overlap");
  EXPECT_EQ(FormatTickState(StateOfTick(t, kLive)), "skipped (overlap)");
  // A result decides even when the runner is gone.
  EXPECT_EQ(FormatTickState(StateOfTick(t, {})), "skipped (overlap)");
}

TEST(CronStateTest, ClaimWithoutResultIsRunningOnlyOnTheClaimingLease) {
  EXPECT_EQ(
      FormatTickState(StateOfTick(Claimed("d2", "00000000000000b2"), kLive)),
      "running on d2");
  // Daemon gone.
  EXPECT_EQ(StateOfTick(Claimed("d3", "00000000000000c3"), kLive).kind,
            TickState::Kind::kZombie);
  // Same id, restarted under a new lease: the old run died.
  EXPECT_EQ(
      FormatTickState(StateOfTick(Claimed("d1", "00000000000000ff"), kLive)),
      "zombie");
}

TEST(CronStateTest, UnreadableRecordsAreShownNotGuessed) {
  CronTick t = Claimed("d1", "00000000000000a1");
  t.error = "bad Claim record: ...";
  EXPECT_EQ(StateOfTick(t, kLive).kind, TickState::Kind::kUnreadable);
  CronTick empty;
  empty.result.emplace();  // no outcome and no claim
  EXPECT_EQ(StateOfTick(empty, kLive).kind, TickState::Kind::kUnreadable);
  CronTick no_outcome = Claimed("d1", "00000000000000a1");
  no_outcome.result.emplace();
  EXPECT_EQ(FormatTickState(StateOfTick(no_outcome, kLive)),
            "unreadable (result without an outcome)");
}

}  // namespace
}  // namespace conch::etcd
