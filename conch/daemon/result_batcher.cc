#include "conch/daemon/result_batcher.h"

#include <algorithm>
#include <utility>

#include "conch/daemon/claim_policy.h"

namespace conch::daemon {

void ResultBatcher::Add(RunOutcome outcome, MonoTime now) {
  if (pending_.empty()) oldest_ = now;
  pending_.push_back(std::move(outcome));
}

MonoTime ResultBatcher::Due(bool spawning) const {
  if (pending_.empty()) return MonoTime::Infinite();
  const MonoTime latest = oldest_ + kMaxWait;
  if (spawning) return latest;
  return std::min(latest, std::max(last_start_, last_flush_) + kQuiet);
}

std::vector<std::vector<RunOutcome>> ResultBatcher::TakeDue(MonoTime now,
                                                            bool spawning,
                                                            bool now_anyway) {
  if (pending_.empty() || (!now_anyway && now < Due(spawning))) return {};
  last_flush_ = now;
  std::vector<RunOutcome> all;
  all.swap(pending_);
  return Batches(std::move(all), batch_size_);
}

}  // namespace conch::daemon
