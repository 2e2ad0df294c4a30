// Reaper: the one waitpid(-1) loop of a process that supervises children.
//
// A wrapper or conchd is a child subreaper (BecomeSubreaper): every orphaned
// grandchild is reparented to it and must be reaped by it, but only some
// pids matter to anyone, namely the Children it spawned. Each such Child is
// Watch()ed; Reap() collects every exited pid and hands a watched one its
// wait status (Child::SetExited). It also reports job control: a watched
// child that stopped or continued is told (Child::SetStopped/SetContinued);
// such reports of other pids are ignored. Other pids (grandchildren, a fuse
// guard) are reaped and forgotten, except while KeepUnwatched(true): then their
// statuses are kept (up to kMaxKept) and given to a Child watched later, for
// a quick child can exit, and be reaped by this loop, before the thread that
// spawned it hands it over (conchd starts jobs on spawner threads).
//
// Ownership: watched Children are not owned; Unwatch one before destroying
// it. Thread-compatible: one loop thread calls everything.
//
// Example:
//   BecomeSubreaper();
//   Reaper reaper;
//   reaper.Watch(child.get());
//   ... on SIGCHLD or a timeout:
//   reaper.Reap();
//   if (child->exited()) { ... }
#ifndef CONCH_CORE_PROCESS_REAPER_H_
#define CONCH_CORE_PROCESS_REAPER_H_

#include <sys/types.h>

#include <cstddef>
#include <map>

#include "core/process/child.h"

namespace conch {

// Makes the calling process a child subreaper, so that the grandchildren
// of a child that exits are reparented here and reaped by its Reaper.
void BecomeSubreaper();

class Reaper {
 public:
  // How many statuses of unwatched pids are kept at most (KeepUnwatched).
  static constexpr size_t kMaxKept = 65536;

  Reaper() = default;
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;

  // `child`'s status goes to it from now on; one already kept for its pid
  // is applied at once.
  void Watch(Child* child);
  void Unwatch(pid_t pid);

  // Reaps every exited child without blocking, and passes on the stops and
  // continues of watched ones. Returns how many watched children exited.
  int Reap();

  // Whether the statuses of unwatched pids are kept for a later Watch.
  // Turning it off drops what was kept.
  void KeepUnwatched(bool keep);

 private:
  std::map<pid_t, Child*> watched_;
  std::map<pid_t, int> kept_;  // unwatched pid -> wait status
  bool keep_ = false;
};

}  // namespace conch

#endif  // CONCH_CORE_PROCESS_REAPER_H_
