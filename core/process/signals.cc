#include "core/process/signals.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace conch {

std::vector<int> SignalSet::WrapperSignals() {
  return {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD};
}

bool SignalSet::IsForwarded(int sig) {
  return sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT ||
         sig == SIGUSR1 || sig == SIGUSR2;
}

absl::StatusOr<std::unique_ptr<SignalSet>> SignalSet::Install(
    const std::vector<int>& signals) {
  signal(SIGPIPE, SIG_IGN);
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : signals) sigaddset(&mask, s);
  sigset_t blocked = mask;
  sigaddset(&blocked, SIGTTOU);
  if (pthread_sigmask(SIG_BLOCK, &blocked, nullptr) != 0) {
    return absl::InternalError("cannot block signals");
  }
  const int fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("signalfd: ", std::strerror(errno)));
  }
  return std::unique_ptr<SignalSet>(new SignalSet(fd));
}

SignalSet::~SignalSet() { close(fd_); }

std::vector<int> SignalSet::ReadPending() {
  std::vector<int> out;
  struct signalfd_siginfo info;
  while (read(fd_, &info, sizeof(info)) == sizeof(info)) {
    out.push_back(static_cast<int>(info.ssi_signo));
  }
  return out;
}

}  // namespace conch
