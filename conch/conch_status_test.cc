// End-to-end tests of the conch binary: common flags, environment
// fallbacks, `conch status` and the documented exit codes, against real
// etcd servers (plain, and TLS with auth).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/etcd_env.h"
#include "testing/subprocess.h"

namespace conch {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// The binary, from the test's runfiles (the working directory).
constexpr char kConch[] = "conch/conch";

test::CommandResult Conch(std::vector<std::string> args,
                          std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), kConch);
  absl::StatusOr<test::CommandResult> r =
      test::RunCommand(args, absl::Seconds(30), std::move(env));
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : test::CommandResult{};
}

TEST(ConchCliTest, VersionAndHelpExitZero) {
  test::CommandResult v = Conch({"--version"});
  EXPECT_EQ(v.exit_code, 0) << v.DebugString();
  EXPECT_THAT(v.out, HasSubstr("conch 0.1.0"));
  test::CommandResult h = Conch({"--help"});
  EXPECT_EQ(h.exit_code, 0) << h.DebugString();
  EXPECT_THAT(h.out, AllOf(HasSubstr("status"), HasSubstr("--endpoints"),
                           HasSubstr("--kill-after")));
}

TEST(ConchCliTest, StatusAgainstRealEtcd) {
  test::CommandResult r =
      Conch({"status", "--endpoints", test::SharedEtcd().endpoint()});
  ASSERT_EQ(r.exit_code, 0) << r.DebugString();
  EXPECT_THAT(r.out, HasSubstr("version:   3.4.23"));
  EXPECT_THAT(r.out, HasSubstr("revision:"));
  EXPECT_THAT(r.out, HasSubstr("leader:"));
  EXPECT_EQ(r.err, "");  // diagnostics only when something is wrong
}

TEST(ConchCliTest, StatusJsonIsOneObject) {
  test::CommandResult r = Conch(
      {"status", "--json", "--endpoints", test::SharedEtcd().client_url()});
  ASSERT_EQ(r.exit_code, 0) << r.DebugString();
  EXPECT_THAT(r.out, AllOf(testing::StartsWith("{"),
                           HasSubstr("\"version\":\"3.4.23\""),
                           HasSubstr("\"revision\":")));
}

// -o json and -w json (etcdctl's spelling) are --json; the table formats
// leave status's `key: value` lines as they are.
TEST(ConchCliTest, StatusOutputFormats) {
  const std::string ep = test::SharedEtcd().endpoint();
  test::CommandResult json = Conch({"status", "--json", "--endpoints", ep});
  ASSERT_EQ(json.exit_code, 0) << json.DebugString();
  EXPECT_THAT(json.out, testing::StartsWith("{\"endpoint\":"));
  for (const char* flag : {"-o", "-w", "--output", "--write-out"}) {
    test::CommandResult r = Conch({"status", flag, "json", "--endpoints", ep});
    EXPECT_EQ(r.exit_code, 0) << r.DebugString();
    EXPECT_EQ(r.out, json.out) << flag;  // nothing writes meanwhile
    EXPECT_EQ(r.err, "");
  }
  test::CommandResult text = Conch({"status", "--endpoints", ep});
  ASSERT_EQ(text.exit_code, 0) << text.DebugString();
  for (const char* format : {"wide", "table", "tsv"}) {
    test::CommandResult r = Conch({"status", "-o", format, "--endpoints", ep});
    EXPECT_EQ(r.exit_code, 0) << r.DebugString();
    EXPECT_EQ(r.out, text.out) << format;
    EXPECT_EQ(r.err, "");
  }
}

TEST(ConchCliTest, EndpointsComeFromTheEnvironment) {
  test::CommandResult r =
      Conch({"status"}, {{"CONCH_ENDPOINTS", test::SharedEtcd().endpoint()}});
  EXPECT_EQ(r.exit_code, 0) << r.DebugString();
  // A flag beats the environment.
  test::CommandResult flag =
      Conch({"status", "--endpoints", test::SharedEtcd().endpoint()},
            {{"CONCH_ENDPOINTS", "127.0.0.1:1"}});
  EXPECT_EQ(flag.exit_code, 0) << flag.DebugString();
}

