#include "core/base/mono_time.h"

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace conch {
namespace {

TEST(MonoTimeTest, DeadlineArithmetic) {
  const MonoTime sent = MonoTime::FromNanos(5'000'000'000);
  const MonoTime deadline = sent + absl::Seconds(10);
  EXPECT_EQ(deadline.nanos(), 15'000'000'000);
  EXPECT_EQ(deadline - sent, absl::Seconds(10));
  EXPECT_LT(sent, deadline);
  EXPECT_EQ(deadline - absl::Seconds(10), sent);
  EXPECT_GT(MonoTime::Infinite(), deadline);
}

TEST(MonoTimeTest, ClockIsMonotonic) {
  MonoTime prev = MonoNow();
  for (int i = 0; i < 1000; ++i) {
    MonoTime now = MonoNow();
    EXPECT_GE(now, prev);
    prev = now;
  }
}

TEST(MonoTimeTest, WallDeadlineIsAsFarAhead) {
  const absl::Time wall = ToWallDeadline(MonoNow() + absl::Seconds(30));
  const absl::Duration ahead = wall - absl::Now();
  EXPECT_GT(ahead, absl::Seconds(29));
  EXPECT_LE(ahead, absl::Seconds(30));
  EXPECT_EQ(ToWallDeadline(MonoTime::Infinite()), absl::InfiniteFuture());
}

}  // namespace
}  // namespace conch
