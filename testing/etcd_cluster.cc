#include "testing/etcd_cluster.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "testing/etcd_fixture_util.h"
#include "testing/files.h"
#include "testing/http_get.h"
#include "testing/poll.h"
#include "testing/prometheus_text.h"

namespace conch::test {
namespace {

using internal::AllThreadsStopped;
using internal::AppendToFile;
using internal::CurrentTestFailed;
using internal::LogCopyName;
using internal::PickFreePorts;

constexpr char kLoopback[] = "127.0.0.1";
constexpr absl::Duration kEtcdctlTimeout = absl::Seconds(30);
// A leader that receives SIGTERM first hands leadership over, which takes
// up to ~5 s when the chosen follower is stopping or frozen too.
constexpr absl::Duration kStopTimeout = absl::Seconds(15);
constexpr absl::Duration kHttpTimeout = absl::Seconds(1);
constexpr absl::Duration kHealthPollInterval = absl::Milliseconds(50);
constexpr int kLogTailLines = 25;
// The process exists and is not a zombie. Unlike Subprocess::Running this
// reaps nothing, so const methods may call it from several threads.
bool ProcessAlive(pid_t pid) {
  absl::StatusOr<std::string> stat =
      ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) return false;
  const size_t paren = stat->rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat->size()) return false;
  const char state = (*stat)[paren + 2];
  return state != 'Z' && state != 'X';
}

std::string PeerUrl(int port) {
  return absl::StrCat("http://", kLoopback, ":", port);
}

