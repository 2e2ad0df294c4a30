#include "conch/daemon/claim_policy.h"

#include <algorithm>
#include <utility>

namespace conch::daemon {

uint64_t StableHash(absl::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

void Roster::Set(std::vector<std::string> live, bool registered) {
  if (registered) live.push_back(self_);
  std::sort(live.begin(), live.end());
  live.erase(std::unique(live.begin(), live.end()), live.end());
  live_ = std::move(live);
}

const std::string& Roster::PreferredClaimer(absl::string_view encoded) const {
  if (live_.empty()) return self_;
  return live_[StableHash(encoded) % live_.size()];
}

void FallbackQueue::Add(Tick tick) {
  next_ = std::min(next_, tick.instant + delay_);
  ticks_.push_back(std::move(tick));
}

std::vector<Tick> FallbackQueue::TakeDue(absl::Time now) {
  std::vector<Tick> due;
  if (now < next_) return due;
  std::vector<Tick> later;
  next_ = absl::InfiniteFuture();
  for (Tick& t : ticks_) {
    if (t.instant + delay_ <= now) {
      due.push_back(std::move(t));
    } else {
      next_ = std::min(next_, t.instant + delay_);
      later.push_back(std::move(t));
    }
  }
  ticks_ = std::move(later);
  return due;
}

void FallbackQueue::Clear() {
  ticks_.clear();
  next_ = absl::InfiniteFuture();
}

ClaimPlan PlanClaims(std::vector<Tick> due, const Roster& roster) {
  ClaimPlan plan;
  for (Tick& t : due) {
    if (!roster.Prefers(t.job->encoded)) {
      plan.fallback.push_back(std::move(t));
    } else if (t.job->job.overlap() == "skip") {
      plan.single.push_back(std::move(t));
    } else {
      plan.batched.push_back(std::move(t));
    }
  }
  return plan;
}

}  // namespace conch::daemon
