// SkipSpanBuffer: the ticks a conchd had no room for and nobody else took
// (admission.h), held for a while so that each job's skipped ticks are
// written as one skip span (CronStore::WriteSkipSpans) rather than a claim
// and a result each. Under a load far past saturation those two keys per
// tick were most of etcd's work and starved the claims of the ticks that
// could run (issue 18).
//
// Contract: ticks are grouped by job (encoded name: a replaced job's
// ticks share one span); a flush takes every
// tick held once the oldest has waited `hold` (or all of them when asked,
// e.g. when the daemon stops), as one Span per job with its ticks in
// instant order. Nothing is dropped: a tick added is in exactly one Span.
//
// A daemon killed (SIGKILL) while ticks wait here loses them: those ticks
// are then neither run nor recorded. `hold` bounds that window.
//
// Thread-compatible (conchd's loop thread). Times are wall-clock.
//
// Example:
//   SkipSpanBuffer spans(absl::Seconds(5));
//   spans.Add(std::move(tick), absl::Now());
//   for (SkipSpanBuffer::Span& s : spans.TakeDue(absl::Now(), false)) ...
#ifndef CONCH_CONCH_DAEMON_SKIP_SPANS_H_
#define CONCH_CONCH_DAEMON_SKIP_SPANS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "conch/daemon/job_table.h"

namespace conch::daemon {

class SkipSpanBuffer {
 public:
  explicit SkipSpanBuffer(absl::Duration hold) : hold_(hold) {}

  struct Span {
    JobRef job;               // the newest definition seen
    std::vector<Tick> ticks;  // by instant
  };

  void Add(Tick tick, absl::Time now);
  // Every tick held, when the oldest has waited `hold` by `now` or `all`;
  // else nothing.
  std::vector<Span> TakeDue(absl::Time now, bool all);
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  // When TakeDue will next return ticks (InfiniteFuture when empty).
  absl::Time next() const { return empty() ? absl::InfiniteFuture() : due_; }

 private:
  // Constant after construction.
  const absl::Duration hold_;

  std::map<std::string, Span> spans_;  // by encoded job name
  size_t size_ = 0;
  absl::Time due_ = absl::InfiniteFuture();
};

}  // namespace conch::daemon

#endif  // CONCH_CONCH_DAEMON_SKIP_SPANS_H_
