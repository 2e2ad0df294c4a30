#include "testing/poll.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace conch::test {

absl::Status PollUntilOk(const std::function<absl::Status()>& cond,
                         absl::Time deadline, absl::Duration interval) {
  const absl::Time start = absl::Now();
  absl::Status last;
  int attempts = 0;
  while (true) {
    ++attempts;
    last = cond();
    if (last.ok()) return absl::OkStatus();
    const absl::Time now = absl::Now();
    if (now >= deadline) break;
    absl::SleepFor(std::min(interval, deadline - now));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("condition did not hold after ",
                   absl::FormatDuration(absl::Now() - start), " (", attempts,
                   " attempts); last result: ", last.ToString()));
}

absl::Status PollUntil(const std::function<bool()>& cond, absl::Time deadline,
                       absl::Duration interval) {
  return PollUntilOk(
      [&cond]() -> absl::Status {
        return cond() ? absl::OkStatus()
                      : absl::UnavailableError("condition was false");
      },
      deadline, interval);
}

}  // namespace conch::test
