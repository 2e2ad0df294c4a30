// The wrapper: the mechanics under a campaign (campaign.h), with no policy
// of their own. The holder record; waiting while listening to signals;
// running one child under a held session with its group armed in the fuse
// (RunHeld), until the child's group is gone.
//
// Thread-compatible: everything runs on the main thread, which owns the
// SignalSet (the FuseKeeper is fed from gRPC threads).
//
// Example:
//   FuseKeeper fuses(kill_after);  // fuses.Current() before gRPC starts
//   SessionOptions so{.on_deadline = fuses.DeadlineListener(), ...};
//   ...
//   absl::StatusOr<SupervisorResult> r =
//       RunHeld(spec, *session, fuses, signals, wake);
#ifndef CONCH_CONCH_WRAPPER_H_
#define CONCH_CONCH_WRAPPER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/base/mono_time.h"
#include "core/base/notifier.h"
#include "core/etcd/types.h"
#include "core/process/child.h"
#include "core/process/fuse_keeper.h"
#include "core/process/signals.h"
#include "core/process/supervisor.h"
#include "core/recipes/session.h"
#include "core/records/records.pb.h"

namespace conch {

// The holder record of this process: host, pid, user, since = now, lease,
// argv (sanitized to UTF-8).
records::Holder MakeHolder(etcd::LeaseId lease,
                           const std::vector<std::string>& argv);

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

// Checks that the session still holds (else: kLeaseLost without starting
// anything), spawns the child, arms the keeper's fuse (FuseKeeper::Current)
// with the child's group and the session's deadline, supervises until the child
// is gone, and releases the group. A child that cannot be executed is returned
// as an error (NotFound → 127, else 126).
absl::StatusOr<SupervisorResult> RunHeld(const HeldRunSpec& spec,
                                         etcd::Session& session,
                                         FuseKeeper& fuses, SignalSet& signals,
                                         const Notifier& wake);

}  // namespace conch

#endif  // CONCH_CONCH_WRAPPER_H_
