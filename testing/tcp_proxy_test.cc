#include "testing/tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "testing/poll.h"

namespace conch::test {
namespace {

using Mode = TcpProxy::Mode;

// How long a test waits for something that should happen, and how long it
// watches for something that should not.
constexpr absl::Duration kPatience = absl::Seconds(10);
constexpr absl::Duration kQuiet = absl::Milliseconds(200);

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Close();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Fd() { Close(); }
  int get() const { return fd_; }
  void Close() {
    if (fd_ >= 0) close(std::exchange(fd_, -1));
  }

 private:
  int fd_;
};

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

absl::Status ErrnoStatus(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// A loopback echo server on its own poll loop: echoes what it reads, closes
// a connection when its peer closes or fails, and counts.
class EchoServer {
 public:
  static absl::StatusOr<std::unique_ptr<EchoServer>> Start() {
    Fd listener(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (listener.get() < 0) return ErrnoStatus("socket");
    sockaddr_in addr = Loopback(0);
    socklen_t len = sizeof(addr);
    if (bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(listener.get(), 64) != 0 ||
        getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) !=
            0) {
      return ErrnoStatus("echo listener");
    }
    int wake[2];
    if (pipe2(wake, O_NONBLOCK | O_CLOEXEC) != 0) return ErrnoStatus("pipe2");
    return std::unique_ptr<EchoServer>(new EchoServer(
        std::move(listener), ntohs(addr.sin_port), Fd(wake[0]), Fd(wake[1])));
  }

  ~EchoServer() {
    stop_ = true;
    Wake();
    thread_.join();
  }

  int port() const { return port_; }
  int64_t bytes_received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_received_;
  }
  int open_connections() const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(conns_.size());
  }
  // Sends `bytes` on every open connection (from this thread, so they are
  // on their way when this returns).
  void SendToAll(const std::string& bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [fd, out] : conns_) {
      out += bytes;
      Flush(fd, out);
    }
  }

 private:
  EchoServer(Fd listener, int port, Fd wake_read, Fd wake_write)
      : listener_(std::move(listener)),
        port_(port),
        wake_read_(std::move(wake_read)),
        wake_write_(std::move(wake_write)),
        thread_([this] { Loop(); }) {}

  void Wake() {
    const char byte = 0;
    [[maybe_unused]] ssize_t n = write(wake_write_.get(), &byte, 1);
  }

  static void Flush(int fd, std::string& out) {
    while (!out.empty()) {
      const ssize_t n =
          send(fd, out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n <= 0) return;  // full, or failed (the next read reports it)
      out.erase(0, static_cast<size_t>(n));
    }
  }

  void Loop() {
    while (!stop_) {
      std::vector<pollfd> fds = {{wake_read_.get(), POLLIN, 0},
                                 {listener_.get(), POLLIN, 0}};
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (const auto& [fd, out] : conns_) {
          fds.push_back(
              {fd, static_cast<int16_t>(POLLIN | (out.empty() ? 0 : POLLOUT)),
               0});
        }
      }
      if (poll(fds.data(), fds.size(), -1) <= 0) continue;
      char buf[65536];
      while (read(wake_read_.get(), buf, sizeof(buf)) > 0) {
      }
      std::lock_guard<std::mutex> lock(mu_);
      for (size_t i = 2; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        const int fd = fds[i].fd;
        std::string& out = conns_[fd];
        bool done = false;
        while (true) {
          const ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
          if (n > 0) {
            bytes_received_ += n;
            out.append(buf, static_cast<size_t>(n));
            Flush(fd, out);
            continue;
          }
          done = n == 0 || (errno != EAGAIN && errno != EINTR);
          break;
        }
        if (done) {
          close(fd);
          conns_.erase(fd);
        } else {
          Flush(fd, out);
        }
      }
      if (fds[1].revents != 0) {
        int fd;
        while ((fd = accept4(listener_.get(), nullptr, nullptr,
                             SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          conns_[fd];
        }
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [fd, out] : conns_) close(fd);
    conns_.clear();
  }

  // Constant after construction.
  const Fd listener_;
  const int port_;
  const Fd wake_read_;
  const Fd wake_write_;

  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;  // not absl::Mutex: see tcp_proxy.h
  // Open connections and what is still to be echoed on each.
  std::map<int, std::string> conns_ ABSL_GUARDED_BY(mu_);
  int64_t bytes_received_ ABSL_GUARDED_BY(mu_) = 0;

  std::thread thread_;
};

// A blocking client socket connected to 127.0.0.1:`port`.
absl::StatusOr<Fd> Connect(int port) {
  Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return ErrnoStatus("socket");
  const sockaddr_in addr = Loopback(port);
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr),
              sizeof(addr)) != 0) {
    return ErrnoStatus("connect");
  }
  return fd;
}

