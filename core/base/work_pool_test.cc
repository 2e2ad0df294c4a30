// WorkPool: every submitted closure runs exactly once, on at most
// `threads` threads at a time, and the destructor drains the queue.
#include "core/base/work_pool.h"

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "testing/poll.h"

namespace conch {
namespace {

TEST(WorkPoolTest, RunsEverythingOnceWithBoundedParallelism) {
  std::atomic<int> ran{0};
  std::atomic<int> active{0};
  std::atomic<int> peak{0};
  {
    WorkPool pool(3);
    for (int i = 0; i < 200; ++i) {
      pool.Submit([&] {
        const int now = ++active;
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        ++ran;
        --active;
      });
    }
  }  // the destructor runs what is queued, then joins
  EXPECT_EQ(ran.load(), 200);
  EXPECT_LE(peak.load(), 3);
  EXPECT_GE(peak.load(), 1);
}

TEST(WorkPoolTest, ClosuresMaySubmitMoreWorkBeforeTheDestructor) {
  std::atomic<int> ran{0};
  std::mutex mu;
  std::condition_variable done;
  bool second_done = false;
  {
    WorkPool pool(1);
    pool.Submit([&] {
      ++ran;
      pool.Submit([&] {
        ++ran;
        {
          std::lock_guard<std::mutex> lock(mu);
          second_done = true;
        }
        done.notify_one();
      });
    });
    std::unique_lock<std::mutex> lock(mu);
    done.wait(lock, [&] { return second_done; });
  }
  EXPECT_EQ(ran.load(), 2);
}

// Queued() counts what no worker has taken: the closure running on the
// only worker is not counted, the ones behind it are, and a closure that
// sees 0 is the last of its batch.
TEST(WorkPoolTest, QueuedCountsWhatNoWorkerHasTaken) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<bool> first_running{false};
  std::atomic<int> saw_zero{0};
  WorkPool pool(1);
  pool.Submit([&] {
    first_running = true;
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
  });
  std::atomic<int> order{0};
  std::atomic<int> zero_at{-1};
  for (int i = 0; i < 3; ++i) {
    pool.Submit([&] {
      const int me = order++;
      if (pool.Queued() == 0) {
        ++saw_zero;
        zero_at = me;
      }
    });
  }
  ASSERT_TRUE(test::PollUntil([&] { return first_running.load(); },
                              absl::Now() + absl::Seconds(10))
                  .ok());
  EXPECT_EQ(pool.Queued(), 3u);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(test::PollUntil([&] { return order.load() == 3; },
                              absl::Now() + absl::Seconds(10))
                  .ok());
  EXPECT_EQ(pool.Queued(), 0u);
  EXPECT_EQ(saw_zero.load(), 1);  // one worker: only the last sees 0
  EXPECT_EQ(zero_at.load(), 2);
}

}  // namespace
}  // namespace conch
