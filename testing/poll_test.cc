#include "testing/poll.h"

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace conch::test {
namespace {

using ::testing::HasSubstr;

TEST(PollUntilTest, ReturnsOkAsSoonAsConditionHolds) {
  int calls = 0;
  absl::Status s =
      PollUntil([&] { return ++calls == 3; }, absl::Now() + absl::Seconds(30),
                absl::Milliseconds(1));
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(calls, 3);
}

TEST(PollUntilTest, EvaluatesAtLeastOnceEvenWithPastDeadline) {
  int calls = 0;
  absl::Status s = PollUntil([&] { return ++calls > 0; }, absl::InfinitePast());
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(calls, 1);
}

TEST(PollUntilTest, ReturnsDeadlineExceededWhenConditionNeverHolds) {
  const absl::Time start = absl::Now();
  int calls = 0;
  absl::Status s = PollUntil(
      [&] {
        ++calls;
        return false;
      },
      start + absl::Milliseconds(50), absl::Milliseconds(5));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(s.message(), HasSubstr("condition did not hold"));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
  EXPECT_GE(calls, 2);
}

TEST(PollUntilOkTest, TimeoutMessageCarriesLastError) {
  absl::Status s =
      PollUntilOk([] { return absl::NotFoundError("key /x is missing"); },
                  absl::Now() + absl::Milliseconds(20), absl::Milliseconds(5));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(s.message(), HasSubstr("key /x is missing"));
}

}  // namespace
}  // namespace conch::test
