// Integration tests of Connection against real etcd servers: dialing,
// failover between endpoints, TLS with client certificates, and etcd auth
// (including re-authentication when the token expires).
#include "core/etcd/connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/etcd/kv.h"
#include "core/etcd/maintenance.h"
#include "core/etcd/test_dial.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/etcd_env.h"
#include "testing/files.h"
#include "testing/poll.h"
#include "testing/subprocess.h"

namespace conch::etcd {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Endpoint MustParse(const std::string& text) {
  absl::StatusOr<Endpoint> ep = ParseEndpoint(text);
  EXPECT_TRUE(ep.ok()) << ep.status();
  return *ep;
}

TEST(ConnectionTest, StatusReportsVersionRevisionAndLeader) {
  absl::StatusOr<std::unique_ptr<Connection>> conn =
      DialTestServer(test::SharedEtcd());
  ASSERT_TRUE(conn.ok()) << conn.status();
  absl::StatusOr<MemberStatus> s = Maintenance(conn->get()).Status(Soon());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->version, "3.4.23");
  EXPECT_GT(s->revision, 0);
  EXPECT_NE(s->member_id, 0u);
  EXPECT_EQ(s->leader, s->member_id);  // single node: it leads
  EXPECT_GT(s->raft_term, 0u);
  EXPECT_EQ(s->endpoint, test::SharedEtcd().client_url());
}

TEST(ConnectionTest, UnreachableEndpointsFailAfterTheDialTimeout) {
  ConnectionOptions o;
  o.endpoints = {MustParse("127.0.0.1:1"), MustParse("unix:///nonexistent")};
  o.dial_timeout = absl::Milliseconds(500);
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Dial(o);
  const absl::Duration took = absl::Now() - start;
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(conn.status().message(), HasSubstr("127.0.0.1:1"));
  EXPECT_GE(took, absl::Milliseconds(500));
  EXPECT_LT(took, absl::Seconds(2));
}

TEST(ConnectionTest, DialSkipsADeadEndpoint) {
  ConnectionOptions o;
  o.endpoints = {MustParse("127.0.0.1:1"),
                 MustParse(test::SharedEtcd().client_url())};
  o.dial_timeout = absl::Seconds(5);
  absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Dial(o);
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ((*conn)->current_endpoint().original,
            test::SharedEtcd().client_url());
  EXPECT_TRUE(Kv(conn->get()).Get("/x", {}, Soon()).ok());
}

TEST(ConnectionTest, ReadsMoveToTheNextEndpointWhenTheCurrentOneDies) {
  absl::StatusOr<std::unique_ptr<test::EtcdServer>> a =
      test::EtcdServer::Start();
  ASSERT_TRUE(a.ok()) << a.status();
  ConnectionOptions o;
  o.endpoints = {MustParse((*a)->client_url()),
                 MustParse(test::SharedEtcd().client_url())};
  absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Dial(o);
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_EQ((*conn)->current_endpoint().original, (*a)->client_url());

  ASSERT_TRUE((*a)->Kill().ok());
  absl::StatusOr<MemberStatus> s = Maintenance(conn->get()).Status(Soon());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->endpoint, test::SharedEtcd().client_url());
  EXPECT_EQ((*conn)->current_endpoint().original,
            test::SharedEtcd().client_url());
}

// A free loopback TCP port (bound and released; etcd binds it right after).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<struct sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(ConnectionTest, UnixSocketEndpoint) {
  // etcd 3.4 names a unix listener after the URL's host:port, in its
  // working directory: unix://localhost:N is the file "<cwd>/localhost:N".
  // A short path: unix socket paths are limited to 107 bytes.
  absl::StatusOr<std::string> dir =
      test::MakeTempDir("conch-unix", /*prefer_shm=*/true);
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string sock = absl::StrCat("localhost:", FreePort());
  const std::string peer = absl::StrCat("http://127.0.0.1:", FreePort());
  test::SubprocessOptions o;
  o.argv = {"sh", "-c",
            absl::StrCat("cd ", *dir, " && exec etcd --data-dir ", *dir,
                         "/data --listen-client-urls unix://", sock,
                         " --advertise-client-urls unix://", sock,
                         " --listen-peer-urls ", peer,
                         " --initial-advertise-peer-urls ", peer,
                         " --initial-cluster default=", peer,
                         " --heartbeat-interval 20 --election-timeout 200")};
  o.stdout_path = *dir + "/etcd.log";
  o.stderr_path = *dir + "/etcd.log";
  absl::StatusOr<std::unique_ptr<test::Subprocess>> etcd =
      test::Subprocess::Start(o);
  ASSERT_TRUE(etcd.ok()) << etcd.status();

  ConnectionOptions c;
  c.endpoints = {MustParse(absl::StrCat("unix://", *dir, "/", sock))};
  c.dial_timeout = absl::Seconds(20);
  absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Dial(c);
  ASSERT_TRUE(conn.ok()) << conn.status() << "\n"
                         << test::ReadFile(*dir + "/etcd.log").value_or("");
  // Right after start etcd may still be electing itself.
  absl::StatusOr<MemberStatus> s = absl::UnavailableError("not asked yet");
  test::PollUntilOk(
      [&] {
        s = Maintenance(conn->get()).Status(Soon());
        return s.status();
      },
      absl::Now() + absl::Seconds(20))
      .IgnoreError();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->version, "3.4.23");
  conn->reset();
  etcd->reset();
  test::RemoveTree(*dir).IgnoreError();
}

