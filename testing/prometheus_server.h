// A real Prometheus server for integration tests, and promtool's check of a
// text exposition: what conchd's /metrics must satisfy is checked by the
// tools that consume it, not by a parser of our own.
//
// What it does: PrometheusServer::Start runs the `prometheus` binary (from
// PATH, else /usr/bin/prometheus) with a generated configuration that
// scrapes the given "host:port" targets every `scrape_interval` (1 s by
// default), its TSDB in a fresh directory under $TEST_TMPDIR (else /tmp), on
// a free loopback port, and returns once /-/ready answers 200. If prometheus
// exits before it is ready (typically: another process took the port between
// picking and binding), Start retries on a new port, up to
// `max_start_attempts` times.
//
// Contract:
//   * All targets form one job, `job_name`, scraped over plain HTTP at
//     `metrics_path`; each series gets the labels job="<job_name>" and
//     instance="<host:port>". The scrape timeout equals the interval.
//   * Prometheus applies its discovered targets on a fixed 5 s tick, so the
//     first scrape happens about 5 s after Start returns, whatever the
//     interval. Wait for data with WaitForSeries or WaitForScrapes; never
//     sleep.
//   * Query runs an instant query (/api/v1/query at the server's current
//     time) and returns its samples sorted by label set. Instant vectors and
//     scalars are supported (a scalar is one sample without labels); a range
//     vector, a string result or a query Prometheus rejects is
//     InvalidArgument (with Prometheus's error text). Transport problems keep
//     HttpGet's codes (Unavailable, DeadlineExceeded).
//   * WaitForSeries repeats Query until `predicate` accepts the samples and
//     returns them. It gives up at once on InvalidArgument (a bad query does
//     not get better) and otherwise returns DeadlineExceeded naming the last
//     samples or error.
//   * Targets lists the active scrape targets (/api/v1/targets);
//     WaitForScrapes waits until every one of them has been scraped at least
//     once (health "up" or "down") and returns them.
//   * Stop sends SIGTERM, waits up to 10 s, then SIGKILLs. The destructor
//     stops prometheus and deletes its directory; if the current test failed
//     (or `keep_log` is set) it first copies prometheus's log into
//     $TEST_UNDECLARED_OUTPUTS_DIR (when set) and prints its last 40 lines.
//   * The prometheus process is killed by the kernel if the thread that
//     started it exits (see subprocess.h), so start it from the test's main
//     thread.
//
// PromtoolCheckMetrics runs `promtool check metrics` on a text exposition
// (fed on stdin) and maps its exit code: 0 is OK; 1 (the text does not
// parse: a malformed line, a second HELP or TYPE line for a metric, a sample
// that does not match its TYPE...) is InvalidArgument; 3 (it parses, but
// promtool's linter objects: a counter without the `_total` suffix, a
// missing HELP, a non-base unit such as milliseconds...) is
// FailedPrecondition. Any other outcome is Internal. Error messages hold
// everything promtool printed (problems go to stdout, parse errors to
// stderr). Empty input passes. Note that etcd's own /metrics has lint
// problems (FailedPrecondition) while parsing fine.
//
// Ownership and thread-safety: PrometheusServer owns the prometheus process
// and its directory. Stop and Running must not run concurrently with
// anything else on the same object; the const methods (Query, Targets, the
// waits) may be called from several threads at once, each makes its own
// HTTP requests. PromtoolCheckMetrics keeps no state and is thread-safe.
//
// Tests that start prometheus must be tagged "integration" in their BUILD
// target and be at least size "medium".
//
// Example:
//   conch::test::PrometheusServerOptions options;
//   options.targets = {absl::StrCat("127.0.0.1:", conchd_http_port)};
//   absl::StatusOr<std::unique_ptr<conch::test::PrometheusServer>> prom =
//       conch::test::PrometheusServer::Start(options);
//   ASSERT_TRUE(prom.ok()) << prom.status();
//   absl::StatusOr<std::vector<conch::test::PromSample>> up =
//       (*prom)->WaitForSeries(
//           "up",
//           [](const std::vector<conch::test::PromSample>& samples) {
//             return samples.size() == 1 && samples[0].value == 1;
//           },
//           absl::Now() + absl::Seconds(30));
//   ASSERT_TRUE(up.ok()) << up.status();
//
//   absl::Status lint = conch::test::PromtoolCheckMetrics(metrics_text);
//   EXPECT_TRUE(lint.ok()) << lint;
#ifndef CONCH_TESTING_PROMETHEUS_SERVER_H_
#define CONCH_TESTING_PROMETHEUS_SERVER_H_

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "testing/subprocess.h"

