#include "testing/etcd_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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
using internal::kLockName;
using internal::kRootPrefix;
using internal::LogCopyName;
using internal::PickFreePorts;

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

constexpr char kLoopback[] = "127.0.0.1";
constexpr char kMemberName[] = "conch-test";
constexpr absl::Duration kEtcdctlTimeout = absl::Seconds(30);
constexpr absl::Duration kStopTimeout = absl::Seconds(15);
constexpr absl::Duration kHttpTimeout = absl::Seconds(5);
constexpr absl::Duration kHealthPollInterval = absl::Milliseconds(20);
constexpr int kLogTailLines = 40;
// Scratch directories untouched for this long whose owner lock is free
// belonged to a test binary that died without cleaning up.
constexpr absl::Duration kStaleAge = absl::Minutes(1);

// Maps a failed etcdctl run to a status code by etcd's error text.
absl::Status EtcdctlError(const std::vector<std::string>& args,
                          const CommandResult& result) {
  // Keep passwords out of test logs.
  std::vector<std::string> shown;
  for (const std::string& arg : args) {
    shown.push_back(absl::StartsWith(arg, "--new-user-password=")
                        ? "--new-user-password=<redacted>"
                        : arg);
  }
  const std::string message = absl::StrCat(
      "etcdctl ", absl::StrJoin(shown, " "), " failed: ", result.DebugString());
  const std::string err = absl::AsciiStrToLower(result.err);
  if (absl::StrContains(err, "permission denied") ||
      absl::StrContains(err, "user name is empty") ||
      absl::StrContains(err, "authentication failed")) {
    return absl::PermissionDeniedError(message);
  }
  if (absl::StrContains(err, "not found")) return absl::NotFoundError(message);
  if (absl::StrContains(err, "compacted") ||
      absl::StrContains(err, "future rev")) {
    return absl::OutOfRangeError(message);
  }
  if (absl::StrContains(err, "already exists")) {
    return absl::AlreadyExistsError(message);
  }
  if (absl::StrContains(err, "deadline exceeded")) {
    return absl::DeadlineExceededError(message);
  }
  return absl::UnknownError(message);
}

// Removes the scratch directories that crashed or killed test binaries left
// next to `root` (in /dev/shm they would hold memory until reboot): those
// old enough whose owner lock nobody holds.
void SweepStaleRoots(const std::string& root) {
  const std::string parent = root.substr(0, root.rfind('/'));
  DirPtr dir(opendir(parent.c_str()));
  if (dir == nullptr) return;
  std::vector<std::string> stale;
  const absl::Time now = absl::Now();
  while (dirent* entry = readdir(dir.get())) {
    const std::string candidate = absl::StrCat(parent, "/", entry->d_name);
    struct stat st;
    if (!absl::StartsWith(entry->d_name, kRootPrefix) || candidate == root ||
        lstat(candidate.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
        st.st_uid != geteuid() ||
        now - absl::FromTimeT(st.st_mtime) < kStaleAge) {
      continue;
    }
    const std::string lock = absl::StrCat(candidate, "/", kLockName);
    const int fd = open(lock.c_str(), O_RDWR | O_CLOEXEC);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
      close(fd);  // Its owner is alive.
      continue;
    }
    if (fd >= 0) close(fd);
    stale.push_back(candidate);
  }
  dir.reset();
  for (const std::string& path : stale) RemoveTree(path).IgnoreError();
}

}  // namespace

