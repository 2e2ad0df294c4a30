// FuseKeeper: the one owner of a process's fuses, which feeds them the
// session's lease deadline.
//
// A wrapper guards one child at a time, a daemon many runs per session;
// both arm each group with a fuse (core/process/fuse.h) and must push every new
// lease deadline to it from the keepalive's thread. The keeper holds the
// current fuse and
//   - DeadlineListener(): for SessionOptions::on_deadline; each deadline goes
//   to
//     the current fuse (a fuse with no group armed ignores it);
//   - Current(): the fuse to arm the next group with. It is kept while its
//     guard lives and it has not fired; a fuse that fired (or may have,
//     see Fuse::Fired) is never armed again, a new one takes its place.
//     Start the first one before gRPC starts any thread: the fork is
//     cheapest then;
//   - Retire(): the current fuse guards no new group (conchd: a lost
//     session's runs keep their fuse, the next session gets a new one);
//   - fired(): how many fuses were replaced or retired after they fired
//     (or lost their guard): conchd's conch_fuse_firings_total.
// A fuse lives for as long as its keeper or any run holding it does.
//
// Ownership: shares its fuses with the runs they guard. The keeper must
// outlive every session whose DeadlineListener() it gave. Thread-safe; it
// locks with std::mutex, like WorkPool (ThreadSanitizer cannot see
// Debian's absl::Mutex's happens-before edges).
//
// Example:
//   FuseKeeper fuses(kill_after);
//   if (!fuses.Current().ok()) ...      // before gRPC's threads
//   so.on_deadline = fuses.DeadlineListener();  // then the session
//   absl::StatusOr<std::shared_ptr<const Fuse>> fuse = fuses.Current();
//   (*fuse)->Arm(child->pgid(), session->deadline());
#ifndef CONCH_CORE_PROCESS_FUSE_KEEPER_H_
#define CONCH_CORE_PROCESS_FUSE_KEEPER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/base/mono_time.h"
#include "core/process/fuse.h"

namespace conch {

class FuseKeeper {
 public:
  // The same signature as etcd::KeepAlive::Listener.
  using Listener =
      std::function<void(MonoTime deadline, const absl::Status& status)>;

  explicit FuseKeeper(absl::Duration kill_after) : kill_after_(kill_after) {}
  FuseKeeper(const FuseKeeper&) = delete;
  FuseKeeper& operator=(const FuseKeeper&) = delete;

  Listener DeadlineListener();
  absl::StatusOr<std::shared_ptr<const Fuse>> Current();
  void Retire();
  uint64_t fired() const { return fired_.load(); }

 private:
  // Constant after construction.
  const absl::Duration kill_after_;

  std::mutex mu_;
  std::shared_ptr<const Fuse> current_;  // guarded by mu_
  std::atomic<uint64_t> fired_{0};
};

}  // namespace conch

#endif  // CONCH_CORE_PROCESS_FUSE_KEEPER_H_
