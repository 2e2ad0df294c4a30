#include "core/process/fuse.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/process/stop_plan.h"

namespace conch {
namespace {

enum : int64_t {
  kArm = 1,
  kDeadline = 2,
  kDisarm = 3,
  kRelease = 4,
  kFire = 5,
  kFired = 6,  // guard → wrapper: about to signal
};

struct Message {
  int64_t type;
  int64_t value;     // pgid for kArm/kRelease, monotonic ns for kDeadline
  int64_t deadline;  // kArm: the lease deadline too, in the same datagram
};

// A datagram carries 1 to kMessagesPerDatagram messages (conchd releases
// the groups of one loop turn together).
constexpr int kMessagesPerDatagram = 64;

constexpr int64_t kNever = INT64_MAX;

// Sends `sig` to every armed group.
void SignalAll(const pid_t* groups, int n, int sig) {
  for (int i = 0; i < n; ++i) kill(-groups[i], sig);
}

int64_t MonoNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// What the guard does and when, from its deadline (see StopPlan).
struct GuardClock {
  int64_t kill_after_ns;
  int64_t margin_ns;
  int64_t deadline = kNever;
  int64_t kill_at = kNever;  // set once it fired

  bool fired() const { return kill_at != kNever; }
  int64_t term_at() const {
    return deadline == kNever ? kNever : deadline - kill_after_ns - margin_ns;
  }
  // Fires at `now`: SIGKILL after the grace, or at deadline - margin if
  // that comes first (a Fire just before the SIGTERM instant).
  void Fire(int64_t now) {
    kill_at = now + kill_after_ns;
    if (deadline != kNever) kill_at = std::min(kill_at, deadline - margin_ns);
  }
};

// What the guard holds: its socket to the wrapper, its clock and the armed
// groups (a fixed array, no allocation after the fork).
struct Guard {
  Guard(int fd, int64_t kill_after_ns, int64_t margin_ns)
      : fd(fd), clock{kill_after_ns, margin_ns} {}