TEST(ConchCliTest, UnreachableEtcdExits69) {
  test::CommandResult r = Conch(
      {"status", "--endpoints", "127.0.0.1:1", "--dial-timeout", "300ms"});
  EXPECT_EQ(r.exit_code, 69) << r.DebugString();
  EXPECT_THAT(r.err, HasSubstr("etcd unreachable"));
  EXPECT_EQ(r.out, "");
}

TEST(ConchCliTest, BadFlagsExit64WithOneLine) {
  const std::vector<std::vector<std::string>> cases = {
      {"status", "--endpoints", "nohost"},
      {"status", "--ttl", "10"},
      {"status", "--ttl", "500ms"},
      {"status", "--kill-after", "-1s"},
      {"status", "--dial-timeout", "soon"},
      {"status", "--prefix", "/no-slash"},
      {"status", "--log-level", "loud"},
      {"status", "--cert", "/tmp/c.pem"},
      {"status", "--no-such-flag"},
      {"no-such-command"},
      {},
  };
  for (const auto& args : cases) {
    test::CommandResult r = Conch(args);
    EXPECT_EQ(r.exit_code, 64) << r.DebugString();
    EXPECT_THAT(r.err, HasSubstr("conch: ")) << r.DebugString();
    // One line naming the problem.
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1)
        << r.DebugString();
  }
}

TEST(ConchCliTest, UserWithoutPasswordNeedsTheEnvironment) {
  test::CommandResult r =
      Conch({"status", "--user", "alice", "--endpoints", "127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 64) << r.DebugString();
  EXPECT_THAT(r.err, HasSubstr("CONCH_PASSWORD"));
}

class ConchSecureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<test::EtcdServer>> etcd =
        test::StartSecureEtcd();
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    server_ = *std::move(etcd);
  }
  static void TearDownTestSuite() { server_.reset(); }

  std::vector<std::string> Tls() {
    return {"--endpoints", server_->client_url(),
            "--cacert",    server_->ca_file(),
            "--cert",      server_->client_cert_file(),
            "--key",       server_->client_key_file()};
  }

  static inline std::unique_ptr<test::EtcdServer> server_;  // the suite's
};

TEST_F(ConchSecureTest, TlsAndAuthWork) {
  std::vector<std::string> args = {"status", "--user", "alice:alicepw"};
  for (std::string& a : Tls()) args.push_back(a);
  test::CommandResult r = Conch(args);
  EXPECT_EQ(r.exit_code, 0) << r.DebugString();
  EXPECT_THAT(r.out, HasSubstr("3.4.23"));
  // alice's role reads her own prefix only: conch's part says so, and the
  // rest of the answer stands.
  EXPECT_THAT(r.out,
              HasSubstr("prefix:    /conch/\nconch:     not readable ("));
}

TEST_F(ConchSecureTest, PasswordFromTheEnvironment) {
  std::vector<std::string> args = {"status"};
  for (std::string& a : Tls()) args.push_back(a);
  test::CommandResult r =
      Conch(args, {{"CONCH_USER", "alice"}, {"CONCH_PASSWORD", "alicepw"}});
  EXPECT_EQ(r.exit_code, 0) << r.DebugString();
}

TEST_F(ConchSecureTest, WrongPasswordExits77WithoutPrintingIt) {
  std::vector<std::string> args = {"status", "--user", "alice:hunter2-wrong",
                                   "-v", "-v"};
  for (std::string& a : Tls()) args.push_back(a);
  test::CommandResult r = Conch(args);
  EXPECT_EQ(r.exit_code, 77) << r.DebugString();
  EXPECT_THAT(r.err, HasSubstr("alice"));
  EXPECT_THAT(r.err + r.out, Not(HasSubstr("hunter2-wrong")));
}

TEST_F(ConchSecureTest, MissingCaFileExits64) {
  test::CommandResult r = Conch({"status", "--endpoints", server_->client_url(),
                                 "--cacert", "/nonexistent/ca.pem"});
  EXPECT_EQ(r.exit_code, 64) << r.DebugString();
  EXPECT_THAT(r.err, HasSubstr("--cacert"));
}

}  // namespace
}  // namespace conch
