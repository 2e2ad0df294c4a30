#include "testing/http_get.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace conch::test {
namespace {

// Closes the socket when the request is done, however it ends.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  const int fd_;
};

// Waits until `fd` is ready for `events` or the deadline passes.
absl::Status WaitFor(int fd, int16_t events, absl::Time deadline,
                     absl::string_view what) {
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          absl::StrCat("HTTP GET timed out while ", what));
    }
    pollfd p{fd, events, 0};
    const int timeout_ms = static_cast<int>(
        std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 60'000));
    const int n = poll(&p, 1, timeout_ms);
    if (n > 0) return absl::OkStatus();
    if (n < 0 && errno != EINTR) {
      return absl::InternalError(absl::StrCat("poll: ", std::strerror(errno)));
    }
  }
}

absl::StatusOr<HttpResponse> ParseResponse(const std::string& raw) {
  const size_t line_end = raw.find("\r\n");
  absl::string_view status_line(raw.data(), std::min(line_end, raw.size()));
  // "HTTP/1.1 200 OK"
  if (!absl::StartsWith(status_line, "HTTP/") || status_line.size() < 12) {
    return absl::DataLossError(
        absl::StrCat("not an HTTP response: ",
                     raw.substr(0, std::min<size_t>(80, raw.size()))));
  }
  HttpResponse response;
  if (!absl::SimpleAtoi(status_line.substr(9, 3), &response.status_code)) {
    return absl::DataLossError(absl::StrCat("bad status line: ", status_line));
  }
  if (line_end == std::string::npos) return response;
  const size_t headers_end = raw.find("\r\n\r\n", line_end);
  if (headers_end == std::string::npos) {
    return absl::DataLossError("HTTP response ends inside the headers");
  }
  response.headers = raw.substr(line_end + 2, headers_end - line_end - 2);
  response.body = raw.substr(headers_end + 4);
  return response;
}

}  // namespace

absl::StatusOr<HttpResponse> HttpGet(const std::string& host, int port,
                                     const std::string& path,
                                     absl::Time deadline) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an IPv4 address: ", host));
  }
  ScopedFd sock(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) {
    return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  }
  const std::string target = absl::StrCat(host, ":", port);
  if (connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr),
              sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) {
      return absl::UnavailableError(
          absl::StrCat("connect to ", target, ": ", std::strerror(errno)));
    }
    absl::Status s = WaitFor(sock.get(), POLLOUT, deadline, "connecting");
    if (!s.ok()) return s;
    int error = 0;
    socklen_t len = sizeof(error);
    getsockopt(sock.get(), SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) {
      return absl::UnavailableError(
          absl::StrCat("connect to ", target, ": ", std::strerror(error)));
    }
  }

  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: ", target,
                   "\r\nUser-Agent: conch-test\r\nConnection: close\r\n\r\n");
  size_t sent = 0;
  while (sent < request.size()) {
    absl::Status s = WaitFor(sock.get(), POLLOUT, deadline, "sending");
    if (!s.ok()) return s;
    const ssize_t n = send(sock.get(), request.data() + sent,
                           request.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return absl::UnavailableError(
          absl::StrCat("send to ", target, ": ", std::strerror(errno)));
    }
    sent += static_cast<size_t>(n);
  }

  std::string raw;
  char buffer[16384];
  while (true) {
    absl::Status s = WaitFor(sock.get(), POLLIN, deadline, "receiving");
    if (!s.ok()) return s;
    const ssize_t n = recv(sock.get(), buffer, sizeof(buffer), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return absl::UnavailableError(
          absl::StrCat("recv from ", target, ": ", std::strerror(errno)));
    }
    raw.append(buffer, static_cast<size_t>(n));
  }
  return ParseResponse(raw);
}

}  // namespace conch::test
