#include "core/process/stop_plan.h"

#include "absl/strings/str_cat.h"

namespace conch {

absl::Status CheckStopBudget(absl::Duration ttl, absl::Duration kill_after) {
  const absl::Duration room = ttl - ttl / 3;
  const StopPlan plan{kill_after};
  if (plan.lead() < room) return absl::OkStatus();
  // The largest kill-after that fits, rounded down to 100 ms.
  const absl::Duration fits = absl::Floor(
      room - StopPlan::kMargin - absl::Nanoseconds(1), absl::Milliseconds(100));
  return absl::InvalidArgumentError(absl::StrCat(
      "--kill-after ", absl::FormatDuration(kill_after), " does not fit --ttl ",
      absl::FormatDuration(ttl), ": the child is stopped --kill-after + ",
      absl::FormatDuration(StopPlan::kMargin),
      " before the lease's deadline, which must leave more than one "
      "keepalive interval (TTL/3); use --kill-after ",
      fits > absl::ZeroDuration() ? absl::FormatDuration(fits) : "0s",
      " or less, or a longer --ttl"));
}

}  // namespace conch
