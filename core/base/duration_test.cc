#include "core/base/duration.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace conch {
namespace {

using ::testing::HasSubstr;

TEST(ParseDurationTest, AcceptsAbslSyntax) {
  struct Case {
    const char* text;
    absl::Duration want;
  } cases[] = {
      {"500ms", absl::Milliseconds(500)}, {"10s", absl::Seconds(10)},
      {"2m", absl::Minutes(2)},           {"1h30m", absl::Minutes(90)},
      {"1.5s", absl::Milliseconds(1500)}, {"0", absl::ZeroDuration()},
      {"0s", absl::ZeroDuration()},
  };
  for (const Case& c : cases) {
    absl::StatusOr<absl::Duration> d = ParseDuration("--ttl", c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.status();
    EXPECT_EQ(*d, c.want) << c.text;
  }
}

TEST(ParseDurationTest, RejectsBareNumbersGarbageNegativeAndInfinite) {
  for (const char* bad : {"10", "", "abc", "-1s", "inf", "10 s", "1x"}) {
    absl::StatusOr<absl::Duration> d = ParseDuration("--timeout", bad);
    ASSERT_FALSE(d.ok()) << "accepted \"" << bad << "\"";
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(d.status().message(), HasSubstr("--timeout"));
  }
}

TEST(ParsePositiveDurationTest, RejectsZero) {
  EXPECT_FALSE(ParsePositiveDuration("--ttl", "0s").ok());
  EXPECT_TRUE(ParsePositiveDuration("--ttl", "1ms").ok());
}

}  // namespace
}  // namespace conch
