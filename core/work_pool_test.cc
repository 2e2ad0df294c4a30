// WorkPool: every submitted closure runs exactly once, on at most
// `threads` threads at a time, and the destructor drains the queue.
#include "core/work_pool.h"

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "gtest/gtest.h"

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

}  // namespace
}  // namespace conch
