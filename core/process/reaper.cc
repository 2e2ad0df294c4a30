#include "core/process/reaper.h"

#include <sys/prctl.h>
#include <sys/wait.h>

namespace conch {

void BecomeSubreaper() { prctl(PR_SET_CHILD_SUBREAPER, 1); }

void Reaper::Watch(Child* child) {
  if (auto kept = kept_.find(child->pid()); kept != kept_.end()) {
    child->SetExited(kept->second);
    kept_.erase(kept);
    return;
  }
  watched_[child->pid()] = child;
}

void Reaper::Unwatch(pid_t pid) { watched_.erase(pid); }

int Reaper::Reap() {
  int watched = 0;
  int status = 0;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG | WUNTRACED | WCONTINUED)) > 0) {
    auto it = watched_.find(pid);
    if (WIFSTOPPED(status) || WIFCONTINUED(status)) {
      if (it == watched_.end()) continue;
      if (WIFSTOPPED(status)) {
        it->second->SetStopped(WSTOPSIG(status));
      } else {
        it->second->SetContinued();
      }
      continue;
    }
    if (it != watched_.end()) {
      it->second->SetExited(status);
      watched_.erase(it);
      ++watched;
    } else if (keep_ && kept_.size() < kMaxKept) {
      kept_[pid] = status;
    }
  }
  return watched;
}

void Reaper::KeepUnwatched(bool keep) {
  keep_ = keep;
  if (!keep) kept_.clear();
}

}  // namespace conch
