// StatusService: the pages conchd serves with --listen, as HttpRoutes for
// HttpServer (docs/observability.md).
//
//   /metrics            DaemonMetrics, Prometheus text format 0.0.4
//   /healthz            200 "ok" while the loop turns; 503 with the reason
//   /readyz             200 "ready" with a session and a synced job watch;
//                       503 with the reason otherwise
//   /                   the status page (conch/observe/status_html.h)
//   /api/v1/status      everything as JSON (conch/observe/status_json.h);
//   /api/v1/daemons, /api/v1/jobs, /api/v1/offices, /api/v1/semaphores
//                       one section each; /api/v1/jobs/NAME one job with its
//                       whole kept history
//
// Contract: the page and the API read etcd on the HTTP thread that asks,
// never on the loop's. One read (ReadClusterView) serves every request for
// a second: concurrent requests wait for the one read in progress instead
// of each starting their own. When etcd cannot be read, the page shows the
// last view it had with the error; the API answers 503. Every fresh view
// also updates the zombie count of /metrics (conch_cron_zombie_ticks). A
// scrape reads nothing from etcd: the daemon counts zombies itself (see
// Daemon::CountZombies).
//
// Ownership: borrows the connection, metrics and health, which must
// outlive it (and the HttpServer using its routes). Thread-safe.
//
// Example:
//   StatusService status({.id = "node1", .prefix = "/conch/"}, conn.get(),
//                        &metrics, &health);
//   auto server = HttpServer::Start(options, status.Routes());
#ifndef CONCH_CONCH_DAEMON_STATUS_SERVICE_H_
#define CONCH_CONCH_DAEMON_STATUS_SERVICE_H_

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "conch/daemon/health.h"
#include "conch/daemon/http_server.h"
#include "conch/daemon/metrics.h"
#include "conch/observe/status_html.h"
#include "core/etcd/connection.h"
#include "core/view/cluster_view.h"

namespace conch::daemon {

struct StatusServiceOptions {
  std::string id;
  std::string prefix;
  // A loop that has not turned for this long is not alive.
  absl::Duration stall = absl::Seconds(10);
  // How long one view serves requests.
  absl::Duration view_ttl = absl::Seconds(1);
  absl::Duration read_timeout = absl::Seconds(2);
  // The page's self-refresh.
  absl::Duration refresh = absl::Seconds(5);
  // Ticks per job on the page and in /api/v1/jobs.
  int history = 5;
};

class StatusService {
 public:
  StatusService(StatusServiceOptions options, etcd::Connection* conn,
                DaemonMetrics* metrics, const DaemonHealth* health)
      : o_(std::move(options)),
        conn_(conn),
        metrics_(metrics),
        health_(health) {}

  std::vector<HttpRoute> Routes();

 private:
  struct View {
    std::shared_ptr<const observe::ClusterView> view;  // last good one
    std::string error;  // why the newest read failed, if it did
    absl::Time at;      // when it was read (or failed)
  };
  // The shared view, read again when older than view_ttl.
  View Current();

  // Who serves the page, when, and whether it is ready.
  observe::PageContext Context() const;
  HttpReply Metrics();
  HttpReply Healthz() const;
  HttpReply Readyz() const;
  HttpReply Page();
  HttpReply Api(const HttpRequest& request);

  // Constant after construction.
  const StatusServiceOptions o_;
  etcd::Connection* const conn_;
  DaemonMetrics* const metrics_;
  const DaemonHealth* const health_;

  std::mutex read_mu_;  // held while reading: one read at a time
  std::mutex mu_;
  View current_;  // guarded by mu_
};

}  // namespace conch::daemon

#endif  // CONCH_CONCH_DAEMON_STATUS_SERVICE_H_
