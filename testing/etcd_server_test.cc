#include "testing/etcd_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/etcd_env.h"
#include "testing/files.h"
#include "testing/http_get.h"
#include "testing/poll.h"
#include "testing/subprocess.h"

namespace conch::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr absl::Duration kWait = absl::Seconds(20);

// Runs etcdctl and expects it to succeed; returns its stdout.
std::string MustEtcdctl(const EtcdServer& etcd,
                        const std::vector<std::string>& args) {
  absl::StatusOr<CommandResult> r = etcd.Etcdctl(args);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return "";
  EXPECT_TRUE(r->Succeeded())
      << absl::StrJoin(args, " ") << ": " << r->DebugString();
  return r->out;
}

std::string GetValue(const EtcdServer& etcd, const std::string& key) {
  return MustEtcdctl(etcd, {"get", key, "--print-value-only"});
}

// `etcdctl lease grant` prints "lease 694d7c8f2d27b70a granted with TTL(60s)".
int64_t GrantLease(const EtcdServer& etcd, int ttl_seconds) {
  const std::string out =
      MustEtcdctl(etcd, {"lease", "grant", absl::StrCat(ttl_seconds)});
  std::vector<std::string> words = absl::StrSplit(out, ' ');
  int64_t id = 0;
  EXPECT_TRUE(words.size() >= 2 && absl::SimpleHexAtoi(words[1], &id))
      << "unexpected output: " << out;
  return id;
}

std::unique_ptr<EtcdServer> StartServer(const EtcdServerOptions& options = {}) {
  absl::StatusOr<std::unique_ptr<EtcdServer>> etcd = EtcdServer::Start(options);
  EXPECT_TRUE(etcd.ok()) << etcd.status();
  return etcd.ok() ? *std::move(etcd) : nullptr;
}

// --- Tests against the shared server of the environment. ---

TEST(SharedEtcdTest, AnswersPutAndGet) {
  EtcdServer& etcd = SharedEtcd();
  const std::string key = UniquePrefix() + "greeting";
  MustEtcdctl(etcd, {"put", key, "hello world"});
  EXPECT_EQ(GetValue(etcd, key), "hello world\n");
  EXPECT_THAT(etcd.endpoint(), StartsWith("127.0.0.1:"));
  EXPECT_EQ(etcd.client_url(), "http://" + etcd.endpoint());
  EXPECT_EQ(etcd.endpoint(), absl::StrCat("127.0.0.1:", etcd.client_port()));
  EXPECT_GT(etcd.pid(), 0);
}

TEST(SharedEtcdTest, CurrentRevisionAdvancesWithWrites) {
  EtcdServer& etcd = SharedEtcd();
  absl::StatusOr<int64_t> before = etcd.CurrentRevision();
  ASSERT_TRUE(before.ok()) << before.status();
  const std::string prefix = UniquePrefix();
  MustEtcdctl(etcd, {"put", prefix + "a", "1"});
  MustEtcdctl(etcd, {"put", prefix + "b", "2"});
  absl::StatusOr<int64_t> after = etcd.CurrentRevision();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, *before + 2);
}

TEST(SharedEtcdTest, RevokeLeaseDeletesAttachedKeys) {
  EtcdServer& etcd = SharedEtcd();
  const std::string key = UniquePrefix() + "leased";
  const int64_t lease = GrantLease(etcd, 60);
  ASSERT_GT(lease, 0);
  MustEtcdctl(etcd, {"put", key, "v", absl::StrFormat("--lease=%x", lease)});
  ASSERT_EQ(GetValue(etcd, key), "v\n");

  absl::Status s = etcd.RevokeLease(lease);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(GetValue(etcd, key), "");
  EXPECT_EQ(etcd.RevokeLease(lease).code(), absl::StatusCode::kNotFound);
}