namespace conch::test {

struct PrometheusServerOptions {
  // "host:port" of each endpoint to scrape. May be empty (queries only).
  std::vector<std::string> targets;
  // The job label of every target.
  std::string job_name = "conch";
  // The HTTP path scraped on each target.
  std::string metrics_path = "/metrics";
  // How often each target is scraped; at least 1 ms. Also the timeout.
  absl::Duration scrape_interval = absl::Seconds(1);
  // How long Start waits for /-/ready, per attempt.
  absl::Duration start_timeout = absl::Seconds(30);
  // How many port choices Start tries before giving up.
  int max_start_attempts = 3;
  // Copy out and print prometheus's log at destruction even if the test
  // passed.
  bool keep_log = false;
  // Extra prometheus flags, appended after the generated ones.
  std::vector<std::string> extra_flags;
};

// One element of a query result.
struct PromSample {
  // The series' labels, "__name__" included when the result keeps the name.
  std::map<std::string, std::string> labels;
  double value = 0;
  // The evaluation time Prometheus reported.
  absl::Time time;

  // `name{a="b",...} value`, for assertion messages.
  std::string DebugString() const;
};

// One active scrape target, as /api/v1/targets reports it.
struct ScrapeTarget {
  std::string scrape_url;
  // The target's labels after relabeling: "instance" and "job".
  std::map<std::string, std::string> labels;
  // "up", "down", or "unknown" (not scraped yet).
  std::string health;
  // Why the last scrape failed; empty if it succeeded.
  std::string last_error;
};

class PrometheusServer {
 public:
  static absl::StatusOr<std::unique_ptr<PrometheusServer>> Start(
      PrometheusServerOptions options);

  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;
  ~PrometheusServer();

  int port() const { return port_; }
  // "http://127.0.0.1:PORT".
  std::string url() const;
  // The pid of the prometheus process, or 0 after Stop.
  pid_t pid() const;
  // True while the prometheus process exists.
  bool Running();
  const std::string& config_path() const { return config_path_; }
  const std::string& storage_dir() const { return storage_dir_; }
  const std::string& log_path() const { return log_path_; }
  const std::string& prometheus_path() const { return prometheus_path_; }

  // Runs the instant query `promql`; see the header comment.
  absl::StatusOr<std::vector<PromSample>> Query(absl::string_view promql,
                                                absl::Time deadline) const;
  // Repeats Query until `predicate` holds for its samples.
  absl::StatusOr<std::vector<PromSample>> WaitForSeries(
      absl::string_view promql,
      const std::function<bool(const std::vector<PromSample>&)>& predicate,
      absl::Time deadline) const;
  // The active scrape targets.
  absl::StatusOr<std::vector<ScrapeTarget>> Targets(absl::Time deadline) const;
  // Waits until every active target has been scraped at least once.
  absl::StatusOr<std::vector<ScrapeTarget>> WaitForScrapes(
      absl::Time deadline) const;

  // SIGTERM, up to 10 s for a clean exit, then SIGKILL. OK if it was not
  // running; Aborted if it had exited on its own.
  absl::Status Stop();

 private:
  explicit PrometheusServer(PrometheusServerOptions options)
      : options_(std::move(options)) {}

  // Launches on new ports until ready or out of attempts.
  absl::Status StartWithRetries();
  // Starts prometheus on port_; does not wait.
  absl::Status Launch();
  // Polls /-/ready until 200, the deadline, or the process exits.
  absl::Status WaitReady(absl::Time deadline);
  // GET `path_and_query`; the body of a 200, or the body of a JSON API
  // error (400, 422, 503) for the caller to decode, else an error.
  absl::StatusOr<std::string> ApiGet(const std::string& path_and_query,
                                     absl::Time deadline) const;
  // Copies the log out and prints its tail (see the header comment).
  void PreserveLog() const;

  const PrometheusServerOptions options_;
  std::string prometheus_path_;
  std::string root_dir_;
  std::string config_path_;
  std::string storage_dir_;
  std::string log_path_;
  int port_ = 0;
  int launches_ = 0;
  std::unique_ptr<Subprocess> process_;
};

// Runs `promtool check metrics` on `exposition_text`; see the header
// comment for what each error code means.
absl::Status PromtoolCheckMetrics(absl::string_view exposition_text);

}  // namespace conch::test

#endif  // CONCH_TESTING_PROMETHEUS_SERVER_H_
