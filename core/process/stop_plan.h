// StopPlan: when a holder's process group is stopped, so that it is gone
// before etcd can expire the lease it holds under.
//
// A holder may act until its *local deadline* (the send time of the last
// answered keepalive + TTL, see keepalive.h): etcd cannot expire the lease
// earlier. Stopping the group only at that instant would let a child that
// takes a while to exit overlap its successor by up to `kill_after`. So the
// group is stopped ahead of the deadline, in the wrapper and in the fuse
// alike:
//   SIGTERM (then SIGCONT) at  deadline - kill_after - kMargin
//   SIGKILL                at  deadline - kMargin
// and the session counts as lost from the SIGTERM instant on (lead()).
// kMargin covers what happens after SIGKILL is due: the guard's timer
// waking late, the signal's delivery and the kernel tearing the group down
// (measured in docs/guarantees.md).
//
// The price: a loss is declared `lead()` before the deadline. With a
// keepalive every TTL/3, the plan needs lead() < TTL - TTL/3, or a single
// keepalive answered a little late would already stop the child;
// CheckStopBudget refuses flag values that cannot keep it.
//
// A plain value; thread-compatible.
//
// Example:
//   StopPlan plan{.kill_after = absl::Seconds(2)};
//   MonoTime term = plan.TermAt(session->deadline());
#ifndef CONCH_CORE_PROCESS_STOP_PLAN_H_
#define CONCH_CORE_PROCESS_STOP_PLAN_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/base/mono_time.h"

namespace conch {

struct StopPlan {
  // Between SIGKILL and the local deadline.
  static constexpr absl::Duration kMargin = absl::Milliseconds(100);

  absl::Duration kill_after = absl::Seconds(2);

  // How long before the deadline the holder stops holding.
  absl::Duration lead() const { return kill_after + kMargin; }
  MonoTime TermAt(MonoTime deadline) const { return deadline - lead(); }
  MonoTime KillAt(MonoTime deadline) const { return deadline - kMargin; }
};

// OK when `kill_after` leaves room for the keepalive rhythm under `ttl`:
// kill_after + kMargin < ttl - ttl/3. Otherwise InvalidArgument with a
// one-line hint (the caller exits 64).
absl::Status CheckStopBudget(absl::Duration ttl, absl::Duration kill_after);

}  // namespace conch

#endif  // CONCH_CORE_PROCESS_STOP_PLAN_H_
