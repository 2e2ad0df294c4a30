#include "conch/daemon/admission.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

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

bool Admission::Roll(int committed, absl::Time now) {
  if (now < second_ + absl::Seconds(1)) return false;
  bool cut = false;
  // The second's runs that ended are judged as a whole.
  if (stretched_ >= kMinStretched && 2 * stretched_ >= ended_) {
    cut = Cut(committed, now,
              absl::StrCat(stretched_, " of ", ended_, " runs stretched"));
  } else if (second_clean_ && limit_ < kUnlimited &&
             second_ != absl::InfinitePast()) {
    limit_ = std::min<int64_t>(kUnlimited,
                               limit_ + std::max<int64_t>(16, limit_ / 10));
  }
  second_ = now;
  second_clean_ = true;
  ended_ = 0;
  stretched_ = 0;
  return cut;
}

bool Admission::Cut(int committed, absl::Time now, std::string why) {
  second_clean_ = false;
  if (now < next_cut_) return false;
  limit_ = std::max<int64_t>(kMinLimit,
                             std::min<int64_t>(limit_, committed * 7 / 10));
  next_cut_ = now + absl::Seconds(1);
  cut_reason_ = std::move(why);
  return true;
}

bool Admission::RecordLag(absl::Duration lag, int committed, absl::Time now) {
  bool cut = Roll(committed, now);
  if (lag > o_.max_late / 4) {
    cut =
        Cut(committed, now,
            absl::StrCat(
                "a start ",
                absl::FormatDuration(absl::Trunc(lag, absl::Milliseconds(100))),
                " late")) ||
        cut;
  } else if (lag > o_.max_late / 8) {
    second_clean_ = false;
  }
  return cut;
}

bool Admission::RecordEnd(const std::string& job, absl::Duration ran,
                          int committed, absl::Time now) {
  const bool cut = Roll(committed, now);
  if (ran < absl::ZeroDuration()) ran = absl::ZeroDuration();
  ++ended_;
  auto [it, first] = shortest_.try_emplace(job, ran);
  if (first) return cut;
  if (ran > std::max(it->second, kStretchFloor) * kStretch) {
    ++stretched_;
    second_clean_ = false;
  }
  it->second = std::min(it->second, ran);
  return cut;
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
