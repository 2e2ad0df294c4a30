#include "core/process/group_run.h"

#include <signal.h>

#include <algorithm>
#include <utility>

namespace conch {

GroupRun::GroupRun(std::unique_ptr<Child> child,
                   std::shared_ptr<const Fuse> fuse, absl::Duration kill_after)
    : child_(std::move(child)),
      fuse_(std::move(fuse)),
      kill_after_(kill_after) {}

void GroupRun::Stop(MonoTime now) {
  if (stopping()) return;
  child_->SignalGroup(SIGTERM);
  child_->SignalGroup(SIGCONT);  // a stopped group cannot act on it
  kill_at_ = now + kill_after_;
}

void GroupRun::StopForLoss(MonoTime now) {
  if (stopping()) return;
  if (fuse_ == nullptr || !fuse_->GuardAlive()) {
    Stop(now);
    return;
  }
  // One SIGTERM per loss: the fuse's. Fired() is also true when the guard
  // reported firing on its own; several runs share one fuse.
  if (!fuse_->Fired()) fuse_->Fire();
  kill_at_ = now + kill_after_ + kKillAgain;
}

bool GroupRun::Advance(MonoTime now) {
  if (Done()) return true;
  // The child is gone but its group is not: the group is the run.
  if (child_->exited()) Stop(now);
  if (now >= kill_at_) {
    child_->SignalGroup(SIGKILL);
    kill_at_ = now + kKillAgain;  // again until the group is gone
  }
  return false;
}

MonoTime GroupRun::NextWake(MonoTime now) const {
  MonoTime wake = kill_at_;
  // A stopping group is looked at again soon: its members need not be
  // our children, so their exits do not all raise SIGCHLD here.
  if (child_->exited() || stopping()) wake = std::min(wake, now + kRecheck);
  return wake;
}

}  // namespace conch
