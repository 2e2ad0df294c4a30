// Intervals: the invariant tests' bookkeeping, as pure functions over the
// log that invariant_child writes (see invariant_child.cc) and the faults
// the harness injected.
//
//   CheckOverlap: at every instant at most N intervals of a group overlap,
//     except within `window` after an induced loss event; reports every
//     instant beyond that, and the longest over-N stretch per fault kind
//     (the measured overlap window).
//   CheckTokens: per slot (elect: one slot, -1), tokens strictly increase
//     in start order across successions.
//
// Times are CLOCK_MONOTONIC nanoseconds. Pure; thread-compatible.
//
// Example:
//   std::vector<Interval> iv = ParseIntervals(log_text, end_of_run_ns);
//   OverlapReport r = CheckOverlap(iv, 2, faults, absl::Seconds(1));
//   EXPECT_TRUE(r.violations.empty()) << r.Describe();
#ifndef CONCH_TESTING_INTERVALS_H_
#define CONCH_TESTING_INTERVALS_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace conch::test {

struct Interval {
  std::string group;
  pid_t pid = 0;
  int64_t token = 0;
  int slot = -1;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  bool end_written = false;  // false: killed, end observed by the harness
};

struct Fault {
  std::string kind;  // "kill", "revoke", "stop_short", "stop_long", ...
  int64_t at_ns = 0;
  bool loss = false;  // an induced loss event (opens an overlap window)
  std::string detail;
};

// Parses S/E lines. Unterminated intervals end at `observed_end[pid]` if
// given, else at `run_end_ns`. Malformed lines are skipped.
std::vector<Interval> ParseIntervals(
    absl::string_view log, int64_t run_end_ns,
    const std::map<pid_t, int64_t>& observed_end = {});

struct OverlapReport {
  struct Stretch {
    int64_t from_ns = 0, to_ns = 0;
    int holders = 0;
    std::string blamed_kind;  // latest loss fault within the window, or ""
  };
  std::vector<Stretch> over;        // every stretch with more than N holders
  std::vector<Stretch> violations;  // those not covered by a loss window
  std::map<std::string, absl::Duration> max_window_by_kind;
  int max_holders = 0;
  std::string Describe(const std::vector<Interval>& intervals) const;
};

OverlapReport CheckOverlap(const std::vector<Interval>& intervals, int max,
                           const std::vector<Fault>& faults,
                           absl::Duration window);

// Every pair of successive intervals of a slot whose tokens do not strictly
// increase, as "slot S: token A (pid P) then token B (pid Q)".
std::vector<std::string> CheckTokens(const std::vector<Interval>& intervals);

}  // namespace conch::test

#endif  // CONCH_TESTING_INTERVALS_H_
