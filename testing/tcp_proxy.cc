#include "testing/tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace conch::test {
namespace {

using Clock = std::chrono::steady_clock;

// Bytes that may wait inside the proxy per direction before it stops reading.
constexpr size_t kMaxQueuedBytes = size_t{16} << 20;
// Bytes read from one socket per wake-up, so one busy sender cannot starve
// the others; more than a loopback socket's receive buffer holds, so a mode
// change still sees everything sent before it.
constexpr size_t kMaxReadPerWake = size_t{8} << 20;
constexpr size_t kReadChunk = 64 << 10;

absl::Status ErrnoStatus(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

void SetNoDelay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

// Closes `fd` so that the peer sees ECONNRESET.
void ResetAndClose(int fd) {
  const linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  close(fd);
}

// Owns a socket; closes it unless it was reset (or released) first.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket& operator=(Socket&& other) noexcept {
    if (this != &other) {
      Close();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Socket() { Close(); }

  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset() {
    if (fd_ >= 0) ResetAndClose(std::exchange(fd_, -1));
  }
  void Close() {
    if (fd_ >= 0) close(std::exchange(fd_, -1));
  }

 private:
  int fd_ = -1;
};

}  // namespace

// One proxied connection. Side 0 is the client, side 1 the upstream server;
// queue[i] holds bytes read from side i, to be written to side 1 - i.
struct TcpProxy::Connection {
  struct Chunk {
    Clock::time_point due;
    std::string bytes;
    size_t offset = 0;  // bytes of it already written
  };

  Socket fd[2];
  bool connecting = true;  // the upstream connect is in progress
  // kPassNew victim: discards everything, forever.
  bool dead = false;
  // Side i sent EOF (or failed: read/write error, or a failed connect).
  bool eof[2] = {false, false};
  bool failed[2] = {false, false};
  // We shut down writing to side i (its peer's EOF was passed on).
  bool shut[2] = {false, false};
  std::deque<Chunk> queue[2];
  size_t queued_bytes[2] = {0, 0};

  void DropQueues() {
    for (int i = 0; i < 2; ++i) {
      queue[i].clear();
      queued_bytes[i] = 0;
    }
  }
  void ResetBoth() {
    fd[0].Reset();
    fd[1].Reset();
  }
};

absl::StatusOr<int> ParseLoopbackTarget(absl::string_view target) {
  absl::string_view port_text = target;
  if (const size_t colon = target.rfind(':');
      colon != absl::string_view::npos) {
    const absl::string_view host = target.substr(0, colon);
    if (host != "127.0.0.1" && host != "localhost") {
      return absl::InvalidArgumentError(absl::StrCat(
          "target host must be 127.0.0.1 or localhost, not \"", host, "\""));
    }
    port_text = target.substr(colon + 1);
  }
  int port = 0;
  if (!absl::SimpleAtoi(port_text, &port) || port < 1 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad target port in \"", target, "\""));
  }
  return port;
}

absl::StatusOr<std::unique_ptr<TcpProxy>> TcpProxy::Start(int target_port,
                                                          int listen_port) {
  if (target_port < 1 || target_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad target port ", target_port));
  }
  if (listen_port < 0 || listen_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad listen port ", listen_port));
  }
  Socket listener(
      socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (listener.get() < 0) return ErrnoStatus("socket");
  if (listen_port != 0) {
    const int one = 1;
    setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  }
  sockaddr_in addr = Loopback(listen_port);
  if (bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) !=
      0) {
    return ErrnoStatus(absl::StrCat("bind 127.0.0.1:", listen_port));
  }
  if (listen(listener.get(), 128) != 0) return ErrnoStatus("listen");
  socklen_t len = sizeof(addr);
  if (getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) !=
      0) {
    return ErrnoStatus("getsockname");
  }
  int wake[2];
  if (pipe2(wake, O_NONBLOCK | O_CLOEXEC) != 0) return ErrnoStatus("pipe2");
  const int listen_fd = listener.Release();  // the proxy closes it
  // Not make_unique: the constructor is private.
  return std::unique_ptr<TcpProxy>(new TcpProxy(
      target_port, ntohs(addr.sin_port), listen_fd, wake[0], wake[1]));
}

TcpProxy::TcpProxy(int target_port, int port, int listen_fd, int wake_read_fd,
                   int wake_write_fd)
    : target_port_(target_port),
      port_(port),
      listen_fd_(listen_fd),
      wake_read_fd_(wake_read_fd),
      wake_write_fd_(wake_write_fd) {
  thread_ = std::thread([this] { Loop(); });
}

TcpProxy::~TcpProxy() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  Wake();
  thread_.join();
  connections_.clear();  // closes every socket
  close(listen_fd_);
  close(wake_read_fd_);
  close(wake_write_fd_);
}

