// Child: the user's command, run in its own process group.
//
// Spawn() forks and execs the command:
//   - in a new process group (the child leads it), so that the whole group
//     (grandchildren included) can be signalled at once;
//   - with the parent's stdin/stdout/stderr and environment plus the given
//     variables (CONCH_*), an empty signal mask and default dispositions;
//   - with PR_SET_PDEATHSIG = SIGKILL, so it dies with the wrapper even
//     before the fuse notices;
//   - as the terminal's foreground group when stdin is a terminal and the
//     wrapper is in the foreground (Ctrl-C, Ctrl-Z reach the child); the
//     terminal is given back when the Child is destroyed.
// The child is started with vfork: no copy of the parent's page tables and
// no copy-on-write faults afterwards, and the parent resumes once the child
// has exec'ed. A command that cannot be executed is reported by Spawn (the
// child leaves execve's errno in the memory it shares with the parent):
// NotFound → exit 127, PermissionDenied → exit 126. ResolveCommand() checks
// the same up front, before anything is acquired.
//
// Ownership: a Child does not kill its process on destruction (the
// supervisor decides); it only returns the terminal. Not thread-safe.
//
// Example:
//   absl::StatusOr<std::string> path = ResolveCommand(argv[0]);
//   if (!path.ok()) return ExitCodeForCommand(path.status());
//   absl::StatusOr<std::unique_ptr<Child>> child =
//       Child::Spawn({.path = *path, .argv = argv, .env = {{"CONCH_REV",
//       "7"}}});
//   (*child)->SignalGroup(SIGTERM);
#ifndef CONCH_CORE_PROCESS_CHILD_H_
#define CONCH_CORE_PROCESS_CHILD_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace conch {

// Finds `command` like execvp: a name with '/' is used as is, otherwise it
// is searched in $PATH. NotFound (exit 127) or PermissionDenied (exit 126).
absl::StatusOr<std::string> ResolveCommand(absl::string_view command);

// 127 for NotFound, 126 for anything else: the shell's conventions.
int ExitCodeForCommand(const absl::Status& status);

// The exit code a wrapper reports for a wait(2) status: the exit code, or
// 128 + the signal that killed it.
int ExitCodeFromWaitStatus(int wait_status);

struct ChildSpec {
  std::string path;                                      // resolved executable
  std::vector<std::string> argv;                         // argv[0] included
  std::vector<std::pair<std::string, std::string>> env;  // added/overridden
  bool take_terminal = true;
  // When ≥ 0: the child's stdout and stderr go to this descriptor and its
  // stdin is /dev/null (conchd captures a job's output this way). The
  // descriptor should be close-on-exec in the parent so that no other child
  // inherits it.
  int output_fd = -1;
  // When false, the child gets no PR_SET_PDEATHSIG: the caller's fuse must
  // cover its own death (conchd, whose spawner threads would otherwise tie
  // each job's life to the thread that started it). Requires
  // take_terminal == false.
  bool die_with_parent = true;
  // When set, the child's nice value (-20..19). The parent sets it as soon
  // as vfork returns, so the exec itself (the costly part of a start) runs
  // at the caller's priority, and so may the first microseconds after it
  // (the dynamic loader, before the parent is scheduled again). conchd
  // runs above its jobs this way (--job-nice): its starts do not queue
  // behind the CPU of the jobs it has already started. If it cannot be set
  // (a value below the caller's, without CAP_SYS_NICE), the child keeps
  // the caller's and nice_errno() says why. ESRCH means the child had
  // already exited and been reaped by another thread of the caller's (a
  // waitpid(-1) loop).
  std::optional<int> nice;
  // When not empty: the child's working directory (chdir just before the
  // exec, after the credentials below). A relative `path` is resolved
  // against it by the caller, not here.
  std::string dir;
  // When set: the child runs as this user (setgroups, setresgid and
  // setresuid just before the exec, by raw system calls: glibc's wrappers
  // would signal the parent's threads from the vfork()ed child). Needs
  // the caller to be root.
  struct Credentials {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;
  };
  std::optional<Credentials> credentials;
};

class Child {
 public:
  static absl::StatusOr<std::unique_ptr<Child>> Spawn(const ChildSpec& spec);

  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  pid_t pid() const { return pid_; }
  // The child's process group (== pid).
  pid_t pgid() const { return pid_; }

  // Sends `sig` to the whole group; ESRCH (group gone) is not an error.
  void SignalGroup(int sig) const;
  // Whether any process of the group is still alive (zombies excluded once
  // reaped).
  bool GroupAlive() const;

  // Records that waitpid reported `wait_status` for pid().
  void SetExited(int wait_status);
  bool exited() const { return wait_status_.has_value(); }
  int wait_status() const { return *wait_status_; }

  // Job control: waitpid reported the child stopped by `sig` (SetStopped)
  // or continued (SetContinued). stop_signal() is the signal while it is
  // stopped, 0 otherwise.
  void SetStopped(int sig) { stop_signal_ = sig; }
  void SetContinued() { stop_signal_ = 0; }
  int stop_signal() const { return stop_signal_; }

  // Whether the child was given the terminal (it is the foreground job of
  // an interactive shell's terminal, see ChildSpec::take_terminal).
  bool has_terminal() const { return has_terminal_; }
  // Takes the terminal back for the caller's process group (when the child
  // stopped), or gives it to the child again; no-op without a terminal.
  void TakeTerminalBack() const;
  void GiveTerminal() const;

  // 0, or the errno of setting ChildSpec::nice.
  int nice_errno() const { return nice_errno_; }

 private:
  Child(pid_t pid, bool has_terminal)
      : pid_(pid), has_terminal_(has_terminal) {}

  const pid_t pid_;
  const bool has_terminal_;
  std::optional<int> wait_status_;
  int stop_signal_ = 0;
  int nice_errno_ = 0;
};

}  // namespace conch

#endif  // CONCH_CORE_PROCESS_CHILD_H_
