// GroupRun: one child's process group, from its start until the whole
// group is gone, stopped without ever blocking.
//
// The holder of a lease or of a cron tick is the child's whole process
// group, not only the child: a group outlives its child when the child
// leaves background processes behind. A GroupRun is advanced by its
// owner's loop (Advance) with the current time and does what is due:
//   - the child exited but its group lingers: SIGTERM and SIGCONT to the
//     group (Stop), SIGKILL after `kill_after`, re-sent every 100 ms
//     until the group is gone;
//   - Stop(): the same, asked for (a shutdown, a stop signal);
//   - StopForLoss(): the lease is lost. When a live fuse guards the group,
//     the fuse sends the one SIGTERM of the loss (at once, or it already
//     did) and SIGKILL before the lease's deadline; the GroupRun sends
//     SIGKILL only if the group outlives `kill_after` + 100 ms. Without a
//     live fuse it is Stop().
// Done() once the child has been reaped (Child::SetExited, see Reaper) and
// no process of its group is left.
//
// Ownership: owns the Child; shares the fuse that guards the group (a fuse
// guards many groups, and must live while any of them runs). Does not
// Release the group from the fuse: the owner does, batched, once Done().
// Thread-compatible.
//
// Example:
//   GroupRun run(*std::move(child), fuse, absl::Seconds(2));
//   reaper.Watch(&run.child());
//   while (!run.Advance(MonoNow())) {
//     ... poll until run.NextWake(MonoNow()), reaper.Reap() ...
//   }
//   fuse->Release(run.child().pgid());
#ifndef CONCH_CORE_PROCESS_GROUP_RUN_H_
#define CONCH_CORE_PROCESS_GROUP_RUN_H_

#include <memory>

#include "absl/time/time.h"
#include "core/base/mono_time.h"
#include "core/process/child.h"
#include "core/process/fuse.h"

namespace conch {

class GroupRun {
 public:
  // How often SIGKILL is re-sent to a group that outlives it, and how
  // often a lingering group is looked at.
  static constexpr absl::Duration kRecheck = absl::Milliseconds(20);
  static constexpr absl::Duration kKillAgain = absl::Milliseconds(100);

  GroupRun(std::unique_ptr<Child> child, std::shared_ptr<const Fuse> fuse,
           absl::Duration kill_after);

  Child& child() { return *child_; }
  const Child& child() const { return *child_; }
  const std::shared_ptr<const Fuse>& fuse() const { return fuse_; }

  // SIGTERM and SIGCONT to the group now, SIGKILL after kill_after. Only
  // the first stop request counts.
  void Stop(MonoTime now);
  // The lease is lost: see above. Only the first stop request counts.
  void StopForLoss(MonoTime now);
  // Whether the group has been told to stop.
  bool stopping() const { return kill_at_ != MonoTime::Infinite(); }

  // Does what is due at `now`; true once the run is done.
  bool Advance(MonoTime now);
  // Whether the child was reaped and its group is gone.
  bool Done() const { return child_->exited() && !child_->GroupAlive(); }

  // When Advance has something to do without an outside event: the
  // SIGKILL instant, or soon while an exited child's group lingers.
  MonoTime NextWake(MonoTime now) const;

 private:
  // Constant after construction.
  const std::unique_ptr<Child> child_;
  const std::shared_ptr<const Fuse> fuse_;  // may be null
  const absl::Duration kill_after_;

  MonoTime kill_at_ = MonoTime::Infinite();  // set once told to stop
};

}  // namespace conch

#endif  // CONCH_CORE_PROCESS_GROUP_RUN_H_
