#include "core/process/stop_plan.h"

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace conch {
namespace {

using ::testing::HasSubstr;

TEST(StopPlanTest, TermAndKillComeBeforeTheDeadline) {
  const StopPlan plan{absl::Seconds(2)};
  const MonoTime deadline = MonoTime() + absl::Seconds(10);
  EXPECT_EQ(plan.TermAt(deadline),
            deadline - absl::Seconds(2) - StopPlan::kMargin);
  EXPECT_EQ(plan.KillAt(deadline), deadline - StopPlan::kMargin);
  EXPECT_EQ(plan.KillAt(deadline) - plan.TermAt(deadline), absl::Seconds(2));
}

TEST(StopPlanTest, BudgetLeavesMoreThanOneKeepaliveInterval) {
  // TTL 10s: the keepalive interval is 3.33s, so lead() < 6.67s.
  EXPECT_TRUE(CheckStopBudget(absl::Seconds(10), absl::Seconds(2)).ok());
  EXPECT_TRUE(CheckStopBudget(absl::Seconds(10), absl::Seconds(6)).ok());
  EXPECT_TRUE(CheckStopBudget(absl::Seconds(10), absl::ZeroDuration()).ok());
  EXPECT_TRUE(CheckStopBudget(absl::Seconds(1), absl::Milliseconds(500)).ok());
  const absl::Status s = CheckStopBudget(absl::Seconds(10), absl::Seconds(7));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("--kill-after 7s does not fit --ttl 10s"));
  EXPECT_THAT(s.message(), HasSubstr("use --kill-after 6.5s or less"));
  EXPECT_EQ(s.message().find('\n'), absl::string_view::npos);
  // The boundary itself does not fit.
  EXPECT_FALSE(
      CheckStopBudget(absl::Seconds(3), absl::Milliseconds(1900)).ok());
  EXPECT_TRUE(CheckStopBudget(absl::Seconds(3), absl::Milliseconds(1899)).ok());
  EXPECT_FALSE(CheckStopBudget(absl::Seconds(1), absl::Seconds(1)).ok());
}

}  // namespace
}  // namespace conch
