// Replay a failing property with its seed:
//   bazel test //core/recipes:sema_plan_test --test_env=RC_PARAMS="seed=N"
#include "core/recipes/sema_plan.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace conch {
namespace {

TEST(SemaPlanTest, RankBelowMaxHolds) {
  struct Case {
    int64_t rank, max;
    SemaPlan want;
    int64_t watched;
  } cases[] = {
      {0, 1, SemaPlan::kHold, 0},       {1, 1, SemaPlan::kWatchAhead, 1},
      {2, 1, SemaPlan::kWatchAhead, 1}, {99, 1, SemaPlan::kWatchAhead, 1},
      {0, 3, SemaPlan::kHold, 0},       {2, 3, SemaPlan::kHold, 0},
      {3, 3, SemaPlan::kWatchAhead, 3}, {4, 3, SemaPlan::kWatchAhead, 3},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(PlanFor(c.rank, c.max), c.want)
        << "rank " << c.rank << " max " << c.max;
    EXPECT_EQ(MayHold(c.rank, c.max), c.want == SemaPlan::kHold);
    EXPECT_EQ(WatchedAhead(c.rank, c.max), c.watched)
        << "rank " << c.rank << " max " << c.max;
  }
}

// A queue of contenders 0…length-1 (by create revision), each with the
// watches the plan gives it at its rank; then a random set of keys is deleted
// while NOBODY reacts (every contender frozen, none re-ranks).
// Whenever a contender has become eligible, one of its watched keys must
// be among the deleted ones (so its own watch woke it), and each deletion
// reaches at most N watchers.
RC_GTEST_PROP(SemaPlanProperty, EligibilityIsAnnouncedByADeletionItWatches,
              ()) {
  const int64_t max = *rc::gen::inRange<int64_t>(1, 5);
  const int64_t length = *rc::gen::inRange<int64_t>(0, 40);
  std::map<int64_t, std::set<int64_t>> watches;  // contender → keys
  std::map<int64_t, int> watchers;               // key → how many watch it
  for (int64_t c = 0; c < length; ++c) {
    const int64_t n = WatchedAhead(/*rank=*/c, max);
    for (int64_t k = c - n; k < c; ++k) {
      watches[c].insert(k);
      ++watchers[k];
    }
  }
  for (const auto& [key, count] : watchers) RC_ASSERT(count <= max);

  // Nobody reacts, so the order of the deletions does not matter: only
  // which keys are gone.
  const std::vector<bool> gone = *rc::gen::container<std::vector<bool>>(
      static_cast<size_t>(length), rc::gen::arbitrary<bool>());
  std::set<int64_t> deleted;
  for (int64_t k = 0; k < length; ++k) {
    if (gone[k]) deleted.insert(k);
  }
  for (int64_t c = 0; c < length; ++c) {
    if (deleted.count(c) != 0 || MayHold(c, max)) continue;  // held at once
    int64_t ahead = 0;
    for (int64_t k = 0; k < c; ++k) ahead += deleted.count(k) == 0;
    if (!MayHold(ahead, max)) continue;
    bool woken = false;
    for (int64_t k : watches[c]) woken = woken || deleted.count(k) != 0;
    RC_ASSERT(woken);
  }
}

}  // namespace
}  // namespace conch
