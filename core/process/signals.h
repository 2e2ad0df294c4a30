// SignalSet: the wrapper's signals, delivered through a signalfd.
//
// Install() blocks the given signals in the calling thread, which must be
// the main thread before any other thread exists (gRPC threads inherit the
// mask and so never receive them), and returns a signalfd that a poll(2)
// loop reads them from. SIGPIPE is ignored process-wide; SIGTTOU is blocked
// so the wrapper can hand the terminal to the child and take it back.
//
// Spawned children must reset their mask (Child does).
//
// Ownership: owns the signalfd. Not thread-safe: one loop reads it.
//
// Example:
//   absl::StatusOr<std::unique_ptr<SignalSet>> sigs =
//       SignalSet::Install(SignalSet::WrapperSignals());
//   ... poll((*sigs)->fd()) ...
//   for (int sig : (*sigs)->ReadPending()) Forward(sig);
#ifndef CONCH_CORE_PROCESS_SIGNALS_H_
#define CONCH_CORE_PROCESS_SIGNALS_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"

namespace conch {

class SignalSet {
 public:
  // SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 (forwarded to the
  // child) and SIGCHLD.
  static std::vector<int> WrapperSignals();
  // The ones forwarded to the child's process group.
  static bool IsForwarded(int sig);

  static absl::StatusOr<std::unique_ptr<SignalSet>> Install(
      const std::vector<int>& signals);

  SignalSet(const SignalSet&) = delete;
  SignalSet& operator=(const SignalSet&) = delete;
  ~SignalSet();

  int fd() const { return fd_; }
  // Every signal waiting on the fd, in arrival order (non-blocking).
  std::vector<int> ReadPending();

 private:
  explicit SignalSet(int fd) : fd_(fd) {}
  const int fd_;
};

}  // namespace conch

#endif  // CONCH_CORE_PROCESS_SIGNALS_H_
