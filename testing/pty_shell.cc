#include "testing/pty_shell.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"

extern char** environ;

namespace conch::test {
namespace {

absl::Status Errno(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// The child's environment: ours, then `extra`, then what the shell needs.
std::vector<std::string> ShellEnvironment(
    const std::map<std::string, std::string>& extra, bool line_editing) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq == nullptr) continue;
    env[std::string(*e, eq - *e)] = eq + 1;
  }
  // Readline's settings: its defaults, not the host's /etc/inputrc.
  if (line_editing) env["INPUTRC"] = "/dev/null";
  for (const auto& [k, v] : extra) env[k] = v;
  env["PS1"] = PtyShell::kPrompt;
  env["PS2"] = "";
  env["TERM"] = "dumb";  // no colour, no cursor games
  env.erase("PROMPT_COMMAND");
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(absl::StrCat(k, "=", v));
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PtyShell>> PtyShell::Start(
    const Options& options) {
  const int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return Errno("posix_openpt");
  if (grantpt(master) != 0 || unlockpt(master) != 0) {
    const absl::Status s = Errno("grantpt/unlockpt");
    close(master);
    return s;
  }
  char slave_name[128];
  if (ptsname_r(master, slave_name, sizeof(slave_name)) != 0) {
    const absl::Status s = Errno("ptsname_r");
    close(master);
    return s;
  }
  // Everything the child needs is prepared before fork.
  const std::vector<std::string> env_strings =
      ShellEnvironment(options.env, options.line_editing);
  std::vector<char*> envp;
  for (const std::string& e : env_strings) {
    envp.push_back(const_cast<char*>(e.c_str()));
  }
  envp.push_back(nullptr);
  std::vector<const char*> argv;
  if (options.shell == Shell::kZsh) {
    // -f: no rc files; +o promptsp: no "%" line before each prompt.
    argv = {"/bin/zsh", "-f", "+o", "promptsp"};
    if (!options.line_editing) argv.push_back("+Z");
  } else {
    argv = {"/bin/bash", "--norc", "--noprofile"};
    if (!options.line_editing) argv.push_back("--noediting");
  }
  argv.push_back("-i");
  argv.push_back(nullptr);
  const std::string cwd = options.cwd;

  const pid_t pid = fork();
  if (pid < 0) {
    const absl::Status s = Errno("fork");
    close(master);
    return s;
  }
  if (pid == 0) {
    // A new session; opening the slave makes it our controlling terminal.
    setsid();
    const int slave = open(slave_name, O_RDWR);
    if (slave < 0) _exit(126);
    ioctl(slave, TIOCSCTTY, 0);
    struct winsize size {};
    size.ws_row = 40;
    size.ws_col = 200;  // wide: no line is wrapped by the terminal
    ioctl(slave, TIOCSWINSZ, &size);
    dup2(slave, STDIN_FILENO);
    dup2(slave, STDOUT_FILENO);
    dup2(slave, STDERR_FILENO);
    if (slave > STDERR_FILENO) close(slave);
    struct sigaction dfl;
    std::memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    execve(argv[0], const_cast<char* const*>(argv.data()), envp.data());
    _exit(127);
  }
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  std::unique_ptr<PtyShell> shell(new PtyShell(master, pid));
  absl::Status prompt = shell->WaitForPrompt(absl::Now() + absl::Seconds(20));
  if (!prompt.ok()) return prompt;
  return shell;
}

PtyShell::~PtyShell() {
  // The shell leads its session: its jobs are in other process groups of
  // the same session, so hang the terminal up first (SIGHUP to every job
  // on it), then kill what is left of the shell's group and reap it.
  close(master_);
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);
  int status;
  waitpid(pid_, &status, 0);
}

absl::Status PtyShell::Type(absl::string_view keys) {
  while (!keys.empty()) {
    const ssize_t n = write(master_, keys.data(), keys.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        struct pollfd p = {master_, POLLOUT, 0};
        poll(&p, 1, 100);
        continue;
      }
      return Errno("write to the terminal");
    }
    keys.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

bool PtyShell::ReadSome(absl::Time deadline) {
  const absl::Duration left =
      std::max(absl::ZeroDuration(), deadline - absl::Now());
  struct pollfd p = {master_, POLLIN, 0};
  const int timeout_ms = static_cast<int>(
      std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1000));
  if (poll(&p, 1, timeout_ms) <= 0) return true;
  char buf[4096];
  while (true) {
    const ssize_t n = read(master_, buf, sizeof(buf));
    if (n > 0) {
      raw_.append(buf, static_cast<size_t>(n));
      // The terminal turns "\n" into "\r\n": keep plain lines.
      screen_ += absl::StrReplaceAll(absl::string_view(buf, n), {{"\r", ""}});
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    return false;  // EIO: no process has the slave open any more
  }
}

absl::Status PtyShell::WaitFor(absl::string_view text, absl::Time deadline) {
  while (true) {
    if (absl::string_view(screen_).find(text, mark_) != std::string::npos) {
      return absl::OkStatus();
    }
    if (absl::Now() >= deadline) break;
    if (!ReadSome(deadline)) {
      if (absl::string_view(screen_).find(text, mark_) != std::string::npos) {
        return absl::OkStatus();
      }
      return absl::UnavailableError(absl::StrCat(
          "the terminal closed before \"", text,
          "\" appeared; after the mark it showed: \"", SinceMark(), "\""));
    }
  }
  return absl::DeadlineExceededError(
      absl::StrCat("\"", text,
                   "\" did not appear; after the mark the "
                   "terminal showed: \"",
                   SinceMark(), "\""));
}

void PtyShell::MarkPast(absl::string_view text) {
  const size_t at = absl::string_view(screen_).find(text, mark_);
  if (at != absl::string_view::npos) mark_ = at + text.size();
}

absl::Status PtyShell::WaitForPrompt(absl::Time deadline) {
  if (absl::Status s = WaitFor(kPrompt, deadline); !s.ok()) return s;
  mark_ = screen_.find(kPrompt, mark_) + std::strlen(kPrompt);
  return absl::OkStatus();
}

absl::StatusOr<std::string> PtyShell::Run(absl::string_view command_line,
                                          absl::Time deadline) {
  Mark();
  if (absl::Status s = Type(absl::StrCat(command_line, "\n")); !s.ok()) {
    return s;
  }
  const size_t start = mark_;
  if (absl::Status s = WaitFor(kPrompt, deadline); !s.ok()) return s;
  const size_t prompt = screen_.find(kPrompt, start);
  std::string out = screen_.substr(start, prompt - start);
  // Drop the echo of the typed line.
  const std::string echo = absl::StrCat(command_line, "\n");
  if (out.compare(0, echo.size(), echo) == 0) out.erase(0, echo.size());
  mark_ = prompt + std::strlen(kPrompt);
  return out;
}

}  // namespace conch::test
