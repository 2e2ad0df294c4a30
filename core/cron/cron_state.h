// The state of a cron tick as `conch cron ls` shows it (spec 04), decided
// from what etcd holds: the claim, the result, and which daemons are alive.
//
//   result with exit_code 0         → ok
//   result with exit_code N / signal → failed (code N) / failed (signal S)
//   result with skipped R            → skipped (R)
//   claim, no result, runner alive   → running on ID
//   claim, no result, runner gone    → zombie (never rerun)
// A runner is alive when its daemon key exists on the very lease named in
// the claim: a daemon restarted under the same id has a new lease, so its
// predecessor's unfinished ticks are zombies.
//
// Pure functions, thread-safe.
//
// Example:
//   TickState s = StateOfTick(tick, live_daemons);
//   std::cout << FormatTickState(s);  // "running on d1"
#ifndef CONCH_CORE_CRON_CRON_STATE_H_
#define CONCH_CORE_CRON_CRON_STATE_H_

#include <map>
#include <string>

#include "core/cron/cron.h"

namespace conch::etcd {

struct TickState {
  enum class Kind { kOk, kFailed, kSkipped, kRunning, kZombie, kUnreadable };
  Kind kind = Kind::kUnreadable;
  int exit_code = -1;  // kOk / kFailed by code
  int signal = 0;      // kFailed by signal
  std::string detail;  // kSkipped: why; kUnreadable: the parse error
  std::string runner;  // the claiming daemon's id
};

// `live`: daemon id → lease hex, as CronStore::LiveDaemons returns.
TickState StateOfTick(const CronTick& tick,
                      const std::map<std::string, std::string>& live);

// "ok", "failed (code 3)", "failed (signal 9)", "skipped (overlap)",
// "running on d1", "zombie", "unreadable (…)".
std::string FormatTickState(const TickState& state);

// The short machine name of the state: "ok", "failed", "skipped",
// "running", "zombie", "unreadable".
const char* TickStateName(TickState::Kind kind);

}  // namespace conch::etcd

#endif  // CONCH_CORE_CRON_CRON_STATE_H_
