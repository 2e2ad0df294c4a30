#include "core/process/child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace conch {
namespace {

// Under ThreadSanitizer vfork is a fork: the child's writes do not reach
// the parent, and the parent does not wait for the exec. Exec errors then
// come back through a close-on-exec pipe instead of shared memory.
#if defined(__SANITIZE_THREAD__)
constexpr bool kVforkIsFork = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kVforkIsFork = true;
#else
constexpr bool kVforkIsFork = false;
#endif
#else
constexpr bool kVforkIsFork = false;
#endif

// What the vfork()ed child does before execve: everything prepared by the
// parent, only system calls here. The child borrows the parent's memory and
// stack until execve or _exit, so it writes nothing but its own locals and
// errno.
struct ExecPlan {
  const char* path;
  char* const* argv;
  char* const* envp;
  pid_t parent;
  bool tty;
  bool die_with_parent;
  int output_fd;
  int devnull;
  const char* dir;  // nullptr: stay
  bool set_credentials;
  uid_t uid;
  gid_t gid;
  const gid_t* groups;
  size_t group_count;
  // Where the child leaves execve's errno if it fails. vfork shares the
  // parent's memory and resumes the parent only after the exec or _exit,
  // so the parent reads it without a pipe...
  int* exec_errno;
  // ...except where vfork is a fork (kVforkIsFork): then here, or -1.
  int errpipe_write;
};

// What failed in the child, with its errno: kStep* << 16 | errno.
constexpr int kStepExec = 0;
constexpr int kStepCredentials = 1;
constexpr int kStepDir = 2;

[[noreturn]] void FailInChild(const ExecPlan& p, int step, int err) {
  const int code = (step << 16) | err;
  *static_cast<volatile int*>(p.exec_errno) = code;
  if (p.errpipe_write >= 0) {
    ssize_t ignored = write(p.errpipe_write, &code, sizeof(code));
    (void)ignored;
  }
  _exit(step == kStepExec && err == ENOENT ? 127 : 126);
}

[[noreturn]] __attribute__((noinline)) void ExecInChild(const ExecPlan& p) {
  setpgid(0, 0);
  if (p.tty) tcsetpgrp(STDIN_FILENO, getpid());  // SIGTTOU is blocked
  if (p.die_with_parent) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != p.parent) _exit(127);  // the wrapper is already gone
  }
  if (p.output_fd >= 0) {
    dup2(p.devnull, STDIN_FILENO);
    dup2(p.output_fd, STDOUT_FILENO);
    dup2(p.output_fd, STDERR_FILENO);
  }
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (p.set_credentials &&
      (syscall(SYS_setgroups, p.group_count, p.groups) != 0 ||
       syscall(SYS_setresgid, p.gid, p.gid, p.gid) != 0 ||
       syscall(SYS_setresuid, p.uid, p.uid, p.uid) != 0)) {
    FailInChild(p, kStepCredentials, errno);
  }
  if (p.dir != nullptr && chdir(p.dir) != 0) FailInChild(p, kStepDir, errno);
  execve(p.path, p.argv, p.envp);
  FailInChild(p, kStepExec, errno);
}

absl::Status CheckExecutable(const std::string& path, absl::string_view shown) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat(shown, ": command not found"));
  }
  if (S_ISDIR(st.st_mode) || access(path.c_str(), X_OK) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(shown, ": permission denied (not executable)"));
  }
  return absl::OkStatus();
}

// The environment for execve: the parent's entries (pointed to, not copied)
// minus the ones spec.env overrides, then spec.env (kept in `*added`). No
// allocation per entry: conchd starts hundreds of runs in the same instant.
std::vector<char*> BuildEnvp(const ChildSpec& spec,
                             std::vector<std::string>* added) {
  added->reserve(spec.env.size());
  for (const auto& [k, v] : spec.env) added->push_back(absl::StrCat(k, "=", v));
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) {
    const absl::string_view kv(*e);
    const size_t eq = kv.find('=');
    if (eq == absl::string_view::npos) continue;
    const absl::string_view key = kv.substr(0, eq);
    const bool overridden =
        std::any_of(spec.env.begin(), spec.env.end(),
                    [key](const auto& o) { return o.first == key; });
    if (!overridden) envp.push_back(*e);
  }
  for (std::string& s : *added) envp.push_back(s.data());
  envp.push_back(nullptr);
  return envp;
}