// A token no other cluster on this machine uses, so members of different
// clusters (or of a failed start attempt) never accept each other.
std::string NewClusterToken() {
  static std::atomic<int> clusters{0};
  return absl::StrCat("conch-test-", getpid(), "-", clusters++, "-",
                      absl::ToUnixNanos(absl::Now()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<EtcdCluster>> EtcdCluster::Start(
    EtcdClusterOptions options) {
  if (options.members < 1) {
    return absl::InvalidArgumentError("members must be >= 1");
  }
  if (options.max_start_attempts < 1) {
    return absl::InvalidArgumentError("max_start_attempts must be >= 1");
  }
  auto cluster = absl::WrapUnique(new EtcdCluster(std::move(options)));
  absl::StatusOr<internal::EtcdBinaries> binaries =
      internal::FindEtcdBinaries();
  if (!binaries.ok()) return binaries.status();
  cluster->etcd_path_ = binaries->etcd;
  cluster->etcdctl_path_ = binaries->etcdctl;
  absl::StatusOr<internal::LockedRoot> root = internal::MakeLockedRoot();
  if (!root.ok()) return root.status();
  cluster->root_dir_ = root->path;
  cluster->lock_fd_ = root->lock_fd;
  for (int i = 0; i < cluster->options_.members; ++i) {
    Member m;
    m.name = absl::StrCat("m", i);
    m.data_dir = absl::StrCat(root->path, "/", m.name, ".data");
    m.log_path = absl::StrCat(root->path, "/", m.name, ".log");
    cluster->members_.push_back(std::move(m));
  }
  absl::Status s = cluster->StartWithRetries();
  if (!s.ok()) return s;
  return cluster;
}

absl::Status EtcdCluster::StartWithRetries() {
  const int n = size();
  std::string failures;
  for (int attempt = 1; attempt <= options_.max_start_attempts; ++attempt) {
    absl::StatusOr<std::vector<int>> ports = PickFreePorts(3 * n);
    if (!ports.ok()) return ports.status();
    token_ = NewClusterToken();
    absl::Status s;
    for (int i = 0; i < n; ++i) {
      Member& m = members_[i];
      m.client_port = (*ports)[3 * i];
      m.peer_port = (*ports)[3 * i + 1];
      m.metrics_port = (*ports)[3 * i + 2];
      // A failed attempt may have recorded other peer URLs in the data dir.
      if (s.ok()) s = RemoveTree(m.data_dir);
    }
    for (int i = 0; i < n && s.ok(); ++i) s = Launch(i, "new");
    if (s.ok()) {
      s = WaitHealthyUntil(absl::Now() + options_.start_timeout,
                           /*all_must_run=*/true);
    }
    if (s.ok()) return absl::OkStatus();
    for (int i = 0; i < n; ++i) Kill(i).IgnoreError();
    absl::StrAppend(&failures, "\nattempt ", attempt, ": ", s.ToString());
  }
  std::string tails;
  for (const Member& m : members_) {
    absl::StatusOr<std::string> log = ReadFile(m.log_path);
    absl::StrAppend(&tails, "\n--- last lines of ", m.log_path, " ---\n",
                    LastLines(log.value_or(""), 10));
  }
  return absl::UnavailableError(
      absl::StrCat("etcd cluster of ", n, " did not start after ",
                   options_.max_start_attempts, " attempts:", failures, tails));
}

absl::Status EtcdCluster::Launch(int i, const std::string& cluster_state) {
  Member& m = members_[i];
  std::vector<std::string> initial_cluster;
  for (const Member& peer : members_) {
    initial_cluster.push_back(
        absl::StrCat(peer.name, "=", PeerUrl(peer.peer_port)));
  }
  const std::string client_url = absl::StrCat("http://", endpoint(i));
  SubprocessOptions options;
  options.argv = {
      etcd_path_,
      absl::StrCat("--name=", m.name),
      absl::StrCat("--data-dir=", m.data_dir),
      absl::StrCat("--listen-client-urls=", client_url),
      absl::StrCat("--advertise-client-urls=", client_url),
      absl::StrCat("--listen-peer-urls=", PeerUrl(m.peer_port)),
      absl::StrCat("--initial-advertise-peer-urls=", PeerUrl(m.peer_port)),
      absl::StrCat("--initial-cluster=", absl::StrJoin(initial_cluster, ",")),
      absl::StrCat("--initial-cluster-state=", cluster_state),
      absl::StrCat("--initial-cluster-token=", token_),
      absl::StrCat("--listen-metrics-urls=", metrics_url(i)),
      // Followers notice a lost leader after 200-400 ms instead of 1-2 s.
      "--heartbeat-interval=20",
      "--election-timeout=200",
      "--bcrypt-cost=4",
      "--logger=zap",
      "--log-outputs=stderr",
  };
  options.argv.insert(options.argv.end(), options_.extra_flags.begin(),
                      options_.extra_flags.end());
  options.stdout_path = m.log_path;
  options.stderr_path = m.log_path;
  AppendToFile(m.log_path,
               absl::StrCat("==== conch test fixture: launch ", ++m.launches,
                            ": ", absl::StrJoin(options.argv, " "), "\n"));
  absl::StatusOr<std::unique_ptr<Subprocess>> process =
      Subprocess::Start(options);
  if (!process.ok()) return process.status();
  m.process = *std::move(process);
  m.frozen = false;
  return absl::OkStatus();
}

EtcdCluster::~EtcdCluster() {
  // SIGKILL and reap, so the logs are complete.
  for (Member& m : members_) m.process.reset();
  if (options_.keep_log || CurrentTestFailed()) PreserveLogs();
  if (!root_dir_.empty()) RemoveTree(root_dir_).IgnoreError();
  if (lock_fd_ >= 0) close(lock_fd_);
}

void EtcdCluster::PreserveLogs() const {
  const char* outputs = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  for (const Member& m : members_) {
    absl::StatusOr<std::string> log = ReadFile(m.log_path);
    if (!log.ok()) continue;
    std::string copied_to;
    if (outputs != nullptr && outputs[0] != '\0') {
      const std::string copy =
          absl::StrCat(outputs, "/", LogCopyName("etcd-cluster", m.name));
      if (WriteFile(copy, *log).ok()) copied_to = copy;
    }
    std::cerr << "==== last " << kLogTailLines << " lines of etcd member "
              << m.name << " log " << m.log_path
              << (copied_to.empty()
                      ? ""
                      : absl::StrCat(" (saved to ", copied_to, ")"))
              << " ====\n"
              << LastLines(*log, kLogTailLines) << "==== end of " << m.name
              << " log ====" << std::endl;
  }
}

const EtcdCluster::Member& EtcdCluster::member(int i) const {
  if (i < 0 || i >= size()) {
    std::cerr << "EtcdCluster: member index " << i << " is not in [0, "
              << size() << ")" << std::endl;
    std::abort();
  }
  return members_[i];
}

absl::Status EtcdCluster::CheckIndex(int i) const {
  if (i < 0 || i >= size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("member index ", i, " is not in [0, ", size(), ")"));
  }
  return absl::OkStatus();
}

std::string EtcdCluster::endpoints() const {
  std::vector<std::string> all;
  for (int i = 0; i < size(); ++i) all.push_back(endpoint(i));
  return absl::StrJoin(all, ",");
}

std::string EtcdCluster::endpoint(int i) const {
  return absl::StrCat(kLoopback, ":", member(i).client_port);
}

std::string EtcdCluster::metrics_url(int i) const {
  return absl::StrCat("http://", kLoopback, ":", member(i).metrics_port);
}

std::string EtcdCluster::name(int i) const { return member(i).name; }

const std::string& EtcdCluster::data_dir(int i) const {
  return member(i).data_dir;
}

const std::string& EtcdCluster::log_path(int i) const {
  return member(i).log_path;
}

pid_t EtcdCluster::pid(int i) const {
  const Member& m = member(i);
  return m.process != nullptr ? m.process->pid() : 0;
}

bool EtcdCluster::Running(int i) {
  member(i);  // Checks the index.
  return members_[i].process != nullptr && members_[i].process->Running();
}

absl::Status EtcdCluster::Stop(int i) {
  if (absl::Status s = CheckIndex(i); !s.ok()) return s;
  Member& m = members_[i];
  m.frozen = false;
  if (m.process == nullptr) return absl::OkStatus();
  if (!m.process->Running()) {
    const int status = m.process->Wait(absl::Now()).value_or(0);
    m.process.reset();
    return absl::AbortedError(
        absl::StrCat("etcd member ", m.name, " had already exited on its own: ",
                     DescribeWaitStatus(status), "; see ", m.log_path));
  }
  m.process->Signal(SIGTERM).IgnoreError();
  m.process->Signal(SIGCONT).IgnoreError();  // A frozen etcd cannot exit.
  absl::StatusOr<int> status = m.process->Wait(absl::Now() + kStopTimeout);
  m.process.reset();  // Kills it if the wait timed out.
  if (!status.ok()) {
    return absl::DeadlineExceededError(absl::StrCat(
        "etcd member ", m.name, " did not exit within ",
        absl::FormatDuration(kStopTimeout), " of SIGTERM; killed it"));
  }
  return absl::OkStatus();
}

absl::Status EtcdCluster::Kill(int i) {
  if (absl::Status s = CheckIndex(i); !s.ok()) return s;
  Member& m = members_[i];
  m.frozen = false;
  if (m.process == nullptr) return absl::OkStatus();
  if (m.process->Running()) m.process->Signal(SIGKILL).IgnoreError();
  absl::StatusOr<int> status = m.process->Wait(absl::Now() + kStopTimeout);
  m.process.reset();
  return status.ok() ? absl::OkStatus() : status.status();
}

absl::Status EtcdCluster::Freeze(int i) {
  if (absl::Status s = CheckIndex(i); !s.ok()) return s;
  Member& m = members_[i];
  if (m.process == nullptr || !m.process->Running()) {
    return absl::FailedPreconditionError(
        absl::StrCat("etcd member ", m.name, " is not running"));
  }
  if (absl::Status s = m.process->Signal(SIGSTOP); !s.ok()) return s;
  m.frozen = true;
  const pid_t pid = m.process->pid();
  return PollUntil([pid] { return AllThreadsStopped(pid); },
                   absl::Now() + kStopTimeout, absl::Milliseconds(1));
}

absl::Status EtcdCluster::Thaw(int i) {
  if (absl::Status s = CheckIndex(i); !s.ok()) return s;
  Member& m = members_[i];
  if (m.process == nullptr || !m.process->Running()) {
    return absl::FailedPreconditionError(
        absl::StrCat("etcd member ", m.name, " is not running"));
  }
  if (absl::Status s = m.process->Signal(SIGCONT); !s.ok()) return s;
  m.frozen = false;
  return absl::OkStatus();
}

absl::Status EtcdCluster::Restart(int i) {
  if (absl::Status s = CheckIndex(i); !s.ok()) return s;
  Member& m = members_[i];
  if (m.process != nullptr && m.process->Running()) {
    if (absl::Status s = Stop(i); !s.ok()) return s;
  }
  m.process.reset();
  // With its WAL in place etcd ignores --initial-cluster*, but "existing"
  // states the intent: this member rejoins, it does not bootstrap.
  if (absl::Status s = Launch(i, "existing"); !s.ok()) return s;
  const absl::Time deadline = absl::Now() + options_.start_timeout;
  const bool quorum_runs =
      static_cast<int>(ResponsiveMembers().size()) >= size() / 2 + 1;
  std::string exit_description;
  absl::Status s = PollUntilOk(
      [&]() -> absl::Status {
        if (!m.process->Running()) {
          exit_description =
              DescribeWaitStatus(m.process->Wait(absl::Now()).value_or(0));
          return absl::OkStatus();  // Stop polling; reported below.
        }
        if (quorum_runs) return MemberHealthy(i, deadline);
        absl::StatusOr<HttpResponse> r =
            HttpGet(kLoopback, m.metrics_port, "/metrics",
                    std::min(deadline, absl::Now() + kHttpTimeout));
        return r.ok() ? absl::OkStatus() : r.status();
      },
      deadline, kHealthPollInterval);
  if (!exit_description.empty()) {
    m.process.reset();
    absl::StatusOr<std::string> log = ReadFile(m.log_path);
    return absl::UnavailableError(absl::StrCat(
        "etcd member ", m.name, " ", exit_description,
        " after its restart; log tail:\n", LastLines(log.value_or(""), 10)));
  }
  if (!s.ok()) {
    return absl::DeadlineExceededError(absl::StrCat(
        "restarted etcd member ", m.name, " at ", endpoint(i),
        quorum_runs ? " not healthy: " : " not serving: ", s.message()));
  }
  return absl::OkStatus();
}

std::vector<int> EtcdCluster::ResponsiveMembers() const {
  std::vector<int> responsive;
  for (int i = 0; i < size(); ++i) {
    const Member& m = members_[i];
    if (m.process != nullptr && !m.frozen && ProcessAlive(m.process->pid())) {
      responsive.push_back(i);
    }
  }
  return responsive;
}

absl::Status EtcdCluster::MemberHealthy(int i, absl::Time deadline) const {
  // /health itself waits up to 1 s for its quorum read.
  absl::StatusOr<HttpResponse> r = HttpGet(
      kLoopback, members_[i].metrics_port, "/health",
      std::min(deadline, absl::Now() + kHttpTimeout + absl::Seconds(1)));
  if (!r.ok()) {
    return absl::Status(
        r.status().code(),
        absl::StrCat(members_[i].name, " /health: ", r.status().message()));
  }
  if (r->status_code != 200 ||
      !absl::StrContains(r->body, R"("health":"true")")) {
    return absl::UnavailableError(absl::StrCat(
        members_[i].name, " /health: ", r->status_code, " ", r->body));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> EtcdCluster::Leader() const {
  std::vector<int> claimants;
  std::vector<std::string> problems;
  for (int i : ResponsiveMembers()) {
    absl::StatusOr<HttpResponse> r =
        HttpGet(kLoopback, members_[i].metrics_port, "/metrics",
                absl::Now() + kHttpTimeout);
    absl::StatusOr<double> is_leader =
        r.ok() ? SumMetricSamples(r->body, "etcd_server_is_leader")
               : absl::StatusOr<double>(r.status());
    if (!is_leader.ok()) {
      problems.push_back(
          absl::StrCat(members_[i].name, ": ", is_leader.status().message()));
    } else if (*is_leader == 1) {
      claimants.push_back(i);
    }
  }
  if (claimants.size() == 1) return claimants[0];
  std::string what =
      claimants.empty()
          ? "no running member is the leader"
          : absl::StrCat(
                "several members claim leadership: ",
                absl::StrJoin(claimants, ", ", [this](std::string* out, int i) {
                  out->append(members_[i].name);
                }));
  if (!problems.empty()) {
    absl::StrAppend(&what, " (", absl::StrJoin(problems, "; "), ")");
  }
  return absl::UnavailableError(what);
}

absl::Status EtcdCluster::WaitHealthy(absl::Duration timeout) {
  return WaitHealthyUntil(absl::Now() + timeout, /*all_must_run=*/false);
}

absl::Status EtcdCluster::WaitHealthyUntil(absl::Time deadline,
                                           bool all_must_run) {
  if (ResponsiveMembers().empty()) {
    return absl::FailedPreconditionError("no etcd member is running unfrozen");
  }
  std::string exited;
  absl::Status s = PollUntilOk(
      [&]() -> absl::Status {
        if (all_must_run) {
          for (int i = 0; i < size(); ++i) {
            Member& m = members_[i];
            if (m.process == nullptr || m.process->Running()) continue;
            absl::StatusOr<std::string> log = ReadFile(m.log_path);
            exited = absl::StrCat(
                "etcd member ", m.name, " ",
                DescribeWaitStatus(m.process->Wait(absl::Now()).value_or(0)),
                " before the cluster became healthy; log tail:\n",
                LastLines(log.value_or(""), kLogTailLines));
            return absl::OkStatus();  // Stop polling; reported below.
          }
        }
        for (int i : ResponsiveMembers()) {
          if (absl::Status h = MemberHealthy(i, deadline); !h.ok()) return h;
        }
        return Leader().status();
      },
      deadline, kHealthPollInterval);
  if (!exited.empty()) {
    return absl::UnavailableError(exited);
  }
  if (!s.ok()) {
    return absl::DeadlineExceededError(absl::StrCat(
        "etcd cluster at ", endpoints(), " not healthy: ", s.message()));
  }
  return absl::OkStatus();
}

std::vector<std::string> EtcdCluster::EtcdctlArgv() const {
  return {etcdctl_path_, absl::StrCat("--endpoints=", endpoints())};
}

absl::StatusOr<CommandResult> EtcdCluster::Etcdctl(
    std::vector<std::string> args) const {
  std::vector<std::string> argv = EtcdctlArgv();
  argv.insert(argv.end(), std::make_move_iterator(args.begin()),
              std::make_move_iterator(args.end()));
  return RunCommand(std::move(argv), kEtcdctlTimeout, {{"ETCDCTL_API", "3"}});
}

absl::StatusOr<CommandResult> EtcdCluster::EtcdctlAt(
    int i, std::vector<std::string> args) const {
  if (absl::Status s = CheckIndex(i); !s.ok()) return s;
  std::vector<std::string> argv = {etcdctl_path_,
                                   absl::StrCat("--endpoints=", endpoint(i))};
  argv.insert(argv.end(), std::make_move_iterator(args.begin()),
              std::make_move_iterator(args.end()));
  return RunCommand(std::move(argv), kEtcdctlTimeout, {{"ETCDCTL_API", "3"}});
}

}  // namespace conch::test
