#include "core/base/mono_time.h"

#include <time.h>

#include "absl/time/clock.h"

namespace conch {

MonoTime MonoNow() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return MonoTime::FromNanos(int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec);
}

absl::Time ToWallDeadline(MonoTime t) {
  if (t == MonoTime::Infinite()) return absl::InfiniteFuture();
  return absl::Now() + (t - MonoNow());
}

}  // namespace conch
