// ReadPemFile: bad TLS files are refused at once with one line naming the
// flag, the file and the problem, before anything is dialled.
#include "core/etcd/pem_file.h"

#include <sys/stat.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/files.h"

namespace conch::etcd {
namespace {

using ::testing::HasSubstr;

// Structurally valid blocks (the bodies are base64, not real DER: the
// check is structural).
constexpr char kCert[] =
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\nAAAA\n"
    "-----END CERTIFICATE-----\n";
constexpr char kKey[] =
    "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n"
    "-----END PRIVATE KEY-----\n";

class PemFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> dir = test::MakeTempDir("pem-");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *dir;
  }
  void TearDown() override { test::RemoveTree(dir_).IgnoreError(); }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = absl::StrCat(dir_, "/", name);
    EXPECT_TRUE(test::WriteFile(path, text).ok());
    return path;
  }

  std::string Error(const std::string& flag, const std::string& path,
                    PemKind kind) {
    absl::StatusOr<std::string> r = ReadPemFile(flag, path, kind);
    EXPECT_FALSE(r.ok()) << path;
    if (r.ok()) return "";
    EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
    const std::string message(r.status().message());
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    return message;
  }

  std::string dir_;
};

TEST_F(PemFileTest, ReadsCertificatesAndKeys) {
  absl::StatusOr<std::string> ca =
      ReadPemFile("--cacert", Write("ca.pem", absl::StrCat(kCert, kCert)),
                  PemKind::kCertificates);
  ASSERT_TRUE(ca.ok()) << ca.status();
  EXPECT_EQ(*ca, absl::StrCat(kCert, kCert));
  EXPECT_TRUE(
      ReadPemFile("--key", Write("k.pem", kKey), PemKind::kPrivateKey).ok());
  // RSA and EC keys, and CRLF line ends.
  EXPECT_TRUE(ReadPemFile("--key",
                          Write("rsa.pem",
                                "-----BEGIN RSA PRIVATE KEY-----\r\nAAAA\r\n"
                                "-----END RSA PRIVATE KEY-----\r\n"),
                          PemKind::kPrivateKey)
                  .ok());
}

TEST_F(PemFileTest, DevicesDirectoriesAndFifosAreNotRead) {
  // /dev/zero once grew to 1.5 GB; /dev/null and a directory gave 69.
  for (const char* path : {"/dev/zero", "/dev/null"}) {
    EXPECT_THAT(Error("--cacert", path, PemKind::kCertificates),
                HasSubstr("is not a regular file"));
  }
  EXPECT_THAT(Error("--cacert", dir_, PemKind::kCertificates),
              HasSubstr("is not a regular file"));
  const std::string fifo = absl::StrCat(dir_, "/fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THAT(Error("--cacert", fifo, PemKind::kCertificates),
              HasSubstr("is not a regular file"));
  EXPECT_THAT(
      Error("--cacert", absl::StrCat(dir_, "/none"), PemKind::kCertificates),
      HasSubstr("cannot be read: No such file"));
}

TEST_F(PemFileTest, NonPemAndSwappedFilesNameTheProblem) {
  EXPECT_EQ(Error("--cacert", Write("text", "hello\n"), PemKind::kCertificates),
            absl::StrCat("--cacert file \"", dir_,
                         "/text\" holds no PEM CERTIFICATE block"));
  EXPECT_THAT(
      Error("--key", Write("cert-as-key.pem", kCert), PemKind::kPrivateKey),
      HasSubstr("holds no PRIVATE KEY block (it holds a CERTIFICATE: "
                "swapped with --cert?)"));
  EXPECT_THAT(
      Error("--cert", Write("key-as-cert.pem", kKey), PemKind::kCertificates),
      HasSubstr("swapped with --key?"));
  EXPECT_THAT(Error("--cacert",
                    Write("broken.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n"),
                    PemKind::kCertificates),
              HasSubstr("is not valid PEM"));
  EXPECT_THAT(Error("--cacert",
                    Write("notb64.pem",
                          "-----BEGIN CERTIFICATE-----\n!!!!\n"
                          "-----END CERTIFICATE-----\n"),
                    PemKind::kCertificates),
              HasSubstr("is not valid PEM"));
}

TEST_F(PemFileTest, TooLargeFilesAreRefusedWithoutReadingThem) {
  EXPECT_THAT(
      Error("--cacert", Write("big.pem", std::string(kMaxPemBytes + 1, 'A')),
            PemKind::kCertificates),
      HasSubstr("is too large"));
}

}  // namespace
}  // namespace conch::etcd