TEST(SharedEtcdTest, MetricValueTracksWatchEvents) {
  EtcdServer& etcd = SharedEtcd();
  const std::string prefix = UniquePrefix();
  absl::StatusOr<double> events =
      etcd.MetricValue("etcd_debugging_mvcc_events_total");
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_GE(*events, 0);
  absl::StatusOr<double> watchers =
      etcd.MetricValue("etcd_debugging_mvcc_watcher_total");
  ASSERT_TRUE(watchers.ok()) << watchers.status();

  // A watcher makes puts under the prefix count as sent events.
  SubprocessOptions watch;
  watch.argv = etcd.EtcdctlArgv();
  watch.argv.insert(watch.argv.end(), {"watch", prefix, "--prefix"});
  watch.env = {{"ETCDCTL_API", "3"}};
  absl::StatusOr<std::unique_ptr<Subprocess>> watcher =
      Subprocess::Start(watch);
  ASSERT_TRUE(watcher.ok()) << watcher.status();
  ASSERT_TRUE(PollUntil(
                  [&] {
                    absl::StatusOr<double> now =
                        etcd.MetricValue("etcd_debugging_mvcc_watcher_total");
                    return now.ok() && *now > *watchers;
                  },
                  absl::Now() + kWait)
                  .ok())
      << "the watch never registered";
  MustEtcdctl(etcd, {"put", prefix + "x", "1"});
  MustEtcdctl(etcd, {"put", prefix + "y", "2"});
  absl::Status s = PollUntil(
      [&] {
        absl::StatusOr<double> now =
            etcd.MetricValue("etcd_debugging_mvcc_events_total");
        return now.ok() && *now >= *events + 2;
      },
      absl::Now() + kWait);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(etcd.MetricValue("no_such_metric_total").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(SharedEtcdTest, HealthAndMetricsAreServedOnTheMetricsUrl) {
  EtcdServer& etcd = SharedEtcd();
  EXPECT_EQ(etcd.metrics_url(),
            absl::StrCat("http://127.0.0.1:", etcd.metrics_port()));
  EXPECT_NE(etcd.metrics_port(), etcd.client_port());
  absl::StatusOr<std::string> health = etcd.HttpGet("/health");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_THAT(*health, HasSubstr(R"("health":"true")"));
  EXPECT_FALSE(etcd.HttpGet("/no/such/page").ok());
}

// --- Tests that need a server of their own. ---

class PrivateEtcdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    etcd_ = StartServer();
    ASSERT_NE(etcd_, nullptr);
  }

  std::unique_ptr<EtcdServer> etcd_;
};

TEST_F(PrivateEtcdTest, FreezeStallsRequestsAndThawRestoresService) {
  MustEtcdctl(*etcd_, {"put", "/k", "v"});
  ASSERT_TRUE(etcd_->Freeze().ok());
  EXPECT_TRUE(etcd_->Running());

  const absl::Time start = absl::Now();
  absl::StatusOr<CommandResult> frozen =
      etcd_->Etcdctl({"get", "/k", "--command-timeout=1s"});
  ASSERT_TRUE(frozen.ok()) << frozen.status();
  EXPECT_FALSE(frozen->Succeeded()) << frozen->DebugString();
  EXPECT_THAT(frozen->err, HasSubstr("deadline exceeded"));
  EXPECT_GE(absl::Now() - start, absl::Seconds(1));
  absl::StatusOr<HttpResponse> health =
      HttpGet("127.0.0.1", etcd_->metrics_port(), "/health",
              absl::Now() + absl::Milliseconds(300));
  EXPECT_EQ(health.status().code(), absl::StatusCode::kDeadlineExceeded);

  ASSERT_TRUE(etcd_->Thaw().ok());
  absl::StatusOr<CommandResult> thawed =
      etcd_->Etcdctl({"get", "/k", "--print-value-only"});
  ASSERT_TRUE(thawed.ok()) << thawed.status();
  EXPECT_TRUE(thawed->Succeeded()) << thawed->DebugString();
  EXPECT_EQ(thawed->out, "v\n");
}

TEST_F(PrivateEtcdTest, RestartKeepsDataAndAddress) {
  MustEtcdctl(*etcd_, {"put", "/durable", "yes"});
  const std::string endpoint = etcd_->endpoint();
  const pid_t old_pid = etcd_->pid();
  absl::Status s = etcd_->Restart();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_NE(etcd_->pid(), old_pid);
  EXPECT_EQ(etcd_->endpoint(), endpoint);
  EXPECT_EQ(GetValue(*etcd_, "/durable"), "yes\n");
}