std::string TcpProxy::endpoint() const {
  return absl::StrCat("127.0.0.1:", port_);
}

void TcpProxy::SetMode(Mode mode, absl::Duration delay) {
  std::unique_lock<std::mutex> lock(mu_);
  pending_.push_back({mode, std::max(delay, absl::ZeroDuration())});
  const int64_t ticket = ++requested_;
  Wake();
  applied_cv_.wait(lock, [&] { return applied_ >= ticket; });
}

TcpProxy::Mode TcpProxy::mode() const {
  std::lock_guard<std::mutex> lock(mu_);
  return mode_;
}

int64_t TcpProxy::connections_accepted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return accepted_;
}

int TcpProxy::open_connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

void TcpProxy::Wake() {
  const char byte = 0;
  // A full pipe already guarantees a wake-up, so EAGAIN is fine.
  [[maybe_unused]] ssize_t n = write(wake_write_fd_, &byte, 1);
}

void TcpProxy::Loop() {
  while (true) {
    char buf[256];
    while (read(wake_read_fd_, buf, sizeof(buf)) > 0) {
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    ApplyModeChanges();
    FlushAndReap();
    PublishCounts();
    ServeOnce(NextTimeoutMs());
  }
}

void TcpProxy::ApplyModeChanges() {
  std::vector<ModeChange> changes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    changes.swap(pending_);
  }
  if (changes.empty()) return;
  // Whatever reached our sockets before SetMode was called belongs to the
  // old mode: accept, read and deliver it now (without waiting).
  ServeOnce(0);
  FlushAndReap();
  for (const ModeChange& change : changes) {
    switch (change.mode) {
      case Mode::kReset:
        for (Connection& c : connections_) c.ResetBoth();
        connections_.clear();
        break;
      case Mode::kBlackhole:
        break;  // queued bytes wait for the partition to end
      case Mode::kPassNew:
        for (Connection& c : connections_) {
          c.dead = true;
          c.DropQueues();
        }
        break;
      case Mode::kPass:
      case Mode::kDelay:
        break;
    }
    loop_mode_ = change.mode;
    loop_delay_ = change.delay;
  }
  FlushAndReap();
  PublishCounts();
  std::lock_guard<std::mutex> lock(mu_);
  mode_ = loop_mode_;
  applied_ += static_cast<int64_t>(changes.size());
  applied_cv_.notify_all();
}

void TcpProxy::PublishCounts() {
  std::lock_guard<std::mutex> lock(mu_);
  accepted_ = loop_accepted_;
  open_ = static_cast<int>(connections_.size());
}

bool TcpProxy::Delivers(const Connection& c) const {
  return !c.dead && loop_mode_ != Mode::kBlackhole;
}

bool TcpProxy::Discards(const Connection& c) const { return c.dead; }

void TcpProxy::AcceptAll() {
  while (true) {
    const int fd =
        accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN, or out of descriptors: try again on the next wake
    }
    ++loop_accepted_;
    if (loop_mode_ == Mode::kReset) {
      ResetAndClose(fd);
      continue;
    }
    SetNoDelay(fd);
    Connection& c = connections_.emplace_back();
    c.fd[0] = Socket(fd);
    c.fd[1] =
        Socket(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (c.fd[1].get() < 0) {
      c.eof[1] = c.failed[1] = true;
      c.connecting = false;
      continue;
    }
    SetNoDelay(c.fd[1].get());
    const sockaddr_in addr = Loopback(target_port_);
    if (connect(c.fd[1].get(), reinterpret_cast<const sockaddr*>(&addr),
                sizeof(addr)) == 0) {
      c.connecting = false;
    } else if (errno != EINPROGRESS) {
      c.eof[1] = c.failed[1] = true;
      c.connecting = false;
    }
  }
}

void TcpProxy::ReadSide(Connection& c, int side) {
  const bool discards = Discards(c);
  const Clock::time_point due =
      Clock::now() + (loop_mode_ == Mode::kDelay
                          ? absl::ToChronoNanoseconds(loop_delay_)
                          : std::chrono::nanoseconds(0));
  char buf[kReadChunk];
  size_t total = 0;
  while (total < kMaxReadPerWake &&
         (discards || c.queued_bytes[side] < kMaxQueuedBytes)) {
    const ssize_t n = recv(c.fd[side].get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) {
      total += static_cast<size_t>(n);
      if (discards) continue;  // a dead connection: dropped on the floor
      c.queue[side].push_back({due, std::string(buf, static_cast<size_t>(n))});
      c.queued_bytes[side] += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) {
      c.eof[side] = true;
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      c.eof[side] = c.failed[side] = true;
    }
    return;
  }
}

