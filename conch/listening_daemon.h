// Test-only: a real conchd started with `--listen 127.0.0.1:0`, and what
// tests ask of its HTTP side (the port it got, GETs, metric values).
//
// Start() runs conchd against the given etcd endpoints, waits until it logs
// the address it serves and until /readyz answers 200 (so its session is
// held and its job list watched), and fails the test otherwise.
//
// Thread-compatible. The process is SIGKILLed at destruction if it still
// runs.
//
// Example:
//   std::unique_ptr<ListeningDaemon> d = ListeningDaemon::Start(
//       "d1", prefix, etcd.endpoint());
//   absl::StatusOr<test::HttpResponse> m = d->Get("/metrics");
//   double ok = MetricSum(m->body, "conch_cron_runs_total",
//                         {"outcome=\"ok\""});
#ifndef CONCH_CONCH_LISTENING_DAEMON_H_
#define CONCH_CONCH_LISTENING_DAEMON_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "conch/test_util.h"
#include "testing/http_get.h"

namespace conch {

class ListeningDaemon {
 public:
  // nullptr (with a test failure) when it did not come up within 30 s.
  static std::unique_ptr<ListeningDaemon> Start(
      const std::string& id, const std::string& prefix,
      const std::string& endpoints, std::vector<std::string> flags = {});
  ~ListeningDaemon();

  int port() const { return port_; }
  std::string url() const;  // "http://127.0.0.1:PORT"
  ConchProcess& process() { return *process_; }
  absl::StatusOr<test::HttpResponse> Get(
      const std::string& path, absl::Duration timeout = absl::Seconds(10));

 private:
  std::unique_ptr<ConchProcess> process_;
  int port_ = 0;
};

// The sum of every sample named `name` (exactly) whose label block
// contains each of `labels` (e.g. `job="a"`); 0 when there is none.
double MetricSum(absl::string_view exposition, absl::string_view name,
                 const std::vector<std::string>& labels = {});

}  // namespace conch

#endif  // CONCH_CONCH_LISTENING_DAEMON_H_
