// MonoTime: an instant on CLOCK_MONOTONIC.
//
// Lease deadlines are measured on the monotonic clock, which never jumps
// with NTP or an operator changing the wall clock, and which is shared by
// every process on the host (so a deadline can be handed to another process,
// see the fuse). MonoTime is a distinct type so that it cannot be mixed up
// with absl::Time, which is wall-clock based.
//
// Thread-safety: a value type; MonoNow() is safe from any thread.
//
// Example:
//   MonoTime deadline = MonoNow() + absl::Seconds(10);
//   if (MonoNow() >= deadline) { /* lost */ }
//   absl::Duration left = deadline - MonoNow();
#ifndef CONCH_CORE_BASE_MONO_TIME_H_
#define CONCH_CORE_BASE_MONO_TIME_H_

#include <cstdint>

#include "absl/time/time.h"

namespace conch {

class MonoTime {
 public:
  // The origin of the monotonic clock (boot, on Linux).
  constexpr MonoTime() = default;
  static MonoTime FromNanos(int64_t ns) {
    return MonoTime(absl::Nanoseconds(ns));
  }
  // The furthest future instant; used as "no deadline".
  static MonoTime Infinite() { return MonoTime(absl::InfiniteDuration()); }

  int64_t nanos() const { return absl::ToInt64Nanoseconds(since_origin_); }
  absl::Duration since_origin() const { return since_origin_; }

  MonoTime& operator+=(absl::Duration d) {
    since_origin_ += d;
    return *this;
  }
  friend MonoTime operator+(MonoTime t, absl::Duration d) { return t += d; }
  friend MonoTime operator-(MonoTime t, absl::Duration d) {
    return MonoTime(t.since_origin_ - d);
  }
  friend absl::Duration operator-(MonoTime a, MonoTime b) {
    return a.since_origin_ - b.since_origin_;
  }
  friend bool operator<(MonoTime a, MonoTime b) {
    return a.since_origin_ < b.since_origin_;
  }
  friend bool operator<=(MonoTime a, MonoTime b) { return !(b < a); }
  friend bool operator>(MonoTime a, MonoTime b) { return b < a; }
  friend bool operator>=(MonoTime a, MonoTime b) { return !(a < b); }
  friend bool operator==(MonoTime a, MonoTime b) {
    return a.since_origin_ == b.since_origin_;
  }
  friend bool operator!=(MonoTime a, MonoTime b) { return !(a == b); }

 private:
  explicit MonoTime(absl::Duration d) : since_origin_(d) {}
  absl::Duration since_origin_;
};

// Reads CLOCK_MONOTONIC.
MonoTime MonoNow();

// The wall-clock deadline (for APIs such as gRPC and absl::Mutex) that lies
// as far in the future as `t` does on the monotonic clock.
absl::Time ToWallDeadline(MonoTime t);

}  // namespace conch

#endif  // CONCH_CORE_BASE_MONO_TIME_H_
