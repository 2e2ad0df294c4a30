#include "conch/daemon/completion.h"

#include <utility>

namespace conch::daemon {

void CompletionQueue::Push(Completion c, bool notify) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_.push_back(std::move(c));
  }
  if (notify) wake_->Notify();
}

std::vector<Completion> CompletionQueue::TakeAll() {
  std::vector<Completion> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    done.swap(done_);
  }
  outstanding_ -= static_cast<int>(done.size());
  return done;
}

}  // namespace conch::daemon
