// A minimal HTTP/1.0 GET client for loopback test servers (etcd's /metrics
// and /health), so fixtures need no HTTP library.
//
// Contract: HttpGet connects to `host` (an IPv4 literal such as
// "127.0.0.1") on `port`, sends `GET path HTTP/1.0`, and reads until the
// server closes the connection. Everything (connect, send, receive) must
// finish by `deadline`, else DeadlineExceeded; a refused connection is
// Unavailable. Any HTTP status is returned as a response (not an error);
// only a response that is not HTTP at all is an error. No TLS, no
// redirects, no chunked transfer coding (HTTP/1.0 servers do not use it).
//
// Ownership and thread-safety: stateless; safe to call from any thread.
//
// Example:
//   absl::StatusOr<conch::test::HttpResponse> r = conch::test::HttpGet(
//       "127.0.0.1", port, "/health", absl::Now() + absl::Seconds(2));
//   if (r.ok() && r->status_code == 200) { ... r->body ... }
#ifndef CONCH_TESTING_HTTP_GET_H_
#define CONCH_TESTING_HTTP_GET_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace conch::test {

struct HttpResponse {
  int status_code = 0;
  // The header block (without the status line), lines separated by CRLF.
  std::string headers;
  std::string body;
};

absl::StatusOr<HttpResponse> HttpGet(const std::string& host, int port,
                                     const std::string& path,
                                     absl::Time deadline);

}  // namespace conch::test

#endif  // CONCH_TESTING_HTTP_GET_H_