TEST_F(PrivateEtcdTest, KillThenRestartKeepsCommittedData) {
  MustEtcdctl(*etcd_, {"put", "/durable", "after-kill"});
  ASSERT_TRUE(etcd_->Kill().ok());
  EXPECT_EQ(etcd_->pid(), 0);
  EXPECT_FALSE(etcd_->Running());
  absl::StatusOr<CommandResult> down =
      etcd_->Etcdctl({"get", "/durable", "--command-timeout=1s"});
  ASSERT_TRUE(down.ok()) << down.status();
  EXPECT_FALSE(down->Succeeded());
  EXPECT_TRUE(etcd_->Kill().ok()) << "killing a dead server is a no-op";
  EXPECT_EQ(etcd_->Freeze().code(), absl::StatusCode::kFailedPrecondition);

  absl::Status s = etcd_->Restart();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(GetValue(*etcd_, "/durable"), "after-kill\n");
}

TEST_F(PrivateEtcdTest, StopWorksOnAFrozenServer) {
  ASSERT_TRUE(etcd_->Freeze().ok());
  absl::Status s = etcd_->Stop();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(etcd_->pid(), 0);
  EXPECT_TRUE(etcd_->Stop().ok());
}

TEST_F(PrivateEtcdTest, StopReportsACrashAndRestartRecovers) {
  MustEtcdctl(*etcd_, {"put", "/k", "before-crash"});
  const pid_t pid = etcd_->pid();
  ASSERT_EQ(kill(pid, SIGKILL), 0);  // Behind the fixture's back.
  ASSERT_TRUE(
      PollUntil([&] { return !etcd_->Running(); }, absl::Now() + kWait).ok());
  absl::Status s = etcd_->Stop();
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted) << s;
  EXPECT_THAT(s.message(), HasSubstr("signal 9"));
  s = etcd_->Restart();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(GetValue(*etcd_, "/k"), "before-crash\n");
}

TEST_F(PrivateEtcdTest, CompactDropsOldRevisions) {
  MustEtcdctl(*etcd_, {"put", "/c", "v1"});
  absl::StatusOr<int64_t> rev1 = etcd_->CurrentRevision();
  ASSERT_TRUE(rev1.ok()) << rev1.status();
  MustEtcdctl(*etcd_, {"put", "/c", "v2"});
  absl::StatusOr<int64_t> rev2 = etcd_->CurrentRevision();
  ASSERT_TRUE(rev2.ok()) << rev2.status();
  ASSERT_EQ(*rev2, *rev1 + 1);
  EXPECT_EQ(MustEtcdctl(*etcd_, {"get", "/c", "--print-value-only",
                                 absl::StrCat("--rev=", *rev1)}),
            "v1\n");

  absl::Status s = etcd_->Compact(*rev2);
  ASSERT_TRUE(s.ok()) << s;
  absl::StatusOr<CommandResult> old =
      etcd_->Etcdctl({"get", "/c", absl::StrCat("--rev=", *rev1)});
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_FALSE(old->Succeeded());
  EXPECT_THAT(old->err, HasSubstr("compacted"));
  EXPECT_EQ(MustEtcdctl(*etcd_, {"get", "/c", "--print-value-only",
                                 absl::StrCat("--rev=", *rev2)}),
            "v2\n");
  EXPECT_EQ(etcd_->Compact(*rev1).code(), absl::StatusCode::kOutOfRange);
}

TEST_F(PrivateEtcdTest, EnableAuthAndAddUserConfineUsersToTheirPrefix) {
  absl::Status s = etcd_->EnableAuth("root-secret");
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(etcd_->auth_enabled());
  // Root (used implicitly by Etcdctl) can write anywhere...
  MustEtcdctl(*etcd_, {"put", "/anywhere", "root"});
  // ...anonymous clients can do nothing.
  absl::StatusOr<CommandResult> anonymous =
      etcd_->EtcdctlAs("", "", {"put", "/anywhere", "anon"});
  ASSERT_TRUE(anonymous.ok()) << anonymous.status();
  EXPECT_FALSE(anonymous->Succeeded());

  s = etcd_->AddUser("alice", "alice-secret", "/alice/");
  ASSERT_TRUE(s.ok()) << s;
  absl::StatusOr<CommandResult> inside =
      etcd_->EtcdctlAs("alice", "alice-secret", {"put", "/alice/x", "1"});
  ASSERT_TRUE(inside.ok()) << inside.status();
  EXPECT_TRUE(inside->Succeeded()) << inside->DebugString();
  EXPECT_EQ(GetValue(*etcd_, "/alice/x"), "1\n");

  absl::StatusOr<CommandResult> outside =
      etcd_->EtcdctlAs("alice", "alice-secret", {"put", "/bob/x", "1"});
  ASSERT_TRUE(outside.ok()) << outside.status();
  EXPECT_FALSE(outside->Succeeded());
  EXPECT_THAT(outside->err, HasSubstr("permission denied"));
  EXPECT_EQ(GetValue(*etcd_, "/bob/x"), "");

  absl::StatusOr<CommandResult> wrong_password =
      etcd_->EtcdctlAs("alice", "guess", {"get", "/alice/x"});
  ASSERT_TRUE(wrong_password.ok()) << wrong_password.status();
  EXPECT_FALSE(wrong_password->Succeeded());
  EXPECT_THAT(wrong_password->err, HasSubstr("authentication failed"));

  EXPECT_EQ(etcd_->AddUser("alice", "again", "/alice/").code(),
            absl::StatusCode::kAlreadyExists);
  // Health checks keep working with auth on, so Restart does too.
  s = etcd_->Restart();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(GetValue(*etcd_, "/alice/x"), "1\n");
}

