// A real, single-node etcd server for integration tests: no mocks.
//
// What it does: EtcdServer::Start runs the `etcd` binary (from PATH, else
// /usr/bin/etcd) with a fresh data directory (under /dev/shm when possible,
// so raft fsyncs are cheap; else $TEST_TMPDIR or /tmp) on free loopback
// ports, and returns once /health reports healthy. If etcd fails to come up
// (typically a port taken between picking and binding), it retries with new
// ports, up to `max_start_attempts` times.
//
// Contract:
//   * Clients talk to endpoint() ("127.0.0.1:PORT") or client_url()
//     ("http://127.0.0.1:PORT", or "https://..." with `tls`). With `tls`,
//     the server requires client certificates signed by the test CA
//     (ca_file(), client_cert_file(), client_key_file();
//     untrusted_client_cert_file() is signed by another CA and is refused).
//   * metrics_url() is always plain HTTP on its own port
//     (--listen-metrics-urls), so /metrics and /health work even with TLS.
//   * Lifecycle: Stop (SIGTERM, then wait), Kill (SIGKILL), Freeze
//     (SIGSTOP; returns once every etcd thread is stopped), Thaw (SIGCONT),
//     Restart (stop if running, start again with the same data directory and
//     ports, wait for health). Restart fails if another process took one of
//     the ports meanwhile. Stop reports an etcd that had already exited on
//     its own (a crash) as an Aborted error.
//   * Etcdctl runs `etcdctl` (API v3) against this server with the right
//     endpoint, certificates and, once EnableAuth ran, root credentials. A
//     non-zero exit is reported in the CommandResult, not as an error. The
//     helpers built on it (RevokeLease, Compact, CurrentRevision, EnableAuth,
//     AddUser) turn a failed etcdctl into an error status, mapping etcd's
//     "not found", "permission denied" and "compacted" errors to NotFound,
//     PermissionDenied and OutOfRange.
//   * Deviations from etcd's defaults, besides ports, paths and zap logging
//     to the log file: --bcrypt-cost=4 (fast authentication) and
//     --heartbeat-interval=20 --election-timeout=200 (the lone member elects
//     itself within ~200 ms instead of up to 1 s). `extra_flags` come last,
//     so they override these.
//   * etcd's stdout and stderr are appended to log_path(). The destructor
//     kills etcd and deletes the data directory (and Start deletes scratch
//     directories that crashed test binaries left behind: older than a
//     minute, with nobody holding their owner lock); if the current test has
//     failed (or `keep_log` is set) it first copies the log into
//     $TEST_UNDECLARED_OUTPUTS_DIR (when set) and prints its last 40 lines to
//     stderr.
//   * The etcd process is killed by the kernel if the thread that started
//     it exits (see subprocess.h), so start servers from the test's main
//     thread (SetUp, a test body, or a ::testing::Environment).
//
// Ownership and thread-safety: EtcdServer owns the etcd process and its
// temporary directory. The non-const methods (Stop, Kill, Freeze, Thaw,
// Restart, WaitHealthy, Running, EnableAuth) must not run concurrently with
// anything else on the same object; the const methods may be called from
// several threads at once (each runs its own etcdctl or HTTP request).
//
// Tests that start etcd must be tagged "integration" in their BUILD target
// and be at least size "medium".
//
// Example:
//   conch::test::EtcdServerOptions options;
//   options.tls = true;
//   absl::StatusOr<std::unique_ptr<conch::test::EtcdServer>> etcd =
//       conch::test::EtcdServer::Start(options);
//   ASSERT_TRUE(etcd.ok()) << etcd.status();
//   absl::StatusOr<conch::test::CommandResult> put =
//       (*etcd)->Etcdctl({"put", "/k", "v"});
//   ASSERT_TRUE(put.ok() && put->Succeeded()) << put->DebugString();
//   ASSERT_TRUE((*etcd)->Restart().ok());
#ifndef CONCH_TESTING_ETCD_SERVER_H_
#define CONCH_TESTING_ETCD_SERVER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "testing/subprocess.h"
#include "testing/test_certs.h"

namespace conch::test {

struct EtcdServerOptions {
  // Serve clients over TLS and require client certificates from the test CA.
  bool tls = false;
  // Copy out and print etcd's log at destruction even if the test passed.
  bool keep_log = false;
  // How long Start and Restart wait for the server to become healthy.
  absl::Duration start_timeout = absl::Seconds(30);
  // How many port choices Start tries before giving up.
  int max_start_attempts = 3;
  // Extra etcd flags, appended after the generated ones.
  std::vector<std::string> extra_flags;
};

class EtcdServer {
 public:
  static absl::StatusOr<std::unique_ptr<EtcdServer>> Start(
      EtcdServerOptions options = {});

  EtcdServer(const EtcdServer&) = delete;
  EtcdServer& operator=(const EtcdServer&) = delete;
  ~EtcdServer();

  // Where clients connect: "127.0.0.1:PORT" (no scheme).
  std::string endpoint() const;
  // "http://127.0.0.1:PORT", or "https://127.0.0.1:PORT" with TLS.
  std::string client_url() const;
  int client_port() const { return client_port_; }
  int peer_port() const { return peer_port_; }
  int metrics_port() const { return metrics_port_; }
  // "http://127.0.0.1:PORT" serving /metrics and /health, even with TLS.
  std::string metrics_url() const;
  bool tls() const { return options_.tls; }
  // The pid of the etcd process, or 0 after Stop or Kill.
  pid_t pid() const;
  // True while the etcd process exists (a frozen etcd counts); false after
  // Stop or Kill, or once it exited on its own (which Stop then reports).
  bool Running();