// The null-terminated argv for execve, pointing into `*args`.
std::vector<char*> BuildArgv(std::vector<std::string>* args) {
  std::vector<char*> argv;
  argv.reserve(args->size() + 1);
  for (std::string& a : *args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

// Opens what the child's stdin becomes when its output is redirected
// (`output_fd` >= 0), close-on-exec; -1 when there is nothing to open.
absl::StatusOr<int> OpenDevNullFor(int output_fd) {
  if (output_fd < 0) return -1;
  const int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0) {
    return absl::InternalError(
        absl::StrCat("open /dev/null: ", std::strerror(errno)));
  }
  return devnull;
}

// The child's execve errno: `shared_errno` (what it left in shared memory),
// or what it wrote to `errpipe` where vfork is a fork. Closes the pipe.
int ReadExecErrno(int shared_errno, const int errpipe[2]) {
  int child_errno = shared_errno;
  if (errpipe[0] >= 0) {
    close(errpipe[1]);
    int piped = 0;
    ssize_t n;
    do {
      n = read(errpipe[0], &piped, sizeof(piped));
    } while (n < 0 && errno == EINTR);
    close(errpipe[0]);
    if (n == sizeof(piped)) child_errno = piped;
  }
  return child_errno;
}

// The error Spawn reports for a child that failed before running its
// command: `code` is what FailInChild left (step << 16 | errno).
absl::Status ExecError(const ChildSpec& spec, const std::string& path,
                       int code) {
  const int step = code >> 16;
  const int err = code & 0xFFFF;
  if (step == kStepDir) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot enter ", spec.dir, ": ", std::strerror(err)));
  }
  if (step == kStepCredentials) {
    return absl::PermissionDeniedError(absl::StrCat("cannot switch to uid ",
                                                    spec.credentials->uid, ": ",
                                                    std::strerror(err)));
  }
  const std::string what = absl::StrCat(spec.argv.empty() ? path : spec.argv[0],
                                        ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(what);
  return absl::PermissionDeniedError(what);
}

}  // namespace

absl::StatusOr<std::string> ResolveCommand(absl::string_view command) {
  if (command.empty()) {
    return absl::NotFoundError("empty command");
  }
  if (command.find('/') != absl::string_view::npos) {
    const std::string path(command);
    absl::Status s = CheckExecutable(path, command);
    if (!s.ok()) return s;
    return path;
  }
  const char* env_path = std::getenv("PATH");
  const std::string search = env_path != nullptr ? env_path : "/usr/bin:/bin";
  absl::Status first_denied;
  for (absl::string_view dir : absl::StrSplit(search, ':')) {
    const std::string candidate =
        absl::StrCat(dir.empty() ? "." : dir, "/", command);
    absl::Status s = CheckExecutable(candidate, command);
    if (s.ok()) return candidate;
    if (absl::IsPermissionDenied(s) && first_denied.ok()) first_denied = s;
  }
  if (!first_denied.ok()) return first_denied;
  return absl::NotFoundError(absl::StrCat(command, ": command not found"));
}

int ExitCodeForCommand(const absl::Status& status) {
  return absl::IsNotFound(status) ? 127 : 126;
}

int ExitCodeFromWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 128;
}