absl::Status SendAll(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("send");
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// Waits until `fd` is readable (data, EOF or an error) or the deadline
// passes; true if readable.
bool WaitReadable(int fd, absl::Time deadline) {
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    pollfd p{fd, POLLIN, 0};
    const int n =
        poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (n > 0) return true;
  }
}

// Reads exactly `size` bytes; fails on EOF, error or deadline.
absl::StatusOr<std::string> ReadExactly(int fd, size_t size,
                                        absl::Time deadline) {
  std::string got;
  char buf[65536];
  while (got.size() < size) {
    if (!WaitReadable(fd, deadline)) {
      return absl::DeadlineExceededError(
          absl::StrCat("read ", got.size(), " of ", size, " bytes"));
    }
    const ssize_t n =
        recv(fd, buf, std::min(sizeof(buf), size - got.size()), MSG_DONTWAIT);
    if (n == 0) {
      return absl::AbortedError(
          absl::StrCat("EOF after ", got.size(), " of ", size, " bytes"));
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return ErrnoStatus("recv");
    }
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

// Sends `message` and reads as many bytes back.
absl::StatusOr<std::string> RoundTrip(int fd, const std::string& message) {
  if (absl::Status s = SendAll(fd, message); !s.ok()) return s;
  return ReadExactly(fd, message.size(), absl::Now() + kPatience);
}

// Writes `data` and reads back as many bytes at the same time (so neither
// side's buffers fill up); returns what was read.
absl::StatusOr<std::string> Exchange(int fd, const std::string& data,
                                     absl::Time deadline) {
  std::string got;
  size_t sent = 0;
  char buf[65536];
  while (got.size() < data.size()) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(absl::StrCat(
          "sent ", sent, ", read ", got.size(), " of ", data.size(), " bytes"));
    }
    pollfd p{fd,
             static_cast<int16_t>(POLLIN | (sent < data.size() ? POLLOUT : 0)),
             0};
    if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1) <=
        0) {
      continue;
    }
    if ((p.revents & POLLOUT) != 0) {
      const ssize_t n = send(fd, data.data() + sent, data.size() - sent,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<size_t>(n);
    }
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (n == 0) return absl::AbortedError("EOF");
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return ErrnoStatus("recv");
      }
      if (n > 0) got.append(buf, static_cast<size_t>(n));
    }
  }
  return got;
}

// Watches `fd` for kQuiet: OK if nothing arrived and it was not closed or
// reset meanwhile.
absl::Status StaysSilent(int fd) {
  if (!WaitReadable(fd, absl::Now() + kQuiet)) return absl::OkStatus();
  char buf[256];
  const ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK);
  if (n > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "received \"", std::string(buf, static_cast<size_t>(n)), "\""));
  }
  if (n == 0) return absl::FailedPreconditionError("connection closed (EOF)");
  return ErrnoStatus("connection failed");
}

