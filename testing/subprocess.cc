#include "testing/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "testing/files.h"
#include "testing/poll.h"

extern char** environ;

namespace conch::test {
namespace {

// How long Wait sleeps between two checks of the child.
constexpr absl::Duration kReapInterval = absl::Milliseconds(5);

// Reported by the child through the exec-status pipe when setup fails.
struct ChildFailure {
  int stage;
  int error;
};

enum ChildStage : int {
  kStageStdin = 1,
  kStageStdout,
  kStageStderr,
  kStageExec,
};

const char* StageName(int stage) {
  switch (stage) {
    case kStageStdin:
      return "redirecting stdin";
    case kStageStdout:
      return "redirecting stdout";
    case kStageStderr:
      return "redirecting stderr";
    case kStageExec:
      return "exec";
  }
  return "setting up the child";
}

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         access(path.c_str(), X_OK) == 0;
}

}  // namespace

absl::StatusOr<std::string> FindProgram(
    const std::string& program, const std::map<std::string, std::string>& env) {
  if (program.empty()) return absl::InvalidArgumentError("empty program name");
  if (program.find('/') != std::string::npos) {
    if (!IsExecutableFile(program)) {
      return absl::NotFoundError(
          absl::StrCat(program, " is not an executable file"));
    }
    return program;
  }
  std::string path_var = "/usr/local/bin:/usr/bin:/bin";
  if (auto it = env.find("PATH"); it != env.end()) {
    path_var = it->second;
  } else if (const char* path = std::getenv("PATH"); path != nullptr) {
    path_var = path;
  }
  for (absl::string_view dir : absl::StrSplit(path_var, ':')) {
    if (dir.empty()) dir = ".";
    std::string candidate = absl::StrCat(dir, "/", program);
    if (IsExecutableFile(candidate)) return candidate;
  }
  return absl::NotFoundError(
      absl::StrCat(program, " not found in PATH=", path_var));
}

namespace {

std::vector<std::string> BuildEnvironment(
    const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> result;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    absl::string_view var(*entry);
    absl::string_view name = var.substr(0, var.find('='));
    if (overrides.count(std::string(name)) == 0) result.emplace_back(var);
  }
  for (const auto& [name, value] : overrides) {
    result.push_back(absl::StrCat(name, "=", value));
  }
  return result;
}

std::vector<char*> CStringArray(std::vector<std::string>& strings) {
  std::vector<char*> result;
  result.reserve(strings.size() + 1);
  for (std::string& s : strings) result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

// Closes every descriptor >= 3 except `keep`. Async-signal-safe.
void CloseInheritedFds(int keep) {
#ifdef SYS_close_range
  if (keep > 3)
    syscall(SYS_close_range, 3u, static_cast<unsigned>(keep - 1), 0u);
  if (syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0u, 0u) == 0) {
    return;
  }
#endif
  // Fallback for kernels without close_range: a bounded sweep.
  for (int fd = 3; fd < 65536; ++fd) {
    if (fd != keep) close(fd);
  }
}

