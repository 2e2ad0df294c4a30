#include "conch/daemon/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace conch::daemon {
namespace {

// cpp-httplib's own ThreadPool finishes every queued connection before
// its shutdown returns: with a crowd of idle clients queued, stopping the
// daemon would wait for each one's read timeout. This pool serves the
// same way but, once shut down, drops the connections still queued (the
// process is about to close them anyway) and joins only the workers.
class WorkerPool : public httplib::TaskQueue {
 public:
  explicit WorkerPool(int n) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Work(); });
  }
  ~WorkerPool() override = default;

  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (shutdown_) return;
      queue_.push_back(std::move(fn));
    }
    cv_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      shutdown_ = true;
      queue_.clear();
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

 private:
  void Work() {
    while (true) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return shutdown_ || !queue_.empty(); });
        if (shutdown_) return;
        fn = std::move(queue_.front());
        queue_.pop_front();
      }
      fn();
    }
  }

  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool shutdown_ = false;                    // guarded by mu_
  std::deque<std::function<void()>> queue_;  // guarded by mu_
};

void SetText(httplib::Response& res, int status, const std::string& text) {
  res.status = status;
  res.set_content(text + "\n", "text/plain; charset=utf-8");
}

const HttpRoute* Find(const std::vector<HttpRoute>& routes,
                      const std::string& path) {
  for (const HttpRoute& r : routes) {
    if (absl::EndsWith(r.path, "*")) {
      if (absl::StartsWith(
              path, absl::string_view(r.path).substr(0, r.path.size() - 1))) {
        return &r;
      }
    } else if (path == r.path) {
      return &r;
    }
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const HttpServerOptions& options, std::vector<HttpRoute> routes) {
  std::unique_ptr<HttpServer> s(new HttpServer());
  s->routes_ = std::move(routes);
  s->server_ = std::make_unique<httplib::Server>();
  httplib::Server& server = *s->server_;
  const int threads = options.threads;
  server.new_task_queue = [threads] { return new WorkerPool(threads); };
  const auto io = absl::ToChronoMicroseconds(options.io_timeout);
  server.set_read_timeout(io);
  server.set_write_timeout(io);
  server.set_keep_alive_timeout(std::max<time_t>(
      1, static_cast<time_t>(absl::ToInt64Seconds(options.io_timeout))));
  server.set_keep_alive_max_count(20);
  server.set_payload_max_length(options.max_body_bytes);
  // The library's default also sets SO_REUSEPORT, which would let a second
  // conchd bind the same port and take half of the first one's requests.
  // SO_REUSEADDR alone: a restarted conchd can bind while old connections
  // linger in TIME_WAIT, a busy port is refused.
  server.set_socket_options([](int sock) {
    const int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server.set_default_headers(
      {{"Cache-Control", "no-store"},
       {"X-Content-Type-Options", "nosniff"},
       {"Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "frame-ancestors 'none'"}});
  const std::vector<HttpRoute>* table = &s->routes_;
  server.Get(
      ".*", [table](const httplib::Request& req, httplib::Response& res) {
        const HttpRoute* route = Find(*table, req.path);
        if (route == nullptr) {
          SetText(res, 404,
                  absl::StrCat("no such page: ", req.path.substr(0, 200)));
          return;
        }
        HttpRequest r;
        r.path = req.path;
        for (const auto& [k, v] : req.params) r.query.emplace(k, v);
        HttpReply reply = route->handler(r);
        res.status = reply.status;
        res.set_content(std::move(reply.body), reply.content_type.c_str());
      });
  const auto refuse = [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Allow", "GET, HEAD");
    SetText(res, 405, "read-only: only GET and HEAD are served");
  };
  server.Post(".*", refuse);
  server.Put(".*", refuse);
  server.Patch(".*", refuse);
  server.Delete(".*", refuse);
  server.Options(".*", refuse);
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      SetText(res, res.status, absl::StrCat("error ", res.status));
    }
  });
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        SetText(res, 500, "internal error");
      });
  const ListenAddress& a = options.address;
  if (a.port == 0) {
    s->port_ = server.bind_to_any_port(a.host);
    if (s->port_ <= 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", a.Authority(0)));
    }
  } else {
    if (!server.bind_to_port(a.host, a.port)) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", a.Authority(a.port),
                       " (in use, or not an address of this host)"));
    }
    s->port_ = a.port;
  }
  s->acceptor_ = std::thread([&server] { server.listen_after_bind(); });
  // stop() does nothing before the accept loop runs: wait until it does,
  // so that the destructor can always end it.
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (!server.is_running() && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  if (!server.is_running()) {
    return absl::UnavailableError(absl::StrCat(
        "the HTTP server on ", a.Authority(s->port_), " did not start"));
  }
  return s;
}

HttpServer::~HttpServer() {
  if (server_ != nullptr) server_->stop();
  if (acceptor_.joinable()) acceptor_.join();
}

}  // namespace conch::daemon