  const std::string& data_dir() const { return data_dir_; }
  const std::string& log_path() const { return log_path_; }
  // TLS material; all empty unless started with `tls`.
  const std::string& ca_file() const { return certs_.ca_file; }
  const std::string& client_cert_file() const {
    return certs_.client_cert_file;
  }
  const std::string& client_key_file() const { return certs_.client_key_file; }
  const std::string& untrusted_client_cert_file() const {
    return certs_.untrusted_client_cert_file;
  }
  const std::string& untrusted_client_key_file() const {
    return certs_.untrusted_client_key_file;
  }
  const TestCerts& certs() const { return certs_; }

  // SIGTERM (and SIGCONT, in case it is frozen), then wait for exit. OK if
  // it was stopped or killed before; Aborted if it had exited on its own.
  absl::Status Stop();
  // SIGKILL, then reap. OK if it is not running.
  absl::Status Kill();
  // SIGSTOP; returns once all of etcd's threads are stopped.
  absl::Status Freeze();
  // SIGCONT. Requests that waited while frozen are then served.
  absl::Status Thaw();
  // Stops etcd if it runs (restarting a crashed or killed etcd is fine),
  // then starts it on the same data dir and ports and waits for health.
  absl::Status Restart();
  // Polls /health on the metrics port until it reports healthy.
  absl::Status WaitHealthy(absl::Time deadline);

  // Runs `etcdctl <global flags> args...` (30 s limit). Root credentials are
  // added once EnableAuth succeeded.
  absl::StatusOr<CommandResult> Etcdctl(std::vector<std::string> args) const;
  // Same, as `user` (no credentials at all if `user` is empty).
  absl::StatusOr<CommandResult> EtcdctlAs(const std::string& user,
                                          const std::string& password,
                                          std::vector<std::string> args) const;
  // The argv prefix Etcdctl uses (binary, endpoint, certificates and root
  // credentials if auth is on), for running etcdctl yourself, e.g. a
  // long-lived `watch` under Subprocess (set ETCDCTL_API=3 in its env).
  std::vector<std::string> EtcdctlArgv() const;
  const std::string& etcd_path() const { return etcd_path_; }
  const std::string& etcdctl_path() const { return etcdctl_path_; }

  // `etcdctl lease revoke <hex id>`.
  absl::Status RevokeLease(int64_t lease_id) const;
  // `etcdctl compaction --physical <revision>`.
  absl::Status Compact(int64_t revision) const;
  // The store's current revision (from `etcdctl endpoint status`).
  absl::StatusOr<int64_t> CurrentRevision() const;

  // Creates user and role "root" with `root_password`, enables auth; from
  // then on Etcdctl authenticates as root.
  absl::Status EnableAuth(const std::string& root_password);
  bool auth_enabled() const { return !root_password_.empty(); }
  // Creates `name` with a role granting readwrite on keys starting with
  // `prefix` (which must not be empty).
  absl::Status AddUser(const std::string& name, const std::string& password,
                       const std::string& prefix) const;

  // GET `path` on the metrics listener; the body if the status is 200.
  absl::StatusOr<std::string> HttpGet(const std::string& path) const;
  // The sum of all samples of the Prometheus metric `name` on /metrics.
  absl::StatusOr<double> MetricValue(const std::string& name) const;

 private:
  explicit EtcdServer(EtcdServerOptions options)
      : options_(std::move(options)) {}

  // Starts etcd on the current ports and data dir; does not wait.
  absl::Status Launch();
  // Launches on new ports until healthy or out of attempts.
  absl::Status StartWithRetries();
  // The etcdctl argv prefix for `user` (none if empty).
  std::vector<std::string> EtcdctlArgvAs(const std::string& user,
                                         const std::string& password) const;
  // Runs etcdctl and returns stdout, or an error status if it failed.
  absl::StatusOr<std::string> EtcdctlOk(
      const std::vector<std::string>& args) const;
  // Copies the log out and prints its tail (see the header comment).
  void PreserveLog() const;

  const EtcdServerOptions options_;
  std::string etcd_path_;
  std::string etcdctl_path_;
  std::string root_dir_;
  std::string data_dir_;
  std::string log_path_;
  TestCerts certs_;
  int client_port_ = 0;
  int peer_port_ = 0;
  int metrics_port_ = 0;
  int launches_ = 0;
  std::string root_password_;
  // Held (flock) while this object lives; see SweepStaleRoots.
  int lock_fd_ = -1;
  std::unique_ptr<Subprocess> process_;
};

// A private server for the security tests: TLS with client certificates
// required, auth enabled (root password "rootpw"), and user "alice"
// (password "alicepw") who may read and write keys under "/conch/a/" only.
// `extra_flags` are passed to etcd (e.g. "--auth-token-ttl=2").
absl::StatusOr<std::unique_ptr<EtcdServer>> StartSecureEtcd(
    std::vector<std::string> extra_flags = {});

}  // namespace conch::test

#endif  // CONCH_TESTING_ETCD_SERVER_H_