// Runs in the forked child: only async-signal-safe calls from here on.
[[noreturn]] void ChildMain(const char* program, char* const argv[],
                            char* const envp[], const char* stdout_path,
                            const char* stderr_path, bool same_output,
                            bool own_process_group, bool kill_with_parent,
                            pid_t parent, int status_fd) {
  auto fail = [status_fd](int stage) {
    ChildFailure failure{stage, errno};
    ssize_t ignored = write(status_fd, &failure, sizeof(failure));
    (void)ignored;
    _exit(127);
  };
  if (own_process_group) setpgid(0, 0);
  if (kill_with_parent) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // The parent may have died before prctl took effect.
    if (getppid() != parent) _exit(127);
  }
  int fd = open("/dev/null", O_RDONLY);
  if (fd < 0 || dup2(fd, 0) < 0) fail(kStageStdin);
  if (stdout_path != nullptr) {
    fd = open(stdout_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0 || dup2(fd, 1) < 0) fail(kStageStdout);
  }
  if (same_output) {
    if (dup2(1, 2) < 0) fail(kStageStderr);
  } else if (stderr_path != nullptr) {
    fd = open(stderr_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0 || dup2(fd, 2) < 0) fail(kStageStderr);
  }
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
  }
  CloseInheritedFds(status_fd);
  execve(program, argv, envp);
  fail(kStageExec);
  _exit(127);  // Not reached.
}

}  // namespace

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(
    const SubprocessOptions& options) {
  if (options.argv.empty()) {
    return absl::InvalidArgumentError("Subprocess needs a non-empty argv");
  }
  absl::StatusOr<std::string> program =
      FindProgram(options.argv[0], options.env);
  if (!program.ok()) return program.status();

  // Everything the child needs is prepared before fork: after it, the child
  // may only make async-signal-safe calls.
  std::vector<std::string> argv_strings = options.argv;
  std::vector<char*> argv = CStringArray(argv_strings);
  std::vector<std::string> env_strings = BuildEnvironment(options.env);
  std::vector<char*> envp = CStringArray(env_strings);
  const char* stdout_path =
      options.stdout_path.empty() ? nullptr : options.stdout_path.c_str();
  const char* stderr_path =
      options.stderr_path.empty() ? nullptr : options.stderr_path.c_str();
  const bool same_output =
      stdout_path != nullptr && options.stdout_path == options.stderr_path;
  const pid_t parent = getpid();

  int status_pipe[2];
  if (pipe2(status_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  const pid_t pid = fork();
  if (pid < 0) {
    const int error = errno;
    close(status_pipe[0]);
    close(status_pipe[1]);
    return absl::ResourceExhaustedError(
        absl::StrCat("fork: ", std::strerror(error)));
  }
  if (pid == 0) {
    close(status_pipe[0]);
    ChildMain(program->c_str(), argv.data(), envp.data(), stdout_path,
              stderr_path, same_output, options.own_process_group,
              options.kill_with_parent, parent, status_pipe[1]);
  }
  close(status_pipe[1]);
  // Also set the group from the parent, so that SignalGroup works as soon as
  // Start returns no matter how the two processes were scheduled.
  if (options.own_process_group) setpgid(pid, pid);

  // The pipe closes on a successful exec; otherwise it carries the failure.
  ChildFailure failure{0, 0};
  ssize_t n;
  do {
    n = read(status_pipe[0], &failure, sizeof(failure));
  } while (n < 0 && errno == EINTR);
  close(status_pipe[0]);
  auto child = absl::WrapUnique(new Subprocess(pid, options.own_process_group));
  if (n == 0) return child;

  // Setup failed: reap the child (it has exited or is about to) and report.
  absl::StatusOr<int> status = child->Wait(absl::Now() + absl::Seconds(10));
  (void)status;
  const std::string what = absl::StrCat(
      StageName(failure.stage), " for ", *program, " failed: ",
      n == static_cast<ssize_t>(sizeof(failure)) ? std::strerror(failure.error)
                                                 : "child died during setup");
  if (failure.error == ENOENT || failure.error == EACCES) {
    return absl::NotFoundError(what);
  }
  return absl::InternalError(what);
}

Subprocess::~Subprocess() {
  if (own_process_group_) kill(-pid_, SIGKILL);
  if (wait_status_.has_value()) return;
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

bool Subprocess::TryReap() {
  if (wait_status_.has_value()) return true;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    wait_status_ = status;
    return true;
  }
  if (r < 0) {
    // ECHILD: somebody else reaped our child. Treat it as gone.
    wait_status_ = 0;
    return true;
  }
  return false;
}

absl::Status Subprocess::Signal(int sig) {
  if (wait_status_.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("process ", pid_, " has already been reaped"));
  }
  if (kill(pid_, sig) != 0) {
    return absl::InternalError(
        absl::StrCat("kill(", pid_, ", ", sig, "): ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status Subprocess::SignalGroup(int sig) {
  if (!own_process_group_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "process ", pid_, " was not started with own_process_group"));
  }
  if (kill(-pid_, sig) != 0) {
    return absl::NotFoundError(
        absl::StrCat("kill(-", pid_, ", ", sig, "): ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Subprocess::Wait(absl::Time deadline) {
  absl::Status s =
      PollUntil([this] { return TryReap(); }, deadline, kReapInterval);
  if (!s.ok()) {
    return absl::DeadlineExceededError(
        absl::StrCat("process ", pid_, " still running at the deadline"));
  }
  return *wait_status_;
}

bool Subprocess::Running() { return !TryReap(); }

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return absl::StrCat("exited with code ", WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    return absl::StrCat("killed by signal ", sig, " (", strsignal(sig), ")");
  }
  if (WIFSTOPPED(wait_status)) {
    return absl::StrCat("stopped by signal ", WSTOPSIG(wait_status));
  }
  return absl::StrCat("unknown wait status ", wait_status);
}

std::string CommandResult::DebugString() const {
  return absl::StrCat(DescribeWaitStatus(wait_status), "\n--- stdout ---\n",
                      out, "\n--- stderr ---\n", err);
}

absl::StatusOr<CommandResult> RunCommand(
    std::vector<std::string> argv, absl::Duration timeout,
    std::map<std::string, std::string> env) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<std::string> dir = MakeTempDir("run-command-");
  if (!dir.ok()) return dir.status();
  SubprocessOptions options;
  options.argv = std::move(argv);
  options.env = std::move(env);
  options.stdout_path = absl::StrCat(*dir, "/stdout");
  options.stderr_path = absl::StrCat(*dir, "/stderr");
  options.own_process_group = true;

  auto read_output = [&](CommandResult& result) {
    result.out = ReadFile(options.stdout_path).value_or("");
    result.err = ReadFile(options.stderr_path).value_or("");
  };
  CommandResult result;
  absl::StatusOr<std::unique_ptr<Subprocess>> child =
      Subprocess::Start(options);
  if (!child.ok()) {
    RemoveTree(*dir).IgnoreError();
    return child.status();
  }
  absl::StatusOr<int> status = (*child)->Wait(deadline);
  if (!status.ok()) {
    (*child)->SignalGroup(SIGKILL).IgnoreError();
    (*child)->Wait(absl::Now() + absl::Seconds(10)).IgnoreError();
    read_output(result);
    RemoveTree(*dir).IgnoreError();
    return absl::DeadlineExceededError(absl::StrCat(
        "`", absl::StrJoin(options.argv, " "), "` did not finish within ",
        absl::FormatDuration(timeout), "\n--- stdout ---\n", result.out,
        "\n--- stderr ---\n", result.err));
  }
  // Descendants that outlived the command must not keep writing.
  (*child)->SignalGroup(SIGKILL).IgnoreError();
  read_output(result);
  RemoveTree(*dir).IgnoreError();
  result.wait_status = *status;
  result.exit_code = WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  return result;
}

}  // namespace conch::test
