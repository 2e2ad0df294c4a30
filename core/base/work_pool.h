// WorkPool: a fixed number of threads that run submitted closures in
// submission order (conchd's etcd calls: claims, results, pruning).
//
// A daemon with many jobs due in the same second must not serialize their
// claim round trips on its main loop, nor start a thread per call. The
// pool has `threads` workers fed from one queue; each closure reports back
// on its own (conchd pushes a completion and pokes a Notifier).
//
// Ownership: owns its threads. The destructor runs every queued closure,
// then joins. Thread-safe.
//
// It locks with std::mutex rather than absl::Mutex: Debian's abseil is not
// built for ThreadSanitizer, which then cannot see absl::Mutex's
// happens-before edges, while pthread-based std::mutex is intercepted.
//
// Example:
//   WorkPool pool(8);
//   pool.Submit([&] { auto r = store.Claim(...); done.Push(r); wake.Notify();
//   });
#ifndef CONCH_CORE_BASE_WORK_POOL_H_
#define CONCH_CORE_BASE_WORK_POOL_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace conch {

class WorkPool {
 public:
  explicit WorkPool(int threads);
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;
  ~WorkPool();

  void Submit(std::function<void()> work);
  // How many submitted closures no worker has taken yet. A closure that
  // sees 0 is among the last of its batch (conchd's spawners poke the loop
  // only then).
  size_t Queued();

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;         // constant after construction
};

}  // namespace conch

#endif  // CONCH_CORE_BASE_WORK_POOL_H_
