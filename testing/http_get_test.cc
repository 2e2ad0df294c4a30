#include "testing/http_get.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace conch::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A one-connection HTTP server on 127.0.0.1: it reads the request, then
// (unless told to stall) writes `response` and closes.
class OneShotServer {
 public:
  explicit OneShotServer(std::string response, bool stall = false)
      : response_(std::move(response)), stall_(stall) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(
        bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(listen_fd_, 1), 0);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }

  ~OneShotServer() {
    release_.Notify();
    thread_.join();
    close(listen_fd_);
  }

  int port() const { return port_; }
  // Valid once the response was sent (after HttpGet returned).
  const std::string& request() const { return request_; }

 private:
  void Serve() {
    const int conn = accept(listen_fd_, nullptr, nullptr);
    if (conn < 0) return;
    char buffer[4096];
    while (request_.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = recv(conn, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      request_.append(buffer, static_cast<size_t>(n));
    }
    if (stall_) release_.WaitForNotification();
    send(conn, response_.data(), response_.size(), MSG_NOSIGNAL);
    close(conn);
  }

  const std::string response_;
  const bool stall_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::string request_;
  absl::Notification release_;
  std::thread thread_;
};

absl::Time Deadline() { return absl::Now() + absl::Seconds(10); }

TEST(HttpGetTest, ReturnsStatusHeadersAndBody) {
  OneShotServer server(
      "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello\nworld\n");
  absl::StatusOr<HttpResponse> r =
      HttpGet("127.0.0.1", server.port(), "/metrics", Deadline());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status_code, 200);
  EXPECT_EQ(r->headers, "Content-Type: text/plain");
  EXPECT_EQ(r->body, "hello\nworld\n");
  EXPECT_THAT(server.request(), StartsWith("GET /metrics HTTP/1.0\r\n"));
}

TEST(HttpGetTest, NonOkStatusIsAResponseNotAnError) {
  OneShotServer server("HTTP/1.1 503 Service Unavailable\r\n\r\n{}");
  absl::StatusOr<HttpResponse> r =
      HttpGet("127.0.0.1", server.port(), "/health", Deadline());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status_code, 503);
  EXPECT_EQ(r->body, "{}");
}

TEST(HttpGetTest, GarbageIsDataLoss) {
  OneShotServer server("SSH-2.0-OpenSSH\r\n");
  absl::StatusOr<HttpResponse> r =
      HttpGet("127.0.0.1", server.port(), "/", Deadline());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
}

TEST(HttpGetTest, SilentServerHitsTheDeadline) {
  OneShotServer server("HTTP/1.0 200 OK\r\n\r\nlate", /*stall=*/true);
  const absl::Time start = absl::Now();
  absl::StatusOr<HttpResponse> r =
      HttpGet("127.0.0.1", server.port(), "/", start + absl::Milliseconds(200));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(r.status().message(), HasSubstr("receiving"));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(200));
}

TEST(HttpGetTest, RefusedConnectionIsUnavailable) {
  int port = 0;
  {
    // Learn a port that was free a moment ago and has no listener now.
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    close(fd);
  }
  absl::StatusOr<HttpResponse> r = HttpGet("127.0.0.1", port, "/", Deadline());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
}

TEST(HttpGetTest, RejectsHostNames) {
  EXPECT_EQ(HttpGet("localhost", 80, "/", Deadline()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace conch::test
