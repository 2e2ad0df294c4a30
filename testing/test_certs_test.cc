#include "testing/test_certs.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/files.h"
#include "testing/subprocess.h"

namespace conch::test {
namespace {

using ::testing::HasSubstr;

CommandResult Openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  absl::StatusOr<CommandResult> r = RunCommand(args, absl::Seconds(30));
  EXPECT_TRUE(r.ok()) << r.status();
  return r.value_or(CommandResult{});
}

class TestCertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> dir = MakeTempDir("certs-test-");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *dir;
    absl::StatusOr<TestCerts> certs = MakeTestCerts(dir_);
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = *certs;
  }
  void TearDown() override { EXPECT_TRUE(RemoveTree(dir_).ok()); }

  std::string dir_;
  TestCerts certs_;
};

TEST_F(TestCertsTest, TrustedCertificatesVerifyAgainstTheCa) {
  CommandResult r = Openssl({"verify", "-CAfile", certs_.ca_file,
                             certs_.server_cert_file, certs_.client_cert_file});
  EXPECT_TRUE(r.Succeeded()) << r.DebugString();
  // Purpose checks: the server cert serves TLS, the client cert authenticates.
  r = Openssl({"verify", "-CAfile", certs_.ca_file, "-purpose", "sslserver",
               certs_.server_cert_file});
  EXPECT_TRUE(r.Succeeded()) << r.DebugString();
  r = Openssl({"verify", "-CAfile", certs_.ca_file, "-purpose", "sslclient",
               certs_.client_cert_file});
  EXPECT_TRUE(r.Succeeded()) << r.DebugString();
}

TEST_F(TestCertsTest, UntrustedClientCertificateDoesNotVerify) {
  CommandResult r = Openssl(
      {"verify", "-CAfile", certs_.ca_file, certs_.untrusted_client_cert_file});
  EXPECT_FALSE(r.Succeeded()) << r.DebugString();
}

TEST_F(TestCertsTest, ServerCertificateNamesLoopback) {
  CommandResult r = Openssl({"x509", "-in", certs_.server_cert_file, "-noout",
                             "-ext", "subjectAltName"});
  ASSERT_TRUE(r.Succeeded()) << r.DebugString();
  EXPECT_THAT(r.out, HasSubstr("IP Address:127.0.0.1"));
  EXPECT_THAT(r.out, HasSubstr("DNS:localhost"));
}

TEST_F(TestCertsTest, KeysMatchCertificates) {
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {certs_.server_cert_file, certs_.server_key_file},
      {certs_.client_cert_file, certs_.client_key_file},
      {certs_.untrusted_client_cert_file, certs_.untrusted_client_key_file},
  };
  for (const auto& [cert, key] : pairs) {
    CommandResult from_cert =
        Openssl({"x509", "-in", cert, "-noout", "-pubkey"});
    CommandResult from_key = Openssl({"pkey", "-in", key, "-pubout"});
    ASSERT_TRUE(from_cert.Succeeded()) << from_cert.DebugString();
    ASSERT_TRUE(from_key.Succeeded()) << from_key.DebugString();
    EXPECT_EQ(from_cert.out, from_key.out) << cert;
    EXPECT_THAT(from_key.out, HasSubstr("BEGIN PUBLIC KEY"));
  }
}

TEST_F(TestCertsTest, ValidForOneDay) {
  CommandResult r =
      Openssl({"x509", "-in", certs_.ca_file, "-noout", "-checkend", "3600"});
  EXPECT_TRUE(r.Succeeded()) << "expires within the hour: " << r.DebugString();
  r = Openssl({"x509", "-in", certs_.ca_file, "-noout", "-checkend", "172800"});
  EXPECT_FALSE(r.Succeeded()) << "valid for more than two days";
}

}  // namespace
}  // namespace conch::test