absl::StatusOr<std::unique_ptr<EtcdServer>> EtcdServer::Start(
    EtcdServerOptions options) {
  if (options.max_start_attempts < 1) {
    return absl::InvalidArgumentError("max_start_attempts must be >= 1");
  }
  auto server = absl::WrapUnique(new EtcdServer(std::move(options)));
  absl::StatusOr<internal::EtcdBinaries> binaries =
      internal::FindEtcdBinaries();
  if (!binaries.ok()) return binaries.status();
  server->etcd_path_ = binaries->etcd;
  server->etcdctl_path_ = binaries->etcdctl;
  absl::StatusOr<internal::LockedRoot> root = internal::MakeLockedRoot();
  if (!root.ok()) return root.status();
  server->root_dir_ = root->path;
  server->lock_fd_ = root->lock_fd;
  SweepStaleRoots(root->path);
  server->data_dir_ = absl::StrCat(root->path, "/data");
  server->log_path_ = absl::StrCat(root->path, "/etcd.log");
  if (server->options_.tls) {
    const std::string certs_dir = absl::StrCat(root->path, "/certs");
    if (mkdir(certs_dir.c_str(), 0700) != 0) {
      return absl::InternalError(
          absl::StrCat("mkdir ", certs_dir, ": ", strerror(errno)));
    }
    absl::StatusOr<TestCerts> certs = MakeTestCerts(certs_dir);
    if (!certs.ok()) return certs.status();
    server->certs_ = *std::move(certs);
  }
  absl::Status s = server->StartWithRetries();
  if (!s.ok()) return s;
  return server;
}

absl::Status EtcdServer::StartWithRetries() {
  std::string failures;
  for (int attempt = 1; attempt <= options_.max_start_attempts; ++attempt) {
    absl::StatusOr<std::vector<int>> ports = PickFreePorts(3);
    if (!ports.ok()) return ports.status();
    client_port_ = (*ports)[0];
    peer_port_ = (*ports)[1];
    metrics_port_ = (*ports)[2];
    // A failed attempt may have recorded other peer URLs in the data dir.
    absl::Status s = RemoveTree(data_dir_);
    if (s.ok()) s = Launch();
    if (s.ok()) s = WaitHealthy(absl::Now() + options_.start_timeout);
    if (s.ok()) return absl::OkStatus();
    Kill().IgnoreError();
    absl::StrAppend(&failures, "\nattempt ", attempt, ": ", s.ToString());
  }
  absl::StatusOr<std::string> log = ReadFile(log_path_);
  return absl::UnavailableError(
      absl::StrCat("etcd did not start after ", options_.max_start_attempts,
                   " attempts:", failures, "\n--- last lines of ", log_path_,
                   " ---\n", LastLines(log.value_or(""), kLogTailLines)));
}

absl::Status EtcdServer::Launch() {
  const std::string scheme = options_.tls ? "https" : "http";
  const std::string client_url = absl::StrCat(scheme, "://", endpoint());
  const std::string peer_url =
      absl::StrCat("http://", kLoopback, ":", peer_port_);
  SubprocessOptions options;
  options.argv = {
      etcd_path_,
      absl::StrCat("--name=", kMemberName),
      absl::StrCat("--data-dir=", data_dir_),
      absl::StrCat("--listen-client-urls=", client_url),
      absl::StrCat("--advertise-client-urls=", client_url),
      absl::StrCat("--listen-peer-urls=", peer_url),
      absl::StrCat("--initial-advertise-peer-urls=", peer_url),
      absl::StrCat("--initial-cluster=", kMemberName, "=", peer_url),
      "--initial-cluster-state=new",
      absl::StrCat("--listen-metrics-urls=", metrics_url()),
      // A single member needs no failure detection: a short election
      // timeout only shortens the wait for the first (self-)election.
      "--heartbeat-interval=20",
      "--election-timeout=200",
      "--bcrypt-cost=4",
      "--logger=zap",
      "--log-outputs=stderr",
  };
  if (options_.tls) {
    options.argv.insert(options.argv.end(),
                        {"--client-cert-auth",
                         absl::StrCat("--trusted-ca-file=", certs_.ca_file),
                         absl::StrCat("--cert-file=", certs_.server_cert_file),
                         absl::StrCat("--key-file=", certs_.server_key_file)});
  }
  options.argv.insert(options.argv.end(), options_.extra_flags.begin(),
                      options_.extra_flags.end());
  options.stdout_path = log_path_;
  options.stderr_path = log_path_;
  AppendToFile(log_path_,
               absl::StrCat("==== conch test fixture: launch ", ++launches_,
                            ": ", absl::StrJoin(options.argv, " "), "\n"));
  absl::StatusOr<std::unique_ptr<Subprocess>> process =
      Subprocess::Start(options);
  if (!process.ok()) return process.status();
  process_ = *std::move(process);
  return absl::OkStatus();
}

