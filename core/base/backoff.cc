#include "core/base/backoff.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace conch {
namespace {

bool IsFinite(absl::Duration d) {
  return d != absl::InfiniteDuration() && d != -absl::InfiniteDuration();
}

// Clamps every field into the range ValidateBackoffPolicy accepts (infinite
// durations are kept: absl's arithmetic saturates, so they stay defined).
BackoffPolicy Clamp(BackoffPolicy p) {
  p.initial = std::max(p.initial, absl::Nanoseconds(1));
  if (!(p.factor >= 1)) p.factor = 1;  // Also catches NaN.
  p.max = std::max(p.max, p.initial);
  if (!(p.jitter >= 0)) p.jitter = 0;  // Also catches NaN.
  p.jitter = std::min(p.jitter, 1.0);
  p.reset_after = std::max(p.reset_after, absl::ZeroDuration());
  return p;
}

// A uniform double in [0, 1) from the top 53 bits of one 64-bit draw.
// mt19937_64's output sequence is fixed by the C++ standard, unlike
// std::uniform_real_distribution's, so this is the same on every platform.
double UnitInterval(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

}  // namespace

absl::Status ValidateBackoffPolicy(const BackoffPolicy& policy) {
  if (!IsFinite(policy.initial) || policy.initial <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("backoff initial must be finite and > 0, got ",
                     absl::FormatDuration(policy.initial)));
  }
  if (!std::isfinite(policy.factor) || policy.factor < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "backoff factor must be finite and >= 1, got ", policy.factor));
  }
  if (!IsFinite(policy.max) || policy.max < policy.initial) {
    return absl::InvalidArgumentError(
        absl::StrCat("backoff max must be finite and >= initial, got ",
                     absl::FormatDuration(policy.max)));
  }
  if (!(policy.jitter >= 0 && policy.jitter <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("backoff jitter must be in [0, 1], got ", policy.jitter));
  }
  if (!IsFinite(policy.reset_after) ||
      policy.reset_after < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("backoff reset_after must be finite and >= 0, got ",
                     absl::FormatDuration(policy.reset_after)));
  }
  return absl::OkStatus();
}

Backoff::Backoff(BackoffPolicy policy, uint64_t seed)
    : policy_(Clamp(policy)), base_(policy_.initial), rng_(seed) {}

absl::Duration Backoff::Next() {
  const absl::Duration base = base_;
  base_ = std::min(base_ * policy_.factor, policy_.max);

  const absl::Duration lo = base * (1 - policy_.jitter);
  const absl::Duration hi = base * (1 + policy_.jitter);
  const absl::Duration delay = lo + (hi - lo) * UnitInterval(rng_);
  return std::clamp(delay, lo, hi);  // Guards against rounding at the ends.
}

void Backoff::Reset() { base_ = policy_.initial; }

void Backoff::RecordRun(absl::Duration ran) {
  if (ran >= policy_.reset_after) Reset();
}

}  // namespace conch
