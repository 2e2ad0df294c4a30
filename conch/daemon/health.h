// DaemonHealth: what conchd's loop publishes about itself for /healthz and
// /readyz, read by the HTTP threads.
//
// The loop calls Beat() every turn (it turns at least once a second) and
// sets the session and job-watch states as they change. Alive() is true
// while the last beat is younger than `stall`; Ready() says whether the
// daemon can claim ticks: alive, session held, job list read and watched,
// not stopping; otherwise it gives the first reason it cannot.
//
// Thread-safety: every member is an atomic; any thread may call anything
// (writers are meant to be the loop only).
//
// Example:
//   DaemonHealth health;
//   health.Beat(MonoNow());           // loop
//   if (!health.Ready(MonoNow(), absl::Seconds(10)).ok()) ...  // HTTP
#ifndef CONCH_CONCH_DAEMON_HEALTH_H_
#define CONCH_CONCH_DAEMON_HEALTH_H_

#include <atomic>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/base/mono_time.h"

namespace conch::daemon {

class DaemonHealth {
 public:
  void Beat(MonoTime now) { last_beat_ns_ = now.nanos(); }
  void SetSessionHeld(bool held) { session_held_ = held; }
  void SetJobsSynced(bool synced) { jobs_synced_ = synced; }
  void SetStopping() { stopping_ = true; }

  // How long ago the loop last turned.
  absl::Duration SinceBeat(MonoTime now) const {
    return absl::Nanoseconds(now.nanos() - last_beat_ns_.load());
  }
  absl::Status Alive(MonoTime now, absl::Duration stall) const {
    const absl::Duration since = SinceBeat(now);
    if (last_beat_ns_.load() == 0) {
      return absl::UnavailableError("the loop has not started");
    }
    if (since > stall) {
      return absl::UnavailableError(absl::StrCat("the loop has not turned for ",
                                                 absl::FormatDuration(since)));
    }
    return absl::OkStatus();
  }
  absl::Status Ready(MonoTime now, absl::Duration stall) const {
    if (absl::Status alive = Alive(now, stall); !alive.ok()) return alive;
    if (stopping_) return absl::UnavailableError("stopping");
    if (!session_held_) {
      return absl::UnavailableError("no etcd session (registering again)");
    }
    if (!jobs_synced_) {
      return absl::UnavailableError("the job list is not read and watched");
    }
    return absl::OkStatus();
  }

 private:
  std::atomic<int64_t> last_beat_ns_{0};
  std::atomic<bool> session_held_{false};
  std::atomic<bool> jobs_synced_{false};
  std::atomic<bool> stopping_{false};
};

}  // namespace conch::daemon

#endif  // CONCH_CONCH_DAEMON_HEALTH_H_