EtcdServer::~EtcdServer() {
  process_.reset();  // SIGKILL and reap, so the log is complete.
  if (options_.keep_log || CurrentTestFailed()) PreserveLog();
  if (!root_dir_.empty()) RemoveTree(root_dir_).IgnoreError();
  if (lock_fd_ >= 0) close(lock_fd_);
}

void EtcdServer::PreserveLog() const {
  internal::PreserveServerLog("etcd", log_path_, kLogTailLines);
}

std::string EtcdServer::endpoint() const {
  return absl::StrCat(kLoopback, ":", client_port_);
}

std::string EtcdServer::client_url() const {
  return absl::StrCat(options_.tls ? "https://" : "http://", endpoint());
}

std::string EtcdServer::metrics_url() const {
  return absl::StrCat("http://", kLoopback, ":", metrics_port_);
}

pid_t EtcdServer::pid() const {
  return process_ != nullptr ? process_->pid() : 0;
}

bool EtcdServer::Running() {
  return process_ != nullptr && process_->Running();
}

absl::Status EtcdServer::WaitHealthy(absl::Time deadline) {
  if (process_ == nullptr) {
    return absl::FailedPreconditionError("etcd is not running");
  }
  std::string exit_description;
  absl::Status s = PollUntilOk(
      [&]() -> absl::Status {
        if (!process_->Running()) {
          exit_description =
              DescribeWaitStatus(process_->Wait(absl::Now()).value_or(0));
          return absl::OkStatus();  // Stop polling; reported below.
        }
        const absl::Time request_deadline =
            std::min(deadline, absl::Now() + absl::Seconds(1));
        absl::StatusOr<HttpResponse> r = ::conch::test::HttpGet(
            kLoopback, metrics_port_, "/health", request_deadline);
        if (!r.ok()) return r.status();
        if (r->status_code != 200 ||
            !absl::StrContains(r->body, R"("health":"true")")) {
          return absl::UnavailableError(
              absl::StrCat("/health: ", r->status_code, " ", r->body));
        }
        return absl::OkStatus();
      },
      deadline, kHealthPollInterval);
  if (!exit_description.empty()) {
    process_.reset();
    absl::StatusOr<std::string> log = ReadFile(log_path_);
    return absl::UnavailableError(absl::StrCat(
        "etcd ", exit_description, " before becoming healthy; log tail:\n",
        LastLines(log.value_or(""), 10)));
  }
  if (!s.ok()) {
    return absl::DeadlineExceededError(
        absl::StrCat("etcd at ", client_url(), " not healthy: ", s.message()));
  }
  return absl::OkStatus();
}

absl::Status EtcdServer::Stop() {
  if (process_ == nullptr) return absl::OkStatus();
  if (!process_->Running()) {
    const int status = process_->Wait(absl::Now()).value_or(0);
    process_.reset();
    return absl::AbortedError(absl::StrCat(
        "etcd had already exited on its own: ", DescribeWaitStatus(status),
        "; see ", log_path_));
  }
  process_->Signal(SIGTERM).IgnoreError();
  process_->Signal(SIGCONT).IgnoreError();  // A frozen etcd cannot exit.
  absl::StatusOr<int> status = process_->Wait(absl::Now() + kStopTimeout);
  process_.reset();  // Kills it if the wait timed out.
  if (!status.ok()) {
    return absl::DeadlineExceededError(absl::StrCat(
        "etcd did not exit within ", absl::FormatDuration(kStopTimeout),
        " of SIGTERM; killed it"));
  }
  return absl::OkStatus();
}

