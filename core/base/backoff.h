// Backoff: the one retry delay sequence conch uses everywhere (reconnects to
// etcd, `--restart` of a child), per spec 01 "Backoff".
//
// Contract: the un-jittered base starts at `initial` (1 s), is multiplied by
// `factor` (2) after every Next() and capped at `max` (60 s), giving
// 1, 2, 4, 8, 16, 32, 60, 60, ... seconds. Each delay returned by Next() is
// its base scaled by a factor drawn uniformly from [1 - jitter, 1 + jitter]
// (±20 %), so a delay is never above max * (1 + jitter). The jitter comes from
// a std::mt19937_64 seeded by the caller and is computed from its raw 64-bit
// output only, so a seed gives the same delays on every platform. A child
// that ran for at least `reset_after` (60 s) resets the sequence to its start
// (RecordRun). Pure: no clock, no sleeping; the caller waits.
//
// Ownership and thread-safety: a value type that owns its generator; copy it
// freely. Thread-compatible: one Backoff per retry loop, not shared between
// threads without external locking.
//
// Example (`--restart`):
//   Backoff backoff(BackoffPolicy{}, seed);
//   for (;;) {
//     absl::Duration ran = RunChild();
//     backoff.RecordRun(ran);           // a stable run starts over at 1 s
//     absl::SleepFor(backoff.Next());   // ~1 s, ~2 s, ~4 s, ... ~60 s
//   }
#ifndef CONCH_CORE_BASE_BACKOFF_H_
#define CONCH_CORE_BASE_BACKOFF_H_

#include <cstdint>
#include <random>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace conch {

// The parameters of a backoff sequence. The defaults are conch's policy.
struct BackoffPolicy {
  // The first base delay; > 0.
  absl::Duration initial = absl::Seconds(1);
  // Growth of the base per attempt; >= 1.
  double factor = 2;
  // Cap of the base; >= initial.
  absl::Duration max = absl::Seconds(60);
  // Relative jitter in [0, 1]: a delay lies in base * [1 - jitter, 1 + jitter].
  double jitter = 0.2;
  // A run at least this long resets the sequence; >= 0.
  absl::Duration reset_after = absl::Seconds(60);
};

// OK when every field of `policy` is finite and within the range documented
// on BackoffPolicy; otherwise InvalidArgument naming the first bad field.
absl::Status ValidateBackoffPolicy(const BackoffPolicy& policy);

class Backoff {
 public:
  // `policy` should pass ValidateBackoffPolicy. Out-of-range fields are
  // clamped into range (initial to >= 1 ns, factor to >= 1, max to
  // >= initial, jitter to [0, 1], reset_after to >= 0) so that the sequence
  // is always defined. `seed` alone determines the jitter.
  Backoff(BackoffPolicy policy, uint64_t seed);

  // Returns the jittered delay to wait before the next attempt and advances
  // the base: base * [1 - jitter, 1 + jitter], then base = min(base * factor,
  // max).
  absl::Duration Next();

  // The un-jittered base of the delay the next call to Next() will return.
  absl::Duration NextBase() const { return base_; }

  // Starts the sequence over: the next base is `initial` again. The jitter
  // generator is not re-seeded.
  void Reset();

  // Reports how long the last attempt (child run, connection) lasted; calls
  // Reset() when `ran` >= reset_after.
  void RecordRun(absl::Duration ran);

  // The policy in effect, after clamping.
  const BackoffPolicy& policy() const { return policy_; }

 private:
  BackoffPolicy policy_;
  absl::Duration base_;
  std::mt19937_64 rng_;
};

}  // namespace conch

#endif  // CONCH_CORE_BASE_BACKOFF_H_
