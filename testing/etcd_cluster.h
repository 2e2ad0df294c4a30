// A real, local multi-member etcd cluster for integration tests that need
// leader elections, member failures or quorum loss: no mocks.
//
// What it does: EtcdCluster::Start runs `members` (default 3) `etcd`
// processes (from PATH, else /usr/bin/etcd) named m0, m1, ... on loopback.
// Each member has its own data directory (under /dev/shm when possible, so
// raft fsyncs are cheap), log file, and client, peer and metrics ports, all
// picked free before any member starts. The members bootstrap together
// (--initial-cluster with every peer URL, --initial-cluster-state=new, a
// --initial-cluster-token unique to the cluster) and Start returns once
// every member reports healthy and exactly one member is the leader. If the
// cluster does not come up (typically a port taken between picking and
// binding), it retries with new ports, up to `max_start_attempts` times.
//
// Contract:
//   * Clients talk to endpoints() ("127.0.0.1:P0,127.0.0.1:P1,...", for
//     --endpoints or CONCH_ENDPOINTS) or to one member's endpoint(i). Plain
//     HTTP only. metrics_url(i) serves /metrics and /health.
//   * Lifecycle of member i: Stop (SIGTERM, then wait), Kill (SIGKILL),
//     Freeze (SIGSTOP; returns once every thread is stopped), Thaw (SIGCONT),
//     Restart (stop if running, start again with the same name, data
//     directory and ports, with --initial-cluster-state=existing). A frozen
//     member still counts as Running. Stop reports a member that had already
//     exited on its own (a crash) as an Aborted error.
//   * Restart waits until the member reports healthy (/health, which needs a
//     leader and a quorum read) when, with it, a quorum of members runs
//     unfrozen; otherwise (e.g. the first of several members brought back
//     after the whole cluster was stopped) it only waits until the member
//     serves /metrics, since health is impossible before more return.
//   * Leader() is a snapshot: the one running, unfrozen member whose
//     /metrics says etcd_server_is_leader 1. Unavailable when none does (no
//     quorum, or an election in progress) or several do (a deposed leader
//     that has not heard of the new term yet); poll it.
//   * WaitHealthy waits until every running, unfrozen member's /health is
//     true (so each has a leader and a quorum read through raft works) and
//     exactly one of them claims leadership.
//   * Etcdctl runs `etcdctl` (API v3) against all endpoints (stopped members
//     included; the client skips unreachable ones); EtcdctlAt against member
//     i only, e.g. with --consistency=s to read that member's own copy. A
//     non-zero exit is reported in the CommandResult, not as an error.
//   * Deviations from etcd's defaults, besides names, ports, paths and zap
//     logging to the log files: --heartbeat-interval=20
//     --election-timeout=200 (a new leader within ~0.5 s of losing one)
//     and --bcrypt-cost=4. `extra_flags` come last, so they override these.
//   * etcd 3.4 behaviours tests should expect: a new cluster is usually
//     healthy within ~0.3 s, but a member's bootstrap check of its peers can
//     stall it for up to ~2 s; writes sent while a leader is being elected
//     fail ("leader changed", "no leader"), so retry them with a deadline; a
//     leader on SIGTERM first hands leadership to a follower and waits up to
//     ~5 s if that follower is stopping or frozen too.
//   * Each member's stdout and stderr are appended to log_path(i). The
//     destructor kills every member and deletes all data directories; if
//     the current test has failed (or `keep_log` is set) it first copies the
//     logs into $TEST_UNDECLARED_OUTPUTS_DIR (when set) and prints their
//     last lines to stderr. The scratch directory is named and locked like
//     EtcdServer's, so EtcdServer::Start sweeps it if this binary crashes.
//   * A member is killed by the kernel if the thread that started it exits
//     (see subprocess.h), so call Start and Restart from the test's main
//     thread (SetUp, a test body, or a ::testing::Environment).
//   * A member index outside [0, size()) is a bug in the test: the status
//     methods return InvalidArgument, the accessors abort.
//
// Ownership and thread-safety: EtcdCluster owns the etcd processes and
// their temporary directory. The non-const methods (Stop, Kill, Freeze,
// Thaw, Restart, Running, WaitHealthy) must not run concurrently with
// anything else on the same object; the const methods may be called from
// several threads at once (each runs its own etcdctl or HTTP requests).
//
// Tests that start a cluster must be tagged "integration" in their BUILD
// target and be at least size "medium".
//
// Example:
//   absl::StatusOr<std::unique_ptr<conch::test::EtcdCluster>> cluster =
//       conch::test::EtcdCluster::Start();
//   ASSERT_TRUE(cluster.ok()) << cluster.status();
//   absl::StatusOr<int> leader = (*cluster)->Leader();
//   ASSERT_TRUE(leader.ok()) << leader.status();
//   ASSERT_TRUE((*cluster)->Kill(*leader).ok());
//   // Poll (testing/poll.h) until Leader() names another member, then:
//   ASSERT_TRUE((*cluster)->Restart(*leader).ok());
#ifndef CONCH_TESTING_ETCD_CLUSTER_H_
#define CONCH_TESTING_ETCD_CLUSTER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "testing/subprocess.h"

