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

void Admission::RecordLag(absl::Duration lag, int committed, absl::Time now) {
  if (lag > o_.max_late / 4) {
    second_clean_ = false;
    if (now >= next_cut_) {
      limit_ = std::max<int64_t>(kMinLimit,
                                 std::min<int64_t>(limit_, committed * 7 / 10));
      next_cut_ = now + absl::Seconds(1);
    }
  } else if (lag > o_.max_late / 8) {
    second_clean_ = false;
  }
  if (now < second_ + absl::Seconds(1)) return;
  // A new second: raise the limit if the last one was clean.
  if (second_clean_ && limit_ < kUnlimited && second_ != absl::InfinitePast()) {
    limit_ = std::min<int64_t>(kUnlimited,
                               limit_ + std::max<int64_t>(16, limit_ / 10));
  }
  second_ = now;
  second_clean_ = lag <= o_.max_late / 8;
}

int Admission::Capacity(absl::Time instant, absl::Time now,
                        const Load& load) const {
  const int64_t committed =
      int64_t{load.running} + load.spawning + load.claiming;
  int64_t room = kUnlimited;
  if (o_.max_running > 0) {
    room = std::max<int64_t>(0, o_.max_running - committed);
  }
  if (limit_ < kUnlimited) {
    room = std::min(room, std::max<int64_t>(0, limit_ - committed));
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