void TcpProxy::FlushAndReap() {
  const Clock::time_point now = Clock::now();
  for (auto it = connections_.begin(); it != connections_.end();) {
    Connection& c = *it;
    if (!Delivers(c)) {
      // Nothing gets through, not even a FIN or a reset; once both peers
      // of a dead connection are gone nobody can tell that we close the
      // sockets (a blackholed one passes them on when the mode ends).
      if (Discards(c) && c.eof[0] && c.eof[1]) {
        it = connections_.erase(it);
      } else {
        ++it;
      }
      continue;
    }
    bool reset = c.failed[0] || c.failed[1];
    for (int from = 0; from < 2 && !reset && !c.connecting; ++from) {
      const int to = 1 - from;
      std::deque<Connection::Chunk>& q = c.queue[from];
      while (!q.empty() && q.front().due <= now) {
        Connection::Chunk& chunk = q.front();
        const ssize_t n = send(
            c.fd[to].get(), chunk.bytes.data() + chunk.offset,
            chunk.bytes.size() - chunk.offset, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EINTR) continue;
          if (errno != EAGAIN && errno != EWOULDBLOCK) reset = true;
          break;
        }
        chunk.offset += static_cast<size_t>(n);
        c.queued_bytes[from] -= static_cast<size_t>(n);
        if (chunk.offset == chunk.bytes.size()) q.pop_front();
      }
      if (!reset && q.empty() && c.eof[from] && !c.shut[to]) {
        shutdown(c.fd[to].get(), SHUT_WR);
        c.shut[to] = true;
      }
    }
    if (reset) {
      c.ResetBoth();
      it = connections_.erase(it);
    } else if (c.shut[0] && c.shut[1]) {
      it = connections_.erase(it);  // both directions finished: close
    } else {
      ++it;
    }
  }
}

int TcpProxy::NextTimeoutMs() const {
  const Clock::time_point now = Clock::now();
  Clock::duration wait = Clock::duration::max();
  for (const Connection& c : connections_) {
    if (!Delivers(c) || c.connecting) continue;
    for (int from = 0; from < 2; ++from) {
      if (c.queue[from].empty()) continue;
      const Clock::time_point due = c.queue[from].front().due;
      if (due > now) wait = std::min(wait, due - now);
    }
  }
  if (wait == Clock::duration::max()) return -1;
  // Round up, so that we never wake before the chunk is due.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
  return static_cast<int>(std::min<int64_t>(ms, 60'000));
}

void TcpProxy::ServeOnce(int timeout_ms) {
  std::vector<pollfd> fds;
  std::vector<std::pair<Connection*, int>> owners;  // for fds[2...]
  fds.push_back({wake_read_fd_, POLLIN, 0});
  fds.push_back({listen_fd_, POLLIN, 0});
  const Clock::time_point now = Clock::now();
  for (Connection& c : connections_) {
    const bool delivers = Delivers(c);
    const bool discards = Discards(c);
    for (int side = 0; side < 2; ++side) {
      if (c.fd[side].get() < 0) continue;
      int16_t events = 0;
      if (side == 1 && c.connecting) {
        events = POLLOUT;
      } else {
        if (!c.eof[side] &&
            (discards || c.queued_bytes[side] < kMaxQueuedBytes)) {
          events |= POLLIN;
        }
        // Due bytes left after FlushAndReap: the socket buffer is full.
        const std::deque<Connection::Chunk>& in = c.queue[1 - side];
        if (delivers && !in.empty() && in.front().due <= now) {
          events |= POLLOUT;
        }
      }
      if (events == 0) continue;
      fds.push_back({c.fd[side].get(), events, 0});
      owners.emplace_back(&c, side);
    }
  }
  // A readable wake pipe just ends the wait: Loop drains it before it looks
  // for work, so no request is missed.
  const int n = poll(fds.data(), fds.size(), timeout_ms);
  if (n <= 0) return;  // timeout, or EINTR
  for (size_t i = 2; i < fds.size(); ++i) {
    const int16_t revents = fds[i].revents;
    if (revents == 0) continue;
    auto [c, side] = owners[i - 2];
    if (side == 1 && c->connecting) {
      int error = 0;
      socklen_t len = sizeof(error);
      getsockopt(c->fd[1].get(), SOL_SOCKET, SO_ERROR, &error, &len);
      c->connecting = false;
      if (error != 0) c->eof[1] = c->failed[1] = true;
      continue;
    }
    // Errors and hang-ups show up as a failed or empty read; if we only
    // wanted to write, FlushAndReap's send reports them.
    if ((fds[i].events & POLLIN) != 0 &&
        (revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      ReadSide(*c, side);
    }
  }
  if (fds[1].revents != 0) AcceptAll();
}

}  // namespace conch::test