// Waits for the reset that kReset promises: OK once a read or write on `fd`
// fails with ECONNRESET or EPIPE.
absl::Status GetsReset(int fd) {
  if (!WaitReadable(fd, absl::Now() + kPatience)) {
    return absl::DeadlineExceededError("no reset arrived");
  }
  char buf[256];
  ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
  if (n < 0 && errno == ECONNRESET) return absl::OkStatus();
  if (n > 0) return absl::FailedPreconditionError("received data");
  if (n == 0) {
    // An EOF first is not what kReset promises, but a write must then fail.
    n = send(fd, "x", 1, MSG_NOSIGNAL);
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
      return absl::FailedPreconditionError("EOF instead of a reset");
    }
    return absl::FailedPreconditionError("EOF, and the socket still writes");
  }
  return ErrnoStatus("recv failed, but not with ECONNRESET");
}

class TcpProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EchoServer>> echo = EchoServer::Start();
    ASSERT_TRUE(echo.ok()) << echo.status();
    echo_ = *std::move(echo);
    absl::StatusOr<std::unique_ptr<TcpProxy>> proxy =
        TcpProxy::Start(echo_->port());
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = *std::move(proxy);
  }

  // A client connection through the proxy.
  Fd Dial() {
    absl::StatusOr<Fd> fd = Connect(proxy_->port());
    EXPECT_TRUE(fd.ok()) << fd.status();
    return fd.ok() ? *std::move(fd) : Fd();
  }

  absl::Status WaitForOpen(int n) {
    return PollUntilOk(
        [&]() -> absl::Status {
          if (proxy_->open_connections() == n) return absl::OkStatus();
          return absl::NotFoundError(absl::StrCat(
              "open_connections = ", proxy_->open_connections(), ", want ", n));
        },
        absl::Now() + kPatience);
  }

  std::unique_ptr<EchoServer> echo_;
  std::unique_ptr<TcpProxy> proxy_;
};

TEST_F(TcpProxyTest, StartsOnLoopback) {
  EXPECT_GT(proxy_->port(), 0);
  EXPECT_EQ(proxy_->endpoint(), absl::StrCat("127.0.0.1:", proxy_->port()));
  EXPECT_EQ(proxy_->target_port(), echo_->port());
  EXPECT_EQ(proxy_->mode(), Mode::kPass);
}

TEST_F(TcpProxyTest, PassForwardsBothWaysAndPassesHalfClose) {
  Fd client = Dial();
  absl::StatusOr<std::string> got = RoundTrip(client.get(), "hello");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "hello");

  // Bulk data both ways at once, byte for byte.
  std::string bulk(4 << 20, '\0');
  for (size_t i = 0; i < bulk.size(); ++i) bulk[i] = static_cast<char>(i % 251);
  got = Exchange(client.get(), bulk, absl::Now() + kPatience);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == bulk);
  EXPECT_EQ(echo_->bytes_received(), static_cast<int64_t>(5 + bulk.size()));

  // Server to client on its own.
  echo_->SendToAll("push");
  got = ReadExactly(client.get(), 4, absl::Now() + kPatience);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "push");

  // Our FIN reaches the server, which closes; its FIN reaches us.
  ASSERT_EQ(shutdown(client.get(), SHUT_WR), 0);
  ASSERT_TRUE(WaitReadable(client.get(), absl::Now() + kPatience));
  char c;
  EXPECT_EQ(recv(client.get(), &c, 1, MSG_DONTWAIT), 0);
  EXPECT_TRUE(WaitForOpen(0).ok());
  EXPECT_EQ(echo_->open_connections(), 0);
}

TEST_F(TcpProxyTest, CountsConnections) {
  EXPECT_EQ(proxy_->connections_accepted(), 0);
  EXPECT_EQ(proxy_->open_connections(), 0);
  Fd a = Dial();
  Fd b = Dial();
  ASSERT_TRUE(WaitForOpen(2).ok());
  EXPECT_EQ(proxy_->connections_accepted(), 2);
  a.Close();
  ASSERT_TRUE(WaitForOpen(1).ok()) << WaitForOpen(1);
  b.Close();
  ASSERT_TRUE(WaitForOpen(0).ok()) << WaitForOpen(0);
  EXPECT_EQ(proxy_->connections_accepted(), 2);
}