absl::Status EtcdServer::Kill() {
  if (process_ == nullptr) return absl::OkStatus();
  if (process_->Running()) process_->Signal(SIGKILL).IgnoreError();
  absl::StatusOr<int> status = process_->Wait(absl::Now() + kStopTimeout);
  process_.reset();
  return status.ok() ? absl::OkStatus() : status.status();
}

absl::Status EtcdServer::Freeze() {
  if (process_ == nullptr || !process_->Running()) {
    return absl::FailedPreconditionError("etcd is not running");
  }
  if (absl::Status s = process_->Signal(SIGSTOP); !s.ok()) return s;
  const pid_t pid = process_->pid();
  return PollUntil([pid] { return AllThreadsStopped(pid); },
                   absl::Now() + kStopTimeout, absl::Milliseconds(1));
}

absl::Status EtcdServer::Thaw() {
  if (process_ == nullptr || !process_->Running()) {
    return absl::FailedPreconditionError("etcd is not running");
  }
  return process_->Signal(SIGCONT);
}

absl::Status EtcdServer::Restart() {
  if (process_ != nullptr && process_->Running()) {
    if (absl::Status s = Stop(); !s.ok()) return s;
  }
  process_.reset();
  if (absl::Status s = Launch(); !s.ok()) return s;
  return WaitHealthy(absl::Now() + options_.start_timeout);
}

absl::StatusOr<CommandResult> EtcdServer::Etcdctl(
    std::vector<std::string> args) const {
  return EtcdctlAs(auth_enabled() ? "root" : "", root_password_,
                   std::move(args));
}

absl::StatusOr<CommandResult> EtcdServer::EtcdctlAs(
    const std::string& user, const std::string& password,
    std::vector<std::string> args) const {
  std::vector<std::string> argv = EtcdctlArgvAs(user, password);
  argv.insert(argv.end(), std::make_move_iterator(args.begin()),
              std::make_move_iterator(args.end()));
  return RunCommand(std::move(argv), kEtcdctlTimeout, {{"ETCDCTL_API", "3"}});
}

std::vector<std::string> EtcdServer::EtcdctlArgv() const {
  return EtcdctlArgvAs(auth_enabled() ? "root" : "", root_password_);
}

std::vector<std::string> EtcdServer::EtcdctlArgvAs(
    const std::string& user, const std::string& password) const {
  std::vector<std::string> argv = {etcdctl_path_,
                                   absl::StrCat("--endpoints=", client_url())};
  if (options_.tls) {
    argv.push_back(absl::StrCat("--cacert=", certs_.ca_file));
    argv.push_back(absl::StrCat("--cert=", certs_.client_cert_file));
    argv.push_back(absl::StrCat("--key=", certs_.client_key_file));
  }
  if (!user.empty()) {
    argv.push_back(absl::StrCat("--user=", user));
    argv.push_back(absl::StrCat("--password=", password));
  }
  return argv;
}

absl::StatusOr<std::string> EtcdServer::EtcdctlOk(
    const std::vector<std::string>& args) const {
  absl::StatusOr<CommandResult> r = Etcdctl(args);
  if (!r.ok()) return r.status();
  if (!r->Succeeded()) return EtcdctlError(args, *r);
  return std::move(r->out);
}

absl::Status EtcdServer::RevokeLease(int64_t lease_id) const {
  return EtcdctlOk({"lease", "revoke",
                    absl::StrFormat("%x", static_cast<uint64_t>(lease_id))})
      .status();
}

absl::Status EtcdServer::Compact(int64_t revision) const {
  return EtcdctlOk({"compaction", "--physical", absl::StrCat(revision)})
      .status();
}