TEST(EtcdServerStartTest, ReportsAnEtcdThatCannotStart) {
  EtcdServerOptions options;
  options.max_start_attempts = 2;
  options.extra_flags = {"--no-such-flag-for-etcd"};
  absl::StatusOr<std::unique_ptr<EtcdServer>> etcd = EtcdServer::Start(options);
  ASSERT_FALSE(etcd.ok());
  EXPECT_EQ(etcd.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(etcd.status().message(), HasSubstr("after 2 attempts"));
  EXPECT_THAT(etcd.status().message(), HasSubstr("no-such-flag-for-etcd"));
}

TEST(EtcdServerStartTest, DestructorRemovesTheDataDirectory) {
  std::string data_dir;
  pid_t pid = 0;
  {
    std::unique_ptr<EtcdServer> etcd = StartServer();
    ASSERT_NE(etcd, nullptr);
    data_dir = etcd->data_dir();
    pid = etcd->pid();
    EXPECT_TRUE(ReadFile(etcd->log_path()).ok());
  }
  EXPECT_NE(access(data_dir.c_str(), F_OK), 0);
  EXPECT_NE(kill(pid, 0), 0) << "etcd " << pid << " outlived its fixture";
}

TEST(EtcdServerStartTest, KeepLogCopiesTheLogToUndeclaredOutputs) {
  const char* outputs = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  if (outputs == nullptr || outputs[0] == '\0') {
    GTEST_SKIP() << "TEST_UNDECLARED_OUTPUTS_DIR is not set";
  }
  EtcdServerOptions options;
  options.keep_log = true;
  std::unique_ptr<EtcdServer> etcd = StartServer(options);
  ASSERT_NE(etcd, nullptr);
  const std::string prefix = absl::StrCat(
      outputs,
      "/etcd-EtcdServerStartTest.KeepLogCopiesTheLogToUndeclaredOutputs-",
      getpid(), "-");
  etcd.reset();
  std::string copy;
  for (int i = 0; i < 100 && copy.empty(); ++i) {
    if (ReadFile(absl::StrCat(prefix, i, ".log")).ok()) {
      copy = absl::StrCat(prefix, i, ".log");
    }
  }
  ASSERT_FALSE(copy.empty()) << "no log copy named " << prefix << "<n>.log";
  EXPECT_THAT(ReadFile(copy).value_or(""), HasSubstr("became leader"));
}

// Makes a directory that looks like a scratch root of another test binary,
// last modified `age` ago; returns its path.
std::string MakeFakeRoot(const std::string& parent, const std::string& name,
                         absl::Duration age) {
  const std::string path = absl::StrCat(parent, "/conch-etcd-", name);
  EXPECT_EQ(mkdir(path.c_str(), 0700), 0) << path;
  EXPECT_TRUE(WriteFile(path + "/.owner.lock", "").ok());
  const timespec times[2] = {absl::ToTimespec(absl::Now() - age),
                             absl::ToTimespec(absl::Now() - age)};
  EXPECT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  return path;
}

TEST(EtcdServerStartTest, StartSweepsScratchDirectoriesOfDeadBinaries) {
  std::unique_ptr<EtcdServer> first = StartServer();
  ASSERT_NE(first, nullptr);
  // data_dir is <parent>/conch-etcd-XXXXXX/data.
  std::string parent = first->data_dir();
  parent = parent.substr(0, parent.rfind('/'));
  parent = parent.substr(0, parent.rfind('/'));
  const std::string tag =
      absl::StrCat(getpid(), "-", absl::ToUnixNanos(absl::Now()));
  const std::string dead =
      MakeFakeRoot(parent, tag + "-dead", absl::Minutes(5));
  const std::string young =
      MakeFakeRoot(parent, tag + "-young", absl::ZeroDuration());
  const std::string locked =
      MakeFakeRoot(parent, tag + "-locked", absl::Minutes(5));
  const int lock_fd = open((locked + "/.owner.lock").c_str(), O_RDWR);
  ASSERT_GE(lock_fd, 0);
  ASSERT_EQ(flock(lock_fd, LOCK_EX | LOCK_NB), 0);

  std::unique_ptr<EtcdServer> second = StartServer();
  ASSERT_NE(second, nullptr);
  EXPECT_NE(access(dead.c_str(), F_OK), 0) << dead << " was not swept";
  EXPECT_EQ(access(young.c_str(), F_OK), 0) << "swept a fresh directory";
  EXPECT_EQ(access(locked.c_str(), F_OK), 0) << "swept a live directory";
  EXPECT_EQ(access(first->data_dir().c_str(), F_OK), 0);
  close(lock_fd);
  EXPECT_TRUE(RemoveTree(young).ok());
  EXPECT_TRUE(RemoveTree(locked).ok());
}

// --- TLS. ---

class TlsEtcdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EtcdServerOptions options;
    options.tls = true;
    etcd_ = StartServer(options);
    ASSERT_NE(etcd_, nullptr);
  }

  // etcdctl against the server with only the given TLS flags.
  CommandResult RawEtcdctl(std::vector<std::string> tls_flags) {
    std::vector<std::string> argv = {
        "etcdctl", "--endpoints=" + etcd_->client_url(), "--dial-timeout=1s",
        "--command-timeout=1s"};
    argv.insert(argv.end(), tls_flags.begin(), tls_flags.end());
    argv.insert(argv.end(), {"get", "/secure"});
    absl::StatusOr<CommandResult> r =
        RunCommand(argv, absl::Seconds(30), {{"ETCDCTL_API", "3"}});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.value_or(CommandResult{});
  }

  std::unique_ptr<EtcdServer> etcd_;
};

