// Fuse: a guard process that stops the child's process group when the
// wrapper cannot.
//
// The guarantees of the wrapper must not depend on the wrapper being
// scheduled. Start() forks a tiny guard (no exec, no allocation after the
// fork: it only polls a pipe, reads the monotonic clock and sends signals)
// in a session of its own, so that signals aimed at the wrapper's process
// group do not reach it. The wrapper keeps one end of a socket pair and
// pushes to it
//   - Arm(pgid, deadline): a child's group (one more to guard) and the
//     lease deadline;
//   - SetDeadline(deadline): after every keepalive answer;
//   - Release(pgid): that group is gone (conchd guards many runs with one
//     fuse per session and releases each when it ends);
//   - Disarm(): the children are gone and the wrapper is about to exit.
//   - Fire(): the lease is lost now (revoked, key deleted): stop the
//     groups at once.
// The guard, on its own, for every armed group:
//   - when the socket reports EOF (the wrapper died, even by SIGKILL: the
//     kernel closes its descriptors) → SIGKILL to the groups at once;
//   - at the StopPlan's SIGTERM instant, deadline - kill_after - margin
//     (wrapper frozen by SIGSTOP, starved, paused, or etcd unreachable), or
//     on Fire → SIGTERM and SIGCONT to the groups, SIGKILL at
//     deadline - margin (after Fire: after `kill_after`, or at that
//     instant if it comes first); then it exits.
// After Disarm it exits without signalling.
//
// A fuse fires once. Before its first signal it tells the wrapper so, on
// the same socket (report_fd() becomes readable); Fired() is true from
// then on, and also once Fire() was called or the guard is gone. A fired
// fuse is never armed again: the wrapper starts a new one for its next
// child. The fuse is the one that sends SIGTERM on a loss (the wrapper
// sends it itself only when its guard is gone), so a child gets exactly
// one SIGTERM per loss.
//
// With the fuse, even a child that needs the whole grace to exit is gone
// before the local lease deadline, which comes no later than the server's
// expiry: before anyone else can be handed the lease's place.
//
// Ownership: the Fuse owns the guard process and the socket; the destructor
// disarms and reaps it. Thread-safe (each message is one datagram).
//
// Example:
//   absl::StatusOr<std::unique_ptr<Fuse>> fuse = Fuse::Start(kill_after);
//   ... spawn the child ...
//   (*fuse)->Arm(child->pgid(), session->deadline());
//   // from the keepalive listener:
//   (*fuse)->SetDeadline(new_deadline);
//   // on a loss the wrapper learned of first:
//   (*fuse)->Fire();
#ifndef CONCH_CORE_PROCESS_FUSE_H_
#define CONCH_CORE_PROCESS_FUSE_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/base/mono_time.h"

namespace conch {

class Fuse {
 public:
  static absl::StatusOr<std::unique_ptr<Fuse>> Start(absl::Duration kill_after);

  Fuse(const Fuse&) = delete;
  Fuse& operator=(const Fuse&) = delete;
  ~Fuse();

  // How many groups one guard holds at once; further Arm calls are ignored
  // (the caller keeps count and starts another fuse, or refuses the run).
  static constexpr int kMaxGroups = 8192;

  pid_t guard_pid() const { return guard_pid_; }

  void Arm(pid_t pgid, MonoTime deadline) const;
  void Release(pid_t pgid) const;
  // Several groups at once, in as few datagrams as fit (one wakeup of the
  // guard for many runs that ended together).
  void Release(const std::vector<pid_t>& pgids) const;
  void SetDeadline(MonoTime deadline) const;
  // Stop every armed group now (see above). Fired() is true from here on.
  void Fire() const;
  void Disarm() const;
  // Whether the guard process is still running (it exits once it fired).
  bool GuardAlive() const;
  // Whether this fuse has fired or may fire: the guard reported firing,
  // Fire() was called, or the guard is gone. Never blocks.
  bool Fired() const;
  // Readable when the guard has something to report (it fired, or it
  // exited): poll it beside the wrapper's other descriptors.
  int report_fd() const { return fd_; }

 private:
  Fuse(pid_t guard_pid, int fd) : guard_pid_(guard_pid), fd_(fd) {}
  void Send(int64_t type, int64_t value, int64_t deadline = 0) const;

  // Constant after construction.
  const pid_t guard_pid_;
  const int fd_;  // our end of the socket pair: messages out, reports in

  mutable std::atomic<bool> fired_{false};
};

}  // namespace conch

#endif  // CONCH_CORE_PROCESS_FUSE_H_