absl::StatusOr<std::unique_ptr<Child>> Child::Spawn(const ChildSpec& spec) {
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls are allowed (gRPC threads exist).
  std::vector<std::string> added;
  const std::vector<char*> envp = BuildEnvp(spec, &added);
  std::vector<std::string> argv_copy = spec.argv;
  const std::vector<char*> argv = BuildArgv(&argv_copy);
  const std::string path = spec.path;

  const bool tty = spec.die_with_parent && spec.take_terminal &&
                   isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
  const int output_fd = spec.output_fd;
  const absl::StatusOr<int> devnull_or = OpenDevNullFor(output_fd);
  if (!devnull_or.ok()) return devnull_or.status();
  const int devnull = *devnull_or;
  int exec_errno = 0;
  int errpipe[2] = {-1, -1};
  if (kVforkIsFork && pipe2(errpipe, O_CLOEXEC) != 0) {
    const int err = errno;
    if (devnull >= 0) close(devnull);
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(err)));
  }
  const std::string dir = spec.dir;
  const std::vector<gid_t> groups = spec.credentials.has_value()
                                        ? spec.credentials->groups
                                        : std::vector<gid_t>{};
  ExecPlan plan{};
  plan.path = path.c_str();
  plan.argv = argv.data();
  plan.envp = envp.data();
  plan.parent = getpid();
  plan.tty = tty;
  plan.die_with_parent = spec.die_with_parent;
  plan.output_fd = output_fd;
  plan.devnull = devnull;
  plan.dir = dir.empty() ? nullptr : dir.c_str();
  plan.set_credentials = spec.credentials.has_value();
  plan.uid = plan.set_credentials ? spec.credentials->uid : 0;
  plan.gid = plan.set_credentials ? spec.credentials->gid : 0;
  plan.groups = groups.data();
  plan.group_count = groups.size();
  plan.exec_errno = &exec_errno;
  plan.errpipe_write = errpipe[1];
  // vfork: no copy of the parent's page tables (a wrapper has gRPC's
  // threads and tens of MB mapped; conchd starts hundreds of runs a
  // second), and no copy-on-write faults afterwards. The parent resumes
  // once the child has exec'ed or exited.
  const pid_t pid = vfork();
  if (pid < 0) {
    const int err = errno;
    if (devnull >= 0) close(devnull);
    if (errpipe[0] >= 0) close(errpipe[0]);
    if (errpipe[1] >= 0) close(errpipe[1]);
    return absl::ResourceExhaustedError(
        absl::StrCat("fork: ", std::strerror(err)));
  }
  if (pid == 0) ExecInChild(plan);
  // First thing after the exec: the exec itself ran at the caller's
  // priority (see ChildSpec::nice).
  int nice_errno = 0;
  if (spec.nice.has_value() && setpriority(PRIO_PROCESS, pid, *spec.nice) != 0)
    nice_errno = errno;
  if (devnull >= 0) close(devnull);
  setpgid(pid, pid);  // also in the parent: no race with SignalGroup
  if (tty) tcsetpgrp(STDIN_FILENO, pid);
  std::unique_ptr<Child> child(new Child(pid, tty));
  child->nice_errno_ = nice_errno;
  const int child_errno =
      ReadExecErrno(*static_cast<volatile int*>(&exec_errno), errpipe);
  if (child_errno != 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    child->SetExited(status);
    return ExecError(spec, path, child_errno);
  }
  return child;
}

Child::~Child() { TakeTerminalBack(); }

// SIGTTOU is blocked by the caller (SignalSet), so a process that is not
// in the foreground may still hand the terminal over.
void Child::TakeTerminalBack() const {
  if (has_terminal_) tcsetpgrp(STDIN_FILENO, getpgrp());
}

void Child::GiveTerminal() const {
  if (has_terminal_) tcsetpgrp(STDIN_FILENO, pid_);
}

void Child::SignalGroup(int sig) const { kill(-pid_, sig); }

bool Child::GroupAlive() const { return kill(-pid_, 0) == 0; }

void Child::SetExited(int wait_status) {
  wait_status_ = wait_status;
  stop_signal_ = 0;  // an exit ends a stop (its continue may go unreported)
}

}  // namespace conch