TEST_F(TlsEtcdTest, AcceptsTheClientCertificate) {
  EXPECT_THAT(etcd_->client_url(), StartsWith("https://127.0.0.1:"));
  EXPECT_FALSE(etcd_->ca_file().empty());
  MustEtcdctl(*etcd_, {"put", "/secure", "yes"});
  EXPECT_EQ(GetValue(*etcd_, "/secure"), "yes\n");
  // The metrics listener stays plain HTTP.
  absl::StatusOr<double> events =
      etcd_->MetricValue("etcd_debugging_mvcc_events_total");
  EXPECT_TRUE(events.ok()) << events.status();
}

TEST_F(TlsEtcdTest, RejectsClientsWithoutATrustedCertificate) {
  MustEtcdctl(*etcd_, {"put", "/secure", "yes"});
  CommandResult no_cert = RawEtcdctl({"--cacert=" + etcd_->ca_file()});
  EXPECT_FALSE(no_cert.Succeeded()) << no_cert.DebugString();
  EXPECT_THAT(no_cert.out, Not(HasSubstr("yes")));

  CommandResult untrusted =
      RawEtcdctl({"--cacert=" + etcd_->ca_file(),
                  "--cert=" + etcd_->untrusted_client_cert_file(),
                  "--key=" + etcd_->untrusted_client_key_file()});
  EXPECT_FALSE(untrusted.Succeeded()) << untrusted.DebugString();

  CommandResult plaintext = RawEtcdctl({});
  EXPECT_FALSE(plaintext.Succeeded()) << plaintext.DebugString();

  CommandResult trusted = RawEtcdctl({"--cacert=" + etcd_->ca_file(),
                                      "--cert=" + etcd_->client_cert_file(),
                                      "--key=" + etcd_->client_key_file()});
  EXPECT_TRUE(trusted.Succeeded()) << trusted.DebugString();

  // The server itself says why it refused.
  absl::Status s = PollUntil(
      [&] {
        absl::StatusOr<std::string> log = ReadFile(etcd_->log_path());
        return log.ok() &&
               absl::StrContains(*log, "client didn't provide a certificate");
      },
      absl::Now() + kWait);
  EXPECT_TRUE(s.ok()) << s;
}

}  // namespace
}  // namespace conch::test