absl::StatusOr<int64_t> EtcdServer::CurrentRevision() const {
  absl::StatusOr<std::string> out =
      EtcdctlOk({"endpoint", "status", "-w", "json"});
  if (!out.ok()) return out.status();
  // [{"Endpoint":"...","Status":{"header":{...,"revision":7,...},...}}]
  constexpr absl::string_view kKey = R"("revision":)";
  absl::string_view rest(*out);
  const size_t at = rest.find(kKey);
  if (at == absl::string_view::npos) {
    return absl::DataLossError(
        absl::StrCat("no revision in endpoint status: ", *out));
  }
  rest.remove_prefix(at + kKey.size());
  size_t digits = 0;
  while (digits < rest.size() &&
         absl::ascii_isdigit(static_cast<unsigned char>(rest[digits]))) {
    ++digits;
  }
  int64_t revision = 0;
  if (!absl::SimpleAtoi(rest.substr(0, digits), &revision)) {
    return absl::DataLossError(
        absl::StrCat("bad revision in endpoint status: ", *out));
  }
  return revision;
}

absl::Status EtcdServer::EnableAuth(const std::string& root_password) {
  if (root_password.empty()) {
    return absl::InvalidArgumentError("the root password must not be empty");
  }
  if (auth_enabled()) {
    return absl::FailedPreconditionError("auth is already enabled");
  }
  const std::vector<std::vector<std::string>> steps = {
      {"user", "add", "root",
       absl::StrCat("--new-user-password=", root_password)},
      {"role", "add", "root"},
      {"user", "grant-role", "root", "root"},
      {"auth", "enable"},
  };
  for (const auto& step : steps) {
    if (absl::Status s = EtcdctlOk(step).status(); !s.ok()) return s;
  }
  root_password_ = root_password;
  return absl::OkStatus();
}

absl::Status EtcdServer::AddUser(const std::string& name,
                                 const std::string& password,
                                 const std::string& prefix) const {
  if (name.empty() || prefix.empty()) {
    return absl::InvalidArgumentError("user name and prefix must be set");
  }
  const std::string role = absl::StrCat(name, "-rw");
  const std::vector<std::vector<std::string>> steps = {
      {"user", "add", name, absl::StrCat("--new-user-password=", password)},
      {"role", "add", role},
      {"role", "grant-permission", role, "--prefix=true", "readwrite", prefix},
      {"user", "grant-role", name, role},
  };
  for (const auto& step : steps) {
    if (absl::Status s = EtcdctlOk(step).status(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> EtcdServer::HttpGet(const std::string& path) const {
  absl::StatusOr<HttpResponse> r = ::conch::test::HttpGet(
      kLoopback, metrics_port_, path, absl::Now() + kHttpTimeout);
  if (!r.ok()) return r.status();
  if (r->status_code != 200) {
    return absl::UnavailableError(absl::StrCat(
        "GET ", metrics_url(), path, ": HTTP ", r->status_code, " ", r->body));
  }
  return std::move(r->body);
}

absl::StatusOr<double> EtcdServer::MetricValue(const std::string& name) const {
  absl::StatusOr<std::string> metrics = HttpGet("/metrics");
  if (!metrics.ok()) return metrics.status();
  return SumMetricSamples(*metrics, name);
}

absl::StatusOr<std::unique_ptr<EtcdServer>> StartSecureEtcd(
    std::vector<std::string> extra_flags) {
  EtcdServerOptions options;
  options.tls = true;
  options.extra_flags = std::move(extra_flags);
  absl::StatusOr<std::unique_ptr<EtcdServer>> server =
      EtcdServer::Start(options);
  if (!server.ok()) return server.status();
  if (absl::Status s = (*server)->EnableAuth("rootpw"); !s.ok()) return s;
  if (absl::Status s = (*server)->AddUser("alice", "alicepw", "/conch/a/");
      !s.ok()) {
    return s;
  }
  return server;
}

}  // namespace conch::test
