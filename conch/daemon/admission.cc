#include "conch/daemon/admission.h"

#include <algorithm>
#include <cmath>

namespace conch::daemon {
namespace {

// Weight of a new sample: about the last 20 starts count, so a burst's
// rising cost shows within the burst.
constexpr double kWeight = 0.05;

}  // namespace

void Admission::RecordStart(absl::Duration cost) {
  if (cost < absl::ZeroDuration()) cost = absl::ZeroDuration();
  cost_ = samples_++ == 0 ? cost : cost_ + (cost - cost_) * kWeight;
}

int Admission::Capacity(absl::Time instant, absl::Time now,
                        const Load& load) const {
  const int64_t committed =
      int64_t{load.running} + load.spawning + load.claiming;
  int64_t room = kUnlimited;
  if (o_.max_running > 0) {
    room = std::max<int64_t>(0, o_.max_running - committed);
  }
  if (cost_ > absl::ZeroDuration()) {
    // The k-th start queued now begins after (queued + k) starts, spread
    // over the spawners; it must begin within the budget of the instant.
    const absl::Duration left =
        o_.max_late * o_.budget - std::max(absl::ZeroDuration(), now - instant);
    const double starts =
        std::floor(absl::FDivDuration(left, cost_) * std::max(1, o_.spawners));
    const int64_t queued = int64_t{load.spawning} + load.claiming;
    const int64_t by_rate =
        starts <= 0 ? 0
                    : std::max<int64_t>(
                          0, static_cast<int64_t>(std::min(
                                 starts, static_cast<double>(kUnlimited))) -
                                 queued);
    room = std::min(room, by_rate);
  }
  return static_cast<int>(std::min<int64_t>(room, kUnlimited));
}

}  // namespace conch::daemon
