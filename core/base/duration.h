// Parsing of the duration flags (--ttl, --kill-after, --timeout, ...).
//
// Accepts absl's duration syntax ("500ms", "10s", "2m", "1h30m"); a bare
// number without a unit is refused so that "10" is never silently read as
// nanoseconds or seconds. Pure functions, thread-safe.
//
// Example:
//   absl::StatusOr<absl::Duration> ttl = ParsePositiveDuration("ttl", "10s");
#ifndef CONCH_CORE_BASE_DURATION_H_
#define CONCH_CORE_BASE_DURATION_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace conch {

// Parses `text` as a finite duration ≥ 0. `what` names the flag in the error
// message. Errors are InvalidArgument with a one-line message.
absl::StatusOr<absl::Duration> ParseDuration(absl::string_view what,
                                             absl::string_view text);

// Like ParseDuration, but the duration must be > 0.
absl::StatusOr<absl::Duration> ParsePositiveDuration(absl::string_view what,
                                                     absl::string_view text);

}  // namespace conch

#endif  // CONCH_CORE_BASE_DURATION_H_
