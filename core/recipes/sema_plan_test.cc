#include "core/recipes/sema_plan.h"

#include "gtest/gtest.h"

namespace conch {
namespace {

TEST(SemaPlanTest, RankBelowMaxHolds) {
  struct Case {
    int64_t rank, max;
    SemaPlan want;
  } cases[] = {
      {0, 1, SemaPlan::kHold},
      {1, 1, SemaPlan::kWatchQueue},
      {2, 1, SemaPlan::kWatchPredecessor},
      {99, 1, SemaPlan::kWatchPredecessor},
      {0, 3, SemaPlan::kHold},
      {2, 3, SemaPlan::kHold},
      {3, 3, SemaPlan::kWatchQueue},
      {4, 3, SemaPlan::kWatchPredecessor},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(PlanFor(c.rank, c.max), c.want)
        << "rank " << c.rank << " max " << c.max;
    EXPECT_EQ(MayHold(c.rank, c.max), c.want == SemaPlan::kHold);
  }
}

TEST(SemaPlanTest, ExactlyOneHeadPerQueue) {
  // In a queue of any length, exactly one contender watches the whole
  // queue (the head) and every later one watches a single key: a release
  // can reach at most the head directly.
  for (int64_t max = 1; max <= 5; ++max) {
    for (int64_t length = 0; length <= 20; ++length) {
      int heads = 0, holders = 0, predecessors = 0;
      for (int64_t rank = 0; rank < length; ++rank) {
        switch (PlanFor(rank, max)) {
          case SemaPlan::kHold:
            ++holders;
            break;
          case SemaPlan::kWatchQueue:
            ++heads;
            break;
          case SemaPlan::kWatchPredecessor:
            ++predecessors;
            break;
        }
      }
      EXPECT_EQ(holders, std::min(length, max));
      EXPECT_EQ(heads, length > max ? 1 : 0);
      EXPECT_EQ(predecessors, std::max<int64_t>(0, length - max - 1));
    }
  }
}

}  // namespace
}  // namespace conch
