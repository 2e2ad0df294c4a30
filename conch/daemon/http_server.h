// HttpServer: conchd's read-only HTTP side (cpp-httplib), on threads of
// its own so that no client can hold the daemon's loop.
//
// Contract:
//   - Start() binds `options.address` (port 0: any free port, see port())
//     and serves on `options.threads` worker threads plus one accept
//     thread. It fails with Unavailable when the address cannot be bound
//     (in use, not an address of this host).
//   - Only GET and HEAD are served; a route is an exact path or, with a
//     trailing '*', a path prefix. Unknown paths get 404, other methods
//     405, all with a one-line text body.
//   - Bounds: a request line or header over 8 KiB is refused by the
//     library (414/400); a body over `max_body_bytes` gets 413 without
//     being read; each read and write on a connection times out after
//     `io_timeout`; a connection serves at most 20 requests. A client that
//     connects and sends nothing holds one worker for `io_timeout` at most.
//   - Every answer carries `Cache-Control: no-store`,
//     `X-Content-Type-Options: nosniff` and a Content-Security-Policy that
//     allows no script and nothing from elsewhere.
//   - Handlers run on the worker threads, concurrently: they must be
//     thread-safe and must not block for long (they may read etcd with a
//     deadline).
//
// Ownership: owns its threads; the destructor stops accepting, waits for
// the requests in progress and joins. Handlers must outlive the server.
//
// Example:
//   absl::StatusOr<std::unique_ptr<HttpServer>> s = HttpServer::Start(
//       {.address = *ParseListenAddress("127.0.0.1:0", false)},
//       {{"/healthz", [](const HttpRequest&) {
//          return HttpReply{200, "text/plain", "ok\n"};
//        }}});
//   std::cout << (*s)->port();
#ifndef CONCH_CONCH_DAEMON_HTTP_SERVER_H_
#define CONCH_CONCH_DAEMON_HTTP_SERVER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "conch/daemon/listen_address.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace conch::daemon {

struct HttpRequest {
  std::string path;                               // decoded, without the query
  std::multimap<std::string, std::string> query;  // decoded parameters
};

struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct HttpRoute {
  std::string path;  // exact, or a prefix when it ends in '*'
  std::function<HttpReply(const HttpRequest&)> handler;
};

struct HttpServerOptions {
  ListenAddress address;
  int threads = 8;
  absl::Duration io_timeout = absl::Seconds(2);
  size_t max_body_bytes = 4096;
};

class HttpServer {
 public:
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const HttpServerOptions& options, std::vector<HttpRoute> routes);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (the kernel's pick when the address said 0).
  int port() const { return port_; }

 private:
  HttpServer() = default;

  std::unique_ptr<httplib::Server> server_;
  std::vector<HttpRoute> routes_;
  int port_ = 0;
  std::thread acceptor_;
};

}  // namespace conch::daemon

#endif  // CONCH_CONCH_DAEMON_HTTP_SERVER_H_
