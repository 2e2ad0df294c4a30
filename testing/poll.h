// Polling with a deadline: the one sanctioned way for fixtures and tests to
// wait for something that has no notification (a port opening, a process
// exiting, a key appearing in etcd).
//
// Contract: the condition is evaluated at least once, then repeatedly with
// `interval` between evaluations, until it holds (OkStatus) or `deadline`
// passes (DeadlineExceeded). The last evaluation happens at or after the
// deadline, so a condition that becomes true "just in time" is not missed.
// Sleeping happens only between evaluations; callers never need a sleep of
// their own to synchronize.
//
// Ownership and thread-safety: the functions keep no state; the condition
// runs on the calling thread and must be safe to call repeatedly.
//
// Example:
//   absl::Status s = conch::test::PollUntil(
//       [&] { return server.Running(); },
//       absl::Now() + absl::Seconds(5));
//   ASSERT_TRUE(s.ok()) << s;
//
//   // With a reason in the timeout message:
//   s = conch::test::PollUntilOk(
//       [&]() -> absl::Status { return CheckHealth(); },
//       absl::Now() + absl::Seconds(10));
#ifndef CONCH_TESTING_POLL_H_
#define CONCH_TESTING_POLL_H_

#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace conch::test {

// Evaluates `cond` until it returns true or `deadline` passes. Returns
// DeadlineExceeded (naming how long it waited) if the condition never held.
absl::Status PollUntil(const std::function<bool()>& cond, absl::Time deadline,
                       absl::Duration interval = absl::Milliseconds(10));

// Like PollUntil, but the condition reports why it does not hold yet: the
// message of the last non-OK status is included in the DeadlineExceeded
// error, which makes timeouts self-explanatory in test logs.
absl::Status PollUntilOk(const std::function<absl::Status()>& cond,
                         absl::Time deadline,
                         absl::Duration interval = absl::Milliseconds(10));

}  // namespace conch::test

#endif  // CONCH_TESTING_POLL_H_