namespace conch::test {

struct EtcdClusterOptions {
  // How many members (>= 1). Quorum is members / 2 + 1.
  int members = 3;
  // How long Start and Restart wait for health.
  absl::Duration start_timeout = absl::Seconds(30);
  // Extra etcd flags for every member, appended after the generated ones.
  std::vector<std::string> extra_flags;
  // How many port choices Start tries before giving up.
  int max_start_attempts = 3;
  // Copy out and print the logs at destruction even if the test passed.
  bool keep_log = false;
};

class EtcdCluster {
 public:
  static absl::StatusOr<std::unique_ptr<EtcdCluster>> Start(
      EtcdClusterOptions options = {});

  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;
  ~EtcdCluster();

  int size() const { return static_cast<int>(members_.size()); }
  // "127.0.0.1:P0,127.0.0.1:P1,..." (client endpoints, no scheme), for
  // --endpoints or CONCH_ENDPOINTS.
  std::string endpoints() const;
  // Member i's client endpoint, "127.0.0.1:PORT".
  std::string endpoint(int i) const;
  // "http://127.0.0.1:PORT" serving member i's /metrics and /health.
  std::string metrics_url(int i) const;
  // "m0", "m1", ...: the --name of member i.
  std::string name(int i) const;
  const std::string& data_dir(int i) const;
  const std::string& log_path(int i) const;
  // The pid of member i, or 0 after Stop or Kill.
  pid_t pid(int i) const;
  // True while member i's process exists (a frozen member counts); false
  // after Stop or Kill, or once it exited on its own.
  bool Running(int i);

  // SIGTERM (and SIGCONT, in case it is frozen), then wait for exit. OK if
  // it was stopped or killed before; Aborted if it had exited on its own.
  absl::Status Stop(int i);
  // SIGKILL, then reap. OK if it is not running.
  absl::Status Kill(int i);
  // SIGSTOP; returns once all of the member's threads are stopped.
  absl::Status Freeze(int i);
  // SIGCONT.
  absl::Status Thaw(int i);
  // Stops member i if it runs (restarting a crashed or killed member is
  // fine), starts it again on its data dir and ports and waits (see the
  // header comment). Fails if another process took one of its ports.
  absl::Status Restart(int i);

  // The index of the current leader (see the header comment).
  absl::StatusOr<int> Leader() const;
  // Polls until the cluster is healthy (see the header comment), at most
  // `timeout`. FailedPrecondition if no member is running unfrozen.
  absl::Status WaitHealthy(absl::Duration timeout);

  // Runs `etcdctl --endpoints=<all> args...` (30 s limit).
  absl::StatusOr<CommandResult> Etcdctl(std::vector<std::string> args) const;
  // Runs `etcdctl --endpoints=<member i> args...` (30 s limit).
  absl::StatusOr<CommandResult> EtcdctlAt(int i,
                                          std::vector<std::string> args) const;
  // The argv prefix Etcdctl uses (binary and all endpoints), for running
  // etcdctl yourself, e.g. a long-lived `watch` under Subprocess (set
  // ETCDCTL_API=3 in its env).
  std::vector<std::string> EtcdctlArgv() const;

 private:
  struct Member {
    std::string name;
    std::string data_dir;
    std::string log_path;
    int client_port = 0;
    int peer_port = 0;
    int metrics_port = 0;
    int launches = 0;
    bool frozen = false;
    std::unique_ptr<Subprocess> process;
  };

  explicit EtcdCluster(EtcdClusterOptions options)
      : options_(std::move(options)) {}

  // The member at `i`; aborts the test binary on a bad index.
  const Member& member(int i) const;
  absl::Status CheckIndex(int i) const;
  // Starts member i on its current ports and data dir; does not wait.
  absl::Status Launch(int i, const std::string& cluster_state);
  // Picks ports and launches every member until healthy or out of attempts.
  absl::Status StartWithRetries();
  // WaitHealthy with a deadline; with `all_must_run`, a member that exits
  // fails the wait at once (used while bootstrapping).
  absl::Status WaitHealthyUntil(absl::Time deadline, bool all_must_run);
  // Running, unfrozen members (their HTTP endpoints should answer).
  std::vector<int> ResponsiveMembers() const;
  // Member i's /health says true.
  absl::Status MemberHealthy(int i, absl::Time deadline) const;
  // Copies the logs out and prints their tails (see the header comment).
  void PreserveLogs() const;

  const EtcdClusterOptions options_;
  std::string etcd_path_;
  std::string etcdctl_path_;
  std::string root_dir_;
  std::string token_;
  std::vector<Member> members_;
  // Held (flock) while this object lives, like EtcdServer's.
  int lock_fd_ = -1;
};

}  // namespace conch::test

#endif  // CONCH_TESTING_ETCD_CLUSTER_H_
