#include "conch/daemon/skip_spans.h"

#include <algorithm>
#include <utility>

namespace conch::daemon {

void SkipSpanBuffer::Add(Tick tick, absl::Time now) {
  if (empty()) due_ = now + hold_;
  Span& span = spans_[tick.job->encoded];
  span.job = tick.job;
  span.ticks.push_back(std::move(tick));
  ++size_;
}

std::vector<SkipSpanBuffer::Span> SkipSpanBuffer::TakeDue(absl::Time now,
                                                          bool all) {
  std::vector<Span> out;
  if (empty() || (!all && now < due_)) return out;
  out.reserve(spans_.size());
  for (auto& [id, span] : spans_) {
    std::stable_sort(
        span.ticks.begin(), span.ticks.end(),
        [](const Tick& a, const Tick& b) { return a.instant < b.instant; });
    out.push_back(std::move(span));
  }
  spans_.clear();
  size_ = 0;
  due_ = absl::InfiniteFuture();
  return out;
}

}  // namespace conch::daemon