TEST(ConnectionTest, BadTlsFilesAreInvalidArgument) {
  ConnectionOptions o;
  o.endpoints = {MustParse("https://127.0.0.1:2379")};
  o.ca_file = "/nonexistent/ca.pem";
  absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Dial(o);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(conn.status().message(), HasSubstr("--cacert"));

  o.ca_file.clear();
  o.cert_file = "/tmp/cert.pem";
  conn = Connection::Dial(o);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kInvalidArgument);
}

class SecureEtcdTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Simple tokens expire after 2 s idle: exercises re-authentication.
    absl::StatusOr<std::unique_ptr<test::EtcdServer>> etcd =
        test::StartSecureEtcd({"--auth-token-ttl=2"});
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    server_ = *std::move(etcd);
  }
  static void TearDownTestSuite() { server_.reset(); }

  absl::StatusOr<std::unique_ptr<Connection>> DialAs(
      const std::string& user, const std::string& password) {
    ConnectionOptions o;
    o.user = user;
    o.password = password;
    o.dial_timeout = absl::Seconds(5);
    return DialTestServer(*server_, o);
  }

  static inline std::unique_ptr<test::EtcdServer> server_;  // the suite's
};

TEST_F(SecureEtcdTest, ClientCertificateAndAuthWorkTogether) {
  absl::StatusOr<std::unique_ptr<Connection>> conn = DialAs("alice", "alicepw");
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ((*conn)->authentications(), 1);
  Kv kv(conn->get());
  ASSERT_TRUE(kv.Put("/conch/a/k", "v", {}, Soon()).ok());
  absl::StatusOr<GetResult> get = kv.Get("/conch/a/k", {}, Soon());
  ASSERT_TRUE(get.ok()) << get.status();
  ASSERT_EQ(get->kvs.size(), 1u);
  EXPECT_EQ(get->kvs[0].value, "v");
}

TEST_F(SecureEtcdTest, KeysOutsideTheRoleArePermissionDenied) {
  absl::StatusOr<std::unique_ptr<Connection>> conn = DialAs("alice", "alicepw");
  ASSERT_TRUE(conn.ok()) << conn.status();
  absl::StatusOr<PutResult> put =
      Kv(conn->get()).Put("/conch/b/k", "v", {}, Soon());
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(SecureEtcdTest, WrongPasswordIsUnauthenticatedAndNotEchoed) {
  absl::StatusOr<std::unique_ptr<Connection>> conn =
      DialAs("alice", "s3cret-wrong");
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(conn.status().message(), HasSubstr("alice"));
  EXPECT_THAT(conn.status().message(), Not(HasSubstr("s3cret-wrong")));
}

TEST_F(SecureEtcdTest, NoCredentialsIsRefused) {
  absl::StatusOr<std::unique_ptr<Connection>> conn = DialAs("", "");
  ASSERT_TRUE(conn.ok()) << conn.status();  // TLS alone connects
  absl::StatusOr<GetResult> get = Kv(conn->get()).Get("/conch/a/k", {}, Soon());
  ASSERT_FALSE(get.ok());
  EXPECT_TRUE(get.status().code() == absl::StatusCode::kPermissionDenied ||
              get.status().code() == absl::StatusCode::kUnauthenticated)
      << get.status();
}

TEST_F(SecureEtcdTest, ExpiredTokenIsRenewedOnce) {
  absl::StatusOr<std::unique_ptr<Connection>> conn = DialAs("alice", "alicepw");
  ASSERT_TRUE(conn.ok()) << conn.status();
  Kv kv(conn->get());
  ASSERT_TRUE(kv.Put("/conch/a/t", "1", {}, Soon()).ok());
  ASSERT_EQ((*conn)->authentications(), 1);
  // The stimulus, not a synchronization: stay idle past the token's TTL
  // (2 s, checked by etcd every second) so that etcd forgets the token.
  absl::SleepFor(absl::Seconds(4));
  // The next call is refused as "invalid auth token", re-authenticates once
  // and succeeds.
  absl::StatusOr<GetResult> get = kv.Get("/conch/a/t", {}, Soon());
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->kvs.size(), 1u);
  EXPECT_EQ((*conn)->authentications(), 2);
}

TEST_F(SecureEtcdTest, UntrustedClientCertificateCannotConnect) {
  ConnectionOptions o;
  o.endpoints = {MustParse(server_->client_url())};
  o.ca_file = server_->ca_file();
  o.cert_file = server_->untrusted_client_cert_file();
  o.key_file = server_->untrusted_client_key_file();
  o.user = "alice";
  o.password = "alicepw";
  o.dial_timeout = absl::Seconds(1);
  absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Dial(o);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable)
      << conn.status();
}

}  // namespace
}  // namespace conch::etcd
