// Child processes for tests: start a program, signal it (or its whole
// process group), wait for it with a deadline, and never leak it.
//
// Contract:
//   * Subprocess::Start forks and execs `argv` (argv[0] is looked up in PATH
//     when it has no '/'; the PATH used is the one in `env` if given there).
//     It returns only after the exec succeeded, so a missing or
//     non-executable program is reported as an error status, not as a child
//     that exits with 127.
//   * The child gets the parent's environment plus `env` (which overrides),
//     stdin from /dev/null, stdout/stderr appended to the given files (or
//     inherited), default signal dispositions and an empty signal mask, and
//     no inherited file descriptors other than 0, 1 and 2.
//   * Unless `kill_with_parent` is false, the child is SIGKILLed by the kernel
//     when the thread that started it exits (PR_SET_PDEATHSIG), so a crashed
//     or timed-out test binary does not leave etcd servers behind. Start such
//     children from a thread that outlives them (normally the test's main
//     thread).
//   * Wait() reaps the child and returns its raw wait status (decode with
//     WIFEXITED/WEXITSTATUS or DescribeWaitStatus), or DeadlineExceeded.
//     Stopping a child with SIGSTOP does not count as exiting.
//   * The destructor SIGKILLs the child (its whole process group when
//     `own_process_group` is set) and reaps it.
//
// Ownership and thread-safety: a Subprocess owns its child; it is neither
// copyable nor movable (hold it in the std::unique_ptr Start returns). It is
// not thread-safe: use one Subprocess from one thread at a time. RunCommand,
// FindProgram and DescribeWaitStatus keep no shared state and are
// thread-safe.
//
// Example:
//   conch::test::SubprocessOptions options;
//   options.argv = {"sleep", "100"};
//   options.own_process_group = true;
//   auto child = conch::test::Subprocess::Start(options);
//   ASSERT_TRUE(child.ok()) << child.status();
//   ASSERT_TRUE((*child)->SignalGroup(SIGTERM).ok());
//   absl::StatusOr<int> status =
//       (*child)->Wait(absl::Now() + absl::Seconds(5));
//   ASSERT_TRUE(status.ok()) << status.status();
//   EXPECT_TRUE(WIFSIGNALED(*status));
//
//   absl::StatusOr<conch::test::CommandResult> r =
//       conch::test::RunCommand({"echo", "hi"}, absl::Seconds(10));
//   ASSERT_TRUE(r.ok()) << r.status();
//   EXPECT_EQ(r->out, "hi\n");
#ifndef CONCH_TESTING_SUBPROCESS_H_
#define CONCH_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace conch::test {

struct SubprocessOptions {
  // The program and its arguments. Must not be empty.
  std::vector<std::string> argv;
  // Variables added to the current environment (overriding equal names).
  std::map<std::string, std::string> env;
  // When non-empty, the child's stdout is appended to this file (created
  // with mode 0600 if missing); otherwise it is inherited.
  std::string stdout_path;
  // Same for stderr. May equal stdout_path to interleave both in one file.
  std::string stderr_path;
  // Makes the child the leader of a new process group, so that SignalGroup
  // reaches it and all of its descendants.
  bool own_process_group = false;
  // SIGKILL the child when the thread that started it exits.
  bool kill_with_parent = true;
};

class Subprocess {
 public:
  // Starts the child. Fails with NotFound if the program cannot be found,
  // or with another error if fork, a redirect or exec failed.
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(
      const SubprocessOptions& options);

  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // Kills (SIGKILL) and reaps the child if it has not been reaped yet.
  ~Subprocess();

  pid_t pid() const { return pid_; }

  // Sends `sig` to the child. FailedPrecondition once it has been reaped.
  absl::Status Signal(int sig);

  // Sends `sig` to the child's process group. FailedPrecondition unless the
  // child was started with own_process_group.
  absl::Status SignalGroup(int sig);

  // Waits until the child exits or `deadline` passes; returns the raw wait
  // status, or DeadlineExceeded. Once reaped, returns the same status again.
  absl::StatusOr<int> Wait(absl::Time deadline);

  // True until the child has exited (reaping it if it just did).
  bool Running();

 private:
  Subprocess(pid_t pid, bool own_process_group)
      : pid_(pid), own_process_group_(own_process_group) {}

  // Reaps the child without blocking if it has exited. Returns true if the
  // child has been reaped (now or before).
  bool TryReap();

  const pid_t pid_;
  const bool own_process_group_;
  std::optional<int> wait_status_;
};

// Resolves `program` the way Start does: a name with a '/' must be an
// executable file; otherwise the first executable match in the PATH given by
// `env` (or this process's PATH) wins. NotFound if there is none.
absl::StatusOr<std::string> FindProgram(
    const std::string& program,
    const std::map<std::string, std::string>& env = {});

// "exited with code 3", "killed by signal 9 (Killed)", ...
std::string DescribeWaitStatus(int wait_status);

// What RunCommand collected from a finished command.
struct CommandResult {
  // The raw wait status.
  int wait_status = 0;
  // The exit code, or -1 if the command was killed by a signal.
  int exit_code = -1;
  // Everything the command wrote to stdout and to stderr.
  std::string out;
  std::string err;

  // True iff the command exited with code 0.
  bool Succeeded() const { return exit_code == 0; }
  // A one-paragraph summary for assertion messages.
  std::string DebugString() const;
};

// Runs `argv` to completion in its own process group, capturing stdout and
// stderr separately. A command that exits non-zero is not an error: inspect
// the result. Returns DeadlineExceeded (with the output so far in the
// message) if it runs longer than `timeout`; the whole process group is
// killed in that case. Descendants still running when the command exits are
// killed too.
absl::StatusOr<CommandResult> RunCommand(
    std::vector<std::string> argv, absl::Duration timeout,
    std::map<std::string, std::string> env = {});

}  // namespace conch::test

#endif  // CONCH_TESTING_SUBPROCESS_H_
