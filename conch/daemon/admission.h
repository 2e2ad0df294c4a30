// Admission: how many due ticks one conchd takes on, so that it claims only
// what it can start within --max-late and leaves the rest to the other
// daemons (issue 18, docs/cron.md "Overload").
//
// Two limits, both on what the daemon has committed to start:
//   * --max-running N: runs in progress + starts queued on the spawners +
//     claims in flight never exceed N (0: no such limit);
//   * the start rate: the spawners' measured cost of one start (a moving
//     average; a sample is the spawn itself or, behind a queue, the wait
//     per start ahead times the spawners, which includes everything that
//     slows the spawners down on a busy machine) tells when the k-th start
//     queued now would begin on `spawners` threads. A tick is admitted only if
//     it would begin within `budget` of
//     --max-late after its instant: the rest of --max-late is slack for the
//     estimate being wrong (a start gets dearer as the machine fills up).
// Until a start has been measured the rate limit admits everything.
//
// A third limit adapts to what the machine can actually run: starts can be
// cheap while the runs themselves pile up (short jobs starved of CPU, each
// new start making the others slower). Every start reports its lag
// (start − instant). A lag over a quarter of --max-late cuts the limit on
// runs + queued starts + claims in flight to 70 % of what was committed
// then (at most once a second); a second in which every start lagged less
// than an eighth of --max-late raises it by 10 % (at least 16). It starts
// unlimited and never goes below kMinLimit.
//
// Pure: no clock, no etcd; the loop passes the time and its counts in.
// Thread-compatible (conchd's loop thread).
//
// Example:
//   Admission admission({.max_running = 500, .max_late = absl::Seconds(10)});
//   admission.RecordStart(absl::Milliseconds(3));  // from each Spawned
//   int take = admission.Capacity(oldest_instant, absl::Now(),
//                                 {.running = 40, .spawning = 3});
#ifndef CONCH_CONCH_DAEMON_ADMISSION_H_
#define CONCH_CONCH_DAEMON_ADMISSION_H_

#include <cstdint>

#include "absl/time/time.h"

namespace conch::daemon {

class Admission {
 public:
  struct Options {
    int max_running = 0;  // 0: no limit
    absl::Duration max_late = absl::Seconds(10);
    int spawners = 2;
    // The share of --max-late a start may wait for its spawner.
    double budget = 0.5;
  };

  // What the daemon has committed to start, or is running.
  struct Load {
    int running = 0;   // registered runs
    int spawning = 0;  // handed to a spawner, not started yet
    int claiming = 0;  // claims in flight that would start here
    int committed() const { return running + spawning + claiming; }
  };

  explicit Admission(Options options) : o_(options) {}

  // One start took `cost` on a spawner thread.
  void RecordStart(absl::Duration cost);
  // A run started `lag` after its instant at `now`, with `committed` runs,
  // queued starts and claims in flight (the adaptive limit above).
  void RecordLag(absl::Duration lag, int committed, absl::Time now);
  // The adaptive limit (kUnlimited until the first cut).
  int64_t adaptive_limit() const { return limit_; }
  static constexpr int64_t kMinLimit = 8;
  // The moving average (zero before the first start).
  absl::Duration start_cost() const { return cost_; }

  // How many more ticks due at `instant` (the oldest of them) may be taken
  // at `now` under `load`: 0 or more; kUnlimited when neither limit binds.
  static constexpr int kUnlimited = 1 << 30;
  int Capacity(absl::Time instant, absl::Time now, const Load& load) const;

  const Options& options() const { return o_; }

 private:
  // Constant after construction.
  const Options o_;

  absl::Duration cost_ = absl::ZeroDuration();
  int64_t samples_ = 0;
  int64_t limit_ = kUnlimited;
  absl::Time next_cut_ = absl::InfinitePast();
  // The second being judged for a raise, and whether a start lagged in it.
  absl::Time second_ = absl::InfinitePast();
  bool second_clean_ = true;
};

}  // namespace conch::daemon

#endif  // CONCH_CONCH_DAEMON_ADMISSION_H_
