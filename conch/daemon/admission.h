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
// new start making the others slower). Two signals cut the limit on runs +
// queued starts + claims in flight to 70 % of what is committed at that
// moment (at most once a second, so a pile-up that lasts is cut again
// every second):
//   * lag: every start reports its lag (start − instant); one over a
//     quarter of --max-late cuts;
//   * stretch: every run that ends reports how long it ran. A run is
//     stretched when it took over kStretch times its job's shortest run on
//     this daemon (at least kStretchFloor): a job that takes 3 ms alone
//     and 2 s on a crowded machine is starved, not busy. A second in which
//     at least kMinStretched runs, and half of those that ended, were
//     stretched cuts, when the next second begins. One job whose runs vary
//     does not.
// A second in which every start lagged less than an eighth of --max-late
// and no stretch cut was due raises the limit by 10 % (at least 16). It
// starts unlimited and never goes below kMinLimit.
//
// Pure: no clock, no etcd; the loop passes the time and its counts in.
// Thread-compatible (conchd's loop thread).
//
// Example:
//   Admission admission({.max_running = 500, .max_late = absl::Seconds(10)});
//   admission.RecordStart(absl::Milliseconds(3));  // from each Spawned
//   admission.RecordEnd("nightly", absl::Seconds(2), 40, absl::Now());
//   int take = admission.Capacity(oldest_instant, absl::Now(),
//                                 {.running = 40, .spawning = 3});
#ifndef CONCH_CONCH_DAEMON_ADMISSION_H_
#define CONCH_CONCH_DAEMON_ADMISSION_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
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
  // Both return true when they cut the limit; cut_reason() says why.
  bool RecordLag(absl::Duration lag, int committed, absl::Time now);
  // A run of the job `job` (its encoded name) ended after `ran`, with
  // `committed` as in RecordLag (the stretch signal above).
  bool RecordEnd(const std::string& job, absl::Duration ran, int committed,
                 absl::Time now);
  // The job is gone: its shortest run is forgotten.
  void ForgetJob(const std::string& job) { shortest_.erase(job); }
  static constexpr double kStretch = 4;
  static constexpr absl::Duration kStretchFloor = absl::Milliseconds(250);
  static constexpr int kMinStretched = 8;
  // Why the limit was last cut, e.g. "a start 3.1s late" or "12 of 20 runs
  // stretched" (empty before the first cut).
  const std::string& cut_reason() const { return cut_reason_; }
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
  // Starts a new second when `now` is past the current one: a stretch cut
  // (from `committed`) if that one's ended runs were stretched, else a
  // raise if it was clean.
  bool Roll(int committed, absl::Time now);
  // Cuts the limit to 70 % of `committed`, at most once a second.
  bool Cut(int committed, absl::Time now, std::string why);

  // Constant after construction.
  const Options o_;

  absl::Duration cost_ = absl::ZeroDuration();
  int64_t samples_ = 0;
  int64_t limit_ = kUnlimited;
  absl::Time next_cut_ = absl::InfinitePast();
  // The second being judged for a raise, whether a start lagged or runs
  // were stretched in it, and its runs that ended and were stretched.
  absl::Time second_ = absl::InfinitePast();
  bool second_clean_ = true;
  int ended_ = 0;
  int stretched_ = 0;
  std::string cut_reason_;
  // Each job's shortest run here, by encoded name.
  absl::flat_hash_map<std::string, absl::Duration> shortest_;
};

}  // namespace conch::daemon

#endif  // CONCH_CONCH_DAEMON_ADMISSION_H_