  int fd;
  GuardClock clock;
  int n = 0;
  pid_t groups[Fuse::kMaxGroups];
};

// Ignores the signals a terminal or a user may send (and SIGPIPE), and
// unblocks all signals.
void IgnoreStraySignals() {
  struct sigaction ign;
  std::memset(&ign, 0, sizeof(ign));
  ign.sa_handler = SIG_IGN;
  sigaction(SIGINT, &ign, nullptr);
  sigaction(SIGHUP, &ign, nullptr);
  sigaction(SIGQUIT, &ign, nullptr);
  sigaction(SIGPIPE, &ign, nullptr);
  sigaction(SIGUSR1, &ign, nullptr);
  sigaction(SIGUSR2, &ign, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

// Closes every descriptor but the socket `fd`, which moves to 3; returns 3.
int KeepOnlySocket(int fd) {
  // Keep nothing of the wrapper's but the socket (no etcd sockets, no tty).
  if (fd != 3) {
    dup2(fd, 3);
    fd = 3;
  }
  syscall(SYS_close_range, 4U, ~0U, 0U);
  close(0);
  close(1);
  close(2);
  return fd;
}

// SIGKILLs every armed group and ends the guard.
[[noreturn]] void KillAllAndExit(const Guard& g) {
  SignalAll(g.groups, g.n, SIGKILL);
  _exit(0);
}

// Fires: tells the wrapper first (so that it never sees the effect before
// the cause), then SIGTERM, and SIGCONT for a stopped group.
void FireGuard(Guard* g, int64_t now) {
  const Message report{kFired, 0, 0};
  ssize_t ignored = send(g->fd, &report, sizeof(report), MSG_NOSIGNAL);
  (void)ignored;
  g->clock.Fire(now);
  SignalAll(g->groups, g->n, SIGTERM);
  SignalAll(g->groups, g->n, SIGCONT);
}

// Does what the clock says is due at `now`: fire, or SIGKILL and exit, or
// exit once a fired guard has nothing left to guard.
void ActOnClock(Guard* g, int64_t now) {
  if (g->n > 0 && !g->clock.fired() && now >= g->clock.term_at()) {
    FireGuard(g, now);
  }
  if (g->clock.fired() && now >= g->clock.kill_at) KillAllAndExit(*g);
  // A fired fuse with nothing left to guard has done its work.
  if (g->clock.fired() && g->n == 0) _exit(0);
}

// Waits for a message until the guard's next deadline; true if the socket
// is readable.
bool WaitForMessages(const Guard& g, int64_t now) {
  int64_t wake = kNever;
  if (g.clock.fired()) {
    wake = g.clock.kill_at;
  } else if (g.n > 0) {
    wake = g.clock.term_at();
  }
  struct timespec timeout;
  struct timespec* timeout_p = nullptr;
  if (wake != kNever) {
    const int64_t left = wake > now ? wake - now : 0;
    timeout.tv_sec = static_cast<time_t>(left / 1000000000);
    timeout.tv_nsec = static_cast<long>(left % 1000000000);  // NOLINT
    timeout_p = &timeout;
  }
  struct pollfd p = {g.fd, POLLIN, 0};
  const int ready = ppoll(&p, 1, timeout_p, nullptr);
  return ready > 0;
}

// Adds the group of a kArm message (and takes its deadline).
void ArmGroup(Guard* g, const Message& m) {
  if (!g->clock.fired()) g->clock.deadline = m.deadline;
  if (g->n < Fuse::kMaxGroups) {
    g->groups[g->n++] = static_cast<pid_t>(m.value);
    // Armed after it fired (the wrapper never does this): this group gets
    // the same treatment.
    if (g->clock.fired()) {
      kill(-g->groups[g->n - 1], SIGTERM);
      kill(-g->groups[g->n - 1], SIGCONT);
    }
  }
}

// Forgets the group `pgid`, if armed.
void ReleaseGroup(Guard* g, pid_t pgid) {
  for (int i = 0; i < g->n; ++i) {
    if (g->groups[i] == pgid) {
      g->groups[i] = g->groups[--g->n];
      break;
    }
  }
}

// Applies one message from the wrapper; kDisarm ends the guard.
void HandleMessage(Guard* g, const Message& m) {
  switch (m.type) {
    case kArm:
      ArmGroup(g, m);
      break;
    case kRelease:
      ReleaseGroup(g, static_cast<pid_t>(m.value));
      break;
    case kDeadline:
      if (!g->clock.fired()) g->clock.deadline = m.value;
      break;
    case kFire:
      if (!g->clock.fired()) FireGuard(g, MonoNs());
      break;
    case kDisarm:
      _exit(0);
    default:
      break;
  }
}

// Handles every queued message; SIGKILLs all and exits once the wrapper is
// gone.
void HandleQueuedMessages(Guard* g) {
  while (true) {
    Message batch[kMessagesPerDatagram];
    const ssize_t got = recv(g->fd, batch, sizeof(batch), MSG_DONTWAIT);
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) break;
    // The wrapper is gone: nobody is left to account for the child.
    if (got <= 0) KillAllAndExit(*g);
    const int count =
        static_cast<int>(static_cast<size_t>(got) / sizeof(Message));
    for (int k = 0; k < count; ++k) HandleMessage(g, batch[k]);
  }
}

// The guard's whole life, after fork(). Async-signal-safe calls only: the
// wrapper has other threads whose locks may be held at the fork. So are its
// helpers above: no allocation, no locks, plain system calls.
[[noreturn]] void GuardMain(int fd, int64_t kill_after_ns, int64_t margin_ns) {
  setsid();
  // Stray signals from the terminal or a group kill must not stop it.
  IgnoreStraySignals();
  Guard guard(KeepOnlySocket(fd), kill_after_ns, margin_ns);
  while (true) {
    const int64_t now = MonoNs();
    ActOnClock(&guard, now);
    if (!WaitForMessages(guard, now)) continue;
    // Everything queued is handled in one wakeup: a burst of runs (conchd)
    // arms many groups at once.
    HandleQueuedMessages(&guard);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Fuse>> Fuse::Start(absl::Duration kill_after) {
  // A datagram socket pair rather than a pipe: messages keep their
  // boundaries, and send(MSG_NOSIGNAL) cannot raise SIGPIPE once the guard
  // has exited.
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return absl::InternalError(
        absl::StrCat("socketpair: ", std::strerror(errno)));
  }
  const int64_t kill_after_ns = absl::ToInt64Nanoseconds(kill_after);
  const int64_t margin_ns = absl::ToInt64Nanoseconds(StopPlan::kMargin);
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(fds[0]);
    close(fds[1]);
    return absl::ResourceExhaustedError(
        absl::StrCat("fork: ", std::strerror(err)));
  }
  if (pid == 0) {
    close(fds[1]);
    GuardMain(fds[0], kill_after_ns, margin_ns);
  }
  close(fds[0]);
  return std::unique_ptr<Fuse>(new Fuse(pid, fds[1]));
}

Fuse::~Fuse() {
  Disarm();
  close(fd_);
  int status;
  while (waitpid(guard_pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

void Fuse::Send(int64_t type, int64_t value, int64_t deadline) const {
  const Message m{type, value, deadline};
  // EPIPE/ECONNREFUSED once the guard is gone: nothing to tell it then.
  ssize_t ignored = send(fd_, &m, sizeof(m), MSG_NOSIGNAL);
  (void)ignored;
}

void Fuse::Arm(pid_t pgid, MonoTime deadline) const {
  Send(kArm, pgid, deadline.nanos());
}

void Fuse::Release(pid_t pgid) const { Send(kRelease, pgid); }

void Fuse::Release(const std::vector<pid_t>& pgids) const {
  for (size_t i = 0; i < pgids.size(); i += kMessagesPerDatagram) {
    Message batch[kMessagesPerDatagram];
    const size_t count =
        std::min(pgids.size() - i, static_cast<size_t>(kMessagesPerDatagram));
    for (size_t k = 0; k < count; ++k) {
      batch[k] = Message{kRelease, pgids[i + k], 0};
    }
    // EPIPE/ECONNREFUSED once the guard is gone: nothing to tell it then.
    ssize_t ignored = send(fd_, batch, count * sizeof(Message), MSG_NOSIGNAL);
    (void)ignored;
  }
}

void Fuse::SetDeadline(MonoTime deadline) const {
  Send(kDeadline, deadline.nanos());
}

void Fuse::Fire() const {
  fired_ = true;
  Send(kFire, 0);
}

void Fuse::Disarm() const { Send(kDisarm, 0); }

bool Fuse::GuardAlive() const {
  // The guard is our child: once it exited (even unreaped) it is gone.
  int status;
  if (waitpid(guard_pid_, &status, WNOHANG) == guard_pid_) return false;
  return kill(guard_pid_, 0) == 0;
}

bool Fuse::Fired() const {
  if (fired_) return true;
  // The guard reports nothing but its firing; EOF means it is gone.
  Message m;
  const ssize_t got = recv(fd_, &m, sizeof(m), MSG_DONTWAIT);
  if (got > 0 || got == 0) fired_ = true;
  if (got < 0 && errno != EAGAIN && errno != EINTR) fired_ = true;
  return fired_;
}

}  // namespace conch
