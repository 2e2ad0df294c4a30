// The pieces `conch elect` and `conch sema` share once they have decided
// what to hold: the holder record, waiting while listening to signals, and
// running the child under the session with the fuse armed.
//
// Thread-compatible: everything runs on the main thread, which owns the
// SignalSet; only FuseLink::Push is called from gRPC threads.
//
// Example:
//   FuseLink link;
//   SessionOptions so{.on_deadline = link.Listener(), .on_event = ...};
//   ...
//   std::unique_ptr<Fuse> fuse;  // LiveFuse(&fuse, ...) before gRPC starts
//   ...
//   absl::StatusOr<SupervisorResult> r =
//       RunHeld(spec, *session, &fuse, link, ...);
#ifndef CONCH_CONCH_WRAPPER_H_
#define CONCH_CONCH_WRAPPER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/child.h"
#include "core/fuse.h"
#include "core/keepalive.h"
#include "core/mono_time.h"
#include "core/notifier.h"
#include "core/records.pb.h"
#include "core/session.h"
#include "core/signals.h"
#include "core/supervisor.h"
#include "core/types.h"

namespace conch {

// The holder record of this process: host, pid, user, since = now, lease,
// argv (sanitized to UTF-8).
records::Holder MakeHolder(etcd::LeaseId lease,
                           const std::vector<std::string>& argv);

// Hands keepalive deadlines to the current fuse, if any.
class FuseLink {
 public:
  // For SessionOptions::on_deadline.
  etcd::KeepAlive::Listener Listener();
  void Set(const Fuse* fuse) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  const Fuse* fuse_ ABSL_GUARDED_BY(mu_) = nullptr;
};

// Why WaitForEvent returned.
struct WaitResult {
  enum class What { kTimeout, kEvent, kStop };
  What what = What::kTimeout;
  int signal = 0;  // kStop: the signal that asked us to stop
};

// Waits until `until`, a Notifier event, or a stop signal (SIGINT, SIGTERM,
// SIGHUP, SIGQUIT). Reaps exited children (e.g. an old fuse guard);
// SIGUSR1/SIGUSR2 are ignored while there is no child to forward them to.
WaitResult WaitForEvent(SignalSet& signals, const Notifier& wake,
                        MonoTime until);

struct HeldRunSpec {
  std::string path;
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;  // CONCH_*
  absl::Duration kill_after;
};

// The fuse of `*fuse` if its guard is alive and has not fired; otherwise
// (none yet, or it fired: see Fuse::Fired) a new one in its place. A wrapper
// starts its fuse before gRPC starts any thread, where the fork is cheapest,
// and reuses it for every run (--restart), Release-ing each child's group.
absl::StatusOr<Fuse*> LiveFuse(std::unique_ptr<Fuse>* fuse,
                               absl::Duration kill_after);

// Checks that the session still holds (else: kLeaseLost without starting
// anything), spawns the child, arms the fuse (LiveFuse) with the child's
// group and the session's deadline, supervises until the child is gone, and
// releases the group. A child that cannot be executed is returned as an
// error (NotFound → 127, else 126).
absl::StatusOr<SupervisorResult> RunHeld(const HeldRunSpec& spec,
                                         etcd::Session& session,
                                         std::unique_ptr<Fuse>* fuse,
                                         FuseLink& link, SignalSet& signals,
                                         const Notifier& wake);

}  // namespace conch

#endif  // CONCH_CONCH_WRAPPER_H_
