// SkipSpanBuffer: overload ticks held until the oldest has waited, then
// handed out as one span per job, in instant order, each tick once.
#include "conch/daemon/skip_spans.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace conch::daemon {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

JobRef Job(const std::string& encoded) {
  auto job = std::make_shared<etcd::CronJob>();
  job->name = encoded;
  job->encoded = encoded;
  return job;
}

Tick At(const JobRef& job, int second) {
  return Tick{job, kT0 + absl::Seconds(second), /*overload=*/true};
}

std::vector<int> Seconds(const SkipSpanBuffer::Span& span) {
  std::vector<int> out;
  for (const Tick& t : span.ticks) {
    out.push_back(static_cast<int>((t.instant - kT0) / absl::Seconds(1)));
  }
  return out;
}

TEST(SkipSpanBufferTest, HoldsTicksUntilTheOldestHasWaited) {
  SkipSpanBuffer buffer(absl::Seconds(5));
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.next(), absl::InfiniteFuture());
  const JobRef a = Job("a");
  buffer.Add(At(a, 0), kT0);
  buffer.Add(At(a, 1), kT0 + absl::Seconds(1));
  EXPECT_EQ(buffer.size(), 2u);
  EXPECT_EQ(buffer.next(), kT0 + absl::Seconds(5));  // from the first add
  EXPECT_TRUE(buffer.TakeDue(kT0 + absl::Milliseconds(4999), false).empty());
  std::vector<SkipSpanBuffer::Span> due =
      buffer.TakeDue(kT0 + absl::Seconds(5), false);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(Seconds(due[0]), (std::vector<int>{0, 1}));
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.next(), absl::InfiniteFuture());
  // The next add starts a new wait.
  buffer.Add(At(a, 7), kT0 + absl::Seconds(8));
  EXPECT_EQ(buffer.next(), kT0 + absl::Seconds(13));
}

TEST(SkipSpanBufferTest, OneSpanPerJobInInstantOrder) {
  SkipSpanBuffer buffer(absl::Seconds(5));
  const JobRef a = Job("a");
  const JobRef b = Job("b");
  const JobRef a2 = Job("a");  // a replaced: a new definition, same name
  buffer.Add(At(a, 3), kT0);
  buffer.Add(At(b, 1), kT0);
  buffer.Add(At(a, 1), kT0);
  buffer.Add(At(a2, 2), kT0);
  std::vector<SkipSpanBuffer::Span> due = buffer.TakeDue(kT0, /*all=*/true);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].job->encoded, "a");
  EXPECT_EQ(due[0].job, a2);
  EXPECT_EQ(Seconds(due[0]), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(due[0].ticks[1].job, a2);  // each tick keeps its definition
  EXPECT_EQ(due[0].ticks[0].job, a);
  EXPECT_EQ(due[1].job->encoded, "b");
  EXPECT_EQ(Seconds(due[1]), (std::vector<int>{1}));
  EXPECT_TRUE(buffer.empty());
  EXPECT_TRUE(buffer.TakeDue(kT0 + absl::Hours(1), true).empty());
}

}  // namespace
}  // namespace conch::daemon
