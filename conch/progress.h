// Progress: what a waiting `conch elect|sema` tells its user, and the
// events of a run in JSON.
//
// Modes (Choose):
//   * json (-o json): one JSON object per line on stderr for each event:
//       {"event":"waiting","name":…,"position":K,"of":M,"holders":[…]}
//       {"event":"acquired","name":…,"env":{"CONCH_REV":"…",…}}
//       {"event":"exited","exit_code":C}  (and "restarting" with
//       "delay_ms", "lost" with "reason")
//     conch's other messages stay text lines starting with "conch";
//   * lines (-v or more): each change of place as a log line at info;
//   * in place (stderr is a terminal): one line on stderr,
//       waiting for NAME: position K of M (held by HOST pid P since T)
//     redrawn where it stands ("\r", erase to the end of the line) when
//     the place changes, cut to the terminal's width, and erased before the
//     child starts or conch says anything else;
//   * off (stderr is a file or a pipe, no -v): nothing, and no extra etcd
//     reads.
//
// Thread-compatible: the campaign's main thread drives it.
//
// Example:
//   Progress p(Progress::Choose(options.json), std::cerr);
//   p.Waiting(contenders, my_key);
//   ...
//   p.Clear();
#ifndef CONCH_CONCH_PROGRESS_H_
#define CONCH_CONCH_PROGRESS_H_

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "conch/contenders.h"

namespace conch {

class Progress {
 public:
  enum class Mode { kOff, kInPlace, kLines, kJson };

  // kJson with `json`; else kLines when info logging is on (-v); else
  // kInPlace when stderr is a terminal; else kOff.
  static Mode Choose(bool json);

  // `width`: the terminal's columns for kInPlace (0: ask the terminal on
  // stderr, 80 when it does not say).
  Progress(Mode mode, std::ostream& out, int width = 0);
  ~Progress();

  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Whether the waiting place is shown at all (worth reading etcd for).
  bool on() const { return mode_ != Mode::kOff; }
  Mode mode() const { return mode_; }

  // The place of the contender `key` in `c`, shown when it changed.
  void Waiting(const Contenders& c, const std::string& key);
  // Erases the in-place line (nothing in the other modes).
  void Clear();

  // JSON events (kJson only; Clear() otherwise).
  void Acquired(const std::string& name,
                const std::vector<std::pair<std::string, std::string>>& env);
  void Exited(int exit_code);
  void Restarting(int exit_code, absl::Duration delay);
  void Lost(const absl::Status& why);

 private:
  void Draw(const std::string& line);

  const Mode mode_;
  std::ostream& out_;
  const int width_;
  std::string shown_;   // the place last shown
  bool drawn_ = false;  // an in-place line is on the screen
};

}  // namespace conch

#endif  // CONCH_CONCH_PROGRESS_H_