TEST_F(TcpProxyTest, BlackholeHoldsEverythingUntilItEnds) {
  Fd client = Dial();
  ASSERT_EQ(RoundTrip(client.get(), "before").value_or(""), "before");
  const int64_t received = echo_->bytes_received();

  proxy_->SetMode(Mode::kBlackhole);
  EXPECT_EQ(proxy_->mode(), Mode::kBlackhole);
  ASSERT_TRUE(SendAll(client.get(), "held").ok());
  echo_->SendToAll("pushed");
  // A connection made during the blackhole is accepted but carries nothing.
  Fd during = Dial();
  ASSERT_TRUE(SendAll(during.get(), "waits").ok());
  EXPECT_TRUE(StaysSilent(client.get()).ok()) << StaysSilent(client.get());
  EXPECT_TRUE(StaysSilent(during.get()).ok()) << StaysSilent(during.get());
  EXPECT_EQ(echo_->bytes_received(), received);
  ASSERT_TRUE(PollUntil([&] { return proxy_->connections_accepted() == 2; },
                        absl::Now() + kPatience)
                  .ok());
  EXPECT_EQ(proxy_->open_connections(), 2);

  // Back to pass: what was sent during the blackhole arrives, in order
  // (the server's push first, then the echo of what the client sent), as
  // after a partition that TCP rode out; then the connections work as
  // before.
  proxy_->SetMode(Mode::kPass);
  absl::StatusOr<std::string> got =
      ReadExactly(client.get(), 10, absl::Now() + kPatience);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "pushedheld");
  got = ReadExactly(during.get(), 5, absl::Now() + kPatience);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "waits");
  got = RoundTrip(client.get(), "after");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "after");
  EXPECT_EQ(echo_->bytes_received(), received + 4 + 5 + 5);
  EXPECT_TRUE(StaysSilent(client.get()).ok()) << StaysSilent(client.get());
}

TEST_F(TcpProxyTest, ResetResetsExistingAndNewConnections) {
  Fd client = Dial();
  ASSERT_EQ(RoundTrip(client.get(), "hi").value_or(""), "hi");

  proxy_->SetMode(Mode::kReset);
  EXPECT_EQ(proxy_->open_connections(), 0);
  absl::Status reset = GetsReset(client.get());
  EXPECT_TRUE(reset.ok()) << reset;
  // The server's side was reset as well.
  EXPECT_TRUE(PollUntil([&] { return echo_->open_connections() == 0; },
                        absl::Now() + kPatience)
                  .ok());

  // New connections are accepted, then reset at once.
  Fd fresh = Dial();
  reset = GetsReset(fresh.get());
  EXPECT_TRUE(reset.ok()) << reset;
  EXPECT_TRUE(PollUntil([&] { return proxy_->connections_accepted() == 2; },
                        absl::Now() + kPatience)
                  .ok());
  EXPECT_EQ(proxy_->open_connections(), 0);

  proxy_->SetMode(Mode::kPass);
  Fd later = Dial();
  EXPECT_EQ(RoundTrip(later.get(), "again").value_or(""), "again");
}

TEST_F(TcpProxyTest, DelayIsLatencyPerDirectionInOrder) {
  constexpr absl::Duration kDelay = absl::Milliseconds(200);
  Fd client = Dial();
  ASSERT_EQ(RoundTrip(client.get(), "warm").value_or(""), "warm");

  proxy_->SetMode(Mode::kDelay, kDelay);
  absl::Time start = absl::Now();
  absl::StatusOr<std::string> got = RoundTrip(client.get(), "ping");
  absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "ping");
  // Delayed on the way there and on the way back.
  EXPECT_GE(took, 2 * kDelay - absl::Milliseconds(5));
  EXPECT_LT(took, 2 * kDelay + absl::Seconds(5));

  // Separate writes come back in order.
  start = absl::Now();
  for (const char* part : {"a", "bb", "ccc", "dddd"}) {
    ASSERT_TRUE(SendAll(client.get(), part).ok());
  }
  got = ReadExactly(client.get(), 10, absl::Now() + kPatience);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "abbcccdddd");
  EXPECT_GE(absl::Now() - start, 2 * kDelay - absl::Milliseconds(5));

  // 8 MiB is many reads; were the delay paid per read, this would take
  // minutes. It is latency: the whole exchange takes about 2 * kDelay.
  std::string bulk(8 << 20, 'x');
  start = absl::Now();
  got = Exchange(client.get(), bulk, absl::Now() + absl::Seconds(30));
  took = absl::Now() - start;
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == bulk);
  EXPECT_GE(took, 2 * kDelay - absl::Milliseconds(5));
  EXPECT_LT(took, absl::Seconds(5));
}

TEST_F(TcpProxyTest, PassNewKillsOldConnectionsForever) {
  Fd old_client = Dial();
  ASSERT_EQ(RoundTrip(old_client.get(), "old").value_or(""), "old");

  proxy_->SetMode(Mode::kPassNew);
  EXPECT_EQ(proxy_->mode(), Mode::kPassNew);
  Fd new_client = Dial();
  absl::StatusOr<std::string> got = RoundTrip(new_client.get(), "new");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "new");
  const int64_t received = echo_->bytes_received();

  // The old connection carries nothing either way, but stays open.
  ASSERT_TRUE(SendAll(old_client.get(), "lost").ok());
  echo_->SendToAll("push");
  got = ReadExactly(new_client.get(), 4, absl::Now() + kPatience);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "push");
  EXPECT_TRUE(StaysSilent(old_client.get()).ok())
      << StaysSilent(old_client.get());
  EXPECT_EQ(echo_->bytes_received(), received);

  // Even in pass mode again, the old connection stays dead (and open).
  proxy_->SetMode(Mode::kPass);
  ASSERT_TRUE(SendAll(old_client.get(), "still lost").ok());
  EXPECT_TRUE(StaysSilent(old_client.get()).ok())
      << StaysSilent(old_client.get());
  EXPECT_EQ(echo_->bytes_received(), received);
  EXPECT_EQ(RoundTrip(new_client.get(), "works").value_or(""), "works");
  Fd newest = Dial();
  EXPECT_EQ(RoundTrip(newest.get(), "too").value_or(""), "too");
  EXPECT_TRUE(WaitForOpen(3).ok()) << WaitForOpen(3);

  // Only kReset ends it.
  proxy_->SetMode(Mode::kReset);
  absl::Status reset = GetsReset(old_client.get());
  EXPECT_TRUE(reset.ok()) << reset;
}

TEST(TcpProxyStartTest, UpstreamDownResetsTheClient) {
  // A port nobody listens on: bound, never listened to, kept while we test.
  Fd placeholder(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(placeholder.get(), reinterpret_cast<sockaddr*>(&addr), len),
            0);
  ASSERT_EQ(
      getsockname(placeholder.get(), reinterpret_cast<sockaddr*>(&addr), &len),
      0);
  absl::StatusOr<std::unique_ptr<TcpProxy>> proxy =
      TcpProxy::Start(ntohs(addr.sin_port));
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  absl::StatusOr<Fd> client = Connect((*proxy)->port());
  ASSERT_TRUE(client.ok()) << client.status();
  absl::Status reset = GetsReset(client->get());
  EXPECT_TRUE(reset.ok()) << reset;
}

TEST(TcpProxyStartTest, RefusesBadPorts) {
  EXPECT_EQ(TcpProxy::Start(0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TcpProxy::Start(70000).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TcpProxy::Start(2379, -1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseLoopbackTargetTest, AcceptsOnlyLoopback) {
  EXPECT_EQ(ParseLoopbackTarget("2379").value_or(0), 2379);
  EXPECT_EQ(ParseLoopbackTarget("127.0.0.1:2379").value_or(0), 2379);
  EXPECT_EQ(ParseLoopbackTarget("localhost:2380").value_or(0), 2380);
  for (const char* bad :
       {"10.0.0.1:2379", "example.com:80", "0.0.0.0:2379", "[::1]:2379",
        ":2379", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:", "abc", ""}) {
    EXPECT_EQ(ParseLoopbackTarget(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

}  // namespace
}  // namespace conch::test
