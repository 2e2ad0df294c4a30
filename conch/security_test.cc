// Security end to end (issue 7): etcd with TLS that requires client
// certificates, and auth with two users whose roles cover only /conch/a/
// (alice) and /conch/b/ (bob). conch with --prefix /conch/a/ works for alice
// in every mode (elect, sema, cron, conchd); against bob's prefix it exits
// 77 with a message naming the refusal; a wrong password exits 77; and no
// password ever appears in logs, --who or --json output.
#include <signal.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "conch/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/etcd_server.h"
#include "testing/poll.h"
#include "testing/subprocess.h"

namespace conch {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAlicePw[] = "alice-Secret-pw1";
constexpr char kBobPw[] = "bob-Secret-pw2";

class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<test::EtcdServer>> etcd =
        test::StartSecureEtcd();
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    server_ = *std::move(etcd);
    // StartSecureEtcd made alice with "alicepw"; these tests use their own
    // passwords so that a leak is unmistakable.
    ASSERT_TRUE(server_->AddUser("alice2", kAlicePw, "/conch/a/").ok());
    ASSERT_TRUE(server_->AddUser("bob", kBobPw, "/conch/b/").ok());
  }
  static void TearDownTestSuite() { server_.reset(); }

  // Runs conch with TLS, as `user` with `password`, on `prefix`. The
  // password comes through CONCH_PASSWORD, as an operator would pass it.
  test::CommandResult Run(std::vector<std::string> args,
                          const std::string& user, const std::string& password,
                          const std::string& prefix) {
    std::vector<std::string> argv = {kConchBinary};
    auto dashdash = std::find(args.begin(), args.end(), "--");
    argv.insert(argv.end(), args.begin(), dashdash);
    for (const std::string& f : Common(prefix)) argv.push_back(f);
    argv.insert(argv.end(), dashdash, args.end());
    absl::StatusOr<test::CommandResult> r =
        test::RunCommand(argv, absl::Seconds(60),
                         {{"CONCH_USER", user}, {"CONCH_PASSWORD", password}});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : test::CommandResult{};
  }

  std::vector<std::string> Common(const std::string& prefix) {
    return {"--endpoints", server_->client_url(),
            "--cacert",    server_->ca_file(),
            "--cert",      server_->client_cert_file(),
            "--key",       server_->client_key_file(),
            "--prefix",    prefix,
            "-v",          "-v"};
  }

  static void ExpectNoPassword(const test::CommandResult& r) {
    for (const char* pw : {kAlicePw, kBobPw}) {
      EXPECT_THAT(r.out + r.err, Not(HasSubstr(pw))) << r.DebugString();
    }
  }

  static inline std::unique_ptr<test::EtcdServer> server_;  // the suite's
};

TEST_F(SecurityTest, AliceWorksInHerPrefixInEveryMode) {
  const std::string a = "/conch/a/";
  test::CommandResult vacant =
      Run({"elect", "x", "--who"}, "alice2", kAlicePw, a);
  EXPECT_EQ(vacant.exit_code, 1) << vacant.DebugString();
  test::CommandResult elect =
      Run({"elect", "x", "--", "sh", "-c", "test -n \"$CONCH_REV\""}, "alice2",
          kAlicePw, a);
  EXPECT_EQ(elect.exit_code, 0) << elect.DebugString();
  test::CommandResult sema =
      Run({"sema", "s", "--max", "2", "--", "true"}, "alice2", kAlicePw, a);
  EXPECT_EQ(sema.exit_code, 0) << sema.DebugString();
  test::CommandResult add =
      Run({"cron", "add", "j", "--schedule", "@every 1s", "--", "true"},
          "alice2", kAlicePw, a);
  EXPECT_EQ(add.exit_code, 0) << add.DebugString();
  for (const test::CommandResult& r : {vacant, elect, sema, add}) {
    ExpectNoPassword(r);
  }

  // conchd as alice runs the job in her prefix.
  std::vector<std::string> argv = {kConchdBinary, "--id", "da"};
  for (const std::string& f : Common(a)) argv.push_back(f);
  test::SubprocessOptions so;
  so.argv = argv;
  so.env = {{"CONCH_USER", "alice2"}, {"CONCH_PASSWORD", kAlicePw}};
  Scratch d;
  so.stderr_path = d.Path("conchd.err");
  absl::StatusOr<std::unique_ptr<test::Subprocess>> daemon =
      test::Subprocess::Start(so);
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  EXPECT_TRUE(test::PollUntil(
                  [&] {
                    return absl::StrContains(
                        Run({"cron", "ls", "j"}, "alice2", kAlicePw, a).out,
                        "\tok");
                  },
                  absl::Now() + absl::Seconds(20))
                  .ok())
      << d.Read("conchd.err").value_or("");
  test::CommandResult ls =
      Run({"cron", "ls", "--json", "--history", "5"}, "alice2", kAlicePw, a);
  EXPECT_EQ(ls.exit_code, 0);
  ExpectNoPassword(ls);
  ASSERT_TRUE((*daemon)->Signal(SIGTERM).ok());
  absl::StatusOr<int> status = (*daemon)->Wait(absl::Now() + absl::Seconds(20));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  const std::string log = d.Read("conchd.err").value_or("");
  EXPECT_THAT(log, HasSubstr("ok after"));
  EXPECT_THAT(log, Not(HasSubstr(kAlicePw)));
  EXPECT_EQ(
      Run({"cron", "rm", "j", "--purge"}, "alice2", kAlicePw, a).exit_code, 0);
}

TEST_F(SecurityTest, TheOtherUsersPrefixIsRefusedWith77) {
  const std::string b = "/conch/b/";
  const std::vector<std::vector<std::string>> modes = {
      {"elect", "x", "--", "true"},
      {"elect", "x", "--who"},
      {"sema", "s", "--max", "1", "--", "true"},
      {"cron", "add", "j", "--schedule", "@daily", "--", "true"},
      {"cron", "ls"},
  };
  for (const std::vector<std::string>& args : modes) {
    test::CommandResult r = Run(args, "alice2", kAlicePw, b);
    EXPECT_EQ(r.exit_code, 77) << r.DebugString();
    EXPECT_THAT(r.err, HasSubstr("permission denied")) << r.DebugString();
    EXPECT_THAT(r.err, HasSubstr("--prefix")) << r.DebugString();
    int error_lines = 0;
    for (absl::string_view line : absl::StrSplit(r.err, '\n')) {
      error_lines += absl::StartsWith(line, "conch: ") ? 1 : 0;
    }
    EXPECT_EQ(error_lines, 1) << r.err;
    ExpectNoPassword(r);
  }
  // conchd too.
  std::vector<std::string> argv = {kConchdBinary, "--id", "db"};
  for (const std::string& f : Common(b)) argv.push_back(f);
  absl::StatusOr<test::CommandResult> d = test::RunCommand(
      argv, absl::Seconds(30),
      {{"CONCH_USER", "alice2"}, {"CONCH_PASSWORD", kAlicePw}});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->exit_code, 77) << d->DebugString();
  ExpectNoPassword(*d);
  // Bob's own prefix works for bob, and nothing of alice's reached it.
  EXPECT_EQ(Run({"elect", "x", "--", "true"}, "bob", kBobPw, b).exit_code, 0);
}

TEST_F(SecurityTest, WrongPasswordExits77AndIsNeverPrinted) {
  const std::string wrong = "wrong-Secret-pw3";
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"elect", "x", "--", "true"},
                                             {"sema", "s", "--who"},
                                             {"cron", "ls"}}) {
    test::CommandResult r = Run(args, "alice2", wrong, "/conch/a/");
    EXPECT_EQ(r.exit_code, 77) << r.DebugString();
    EXPECT_THAT(r.err, HasSubstr("alice2"));
    EXPECT_THAT(r.out + r.err, Not(HasSubstr(wrong)));
  }
}

TEST_F(SecurityTest, WhoOutputCarriesNoCredentials) {
  const std::string a = "/conch/a/";
  // A holder that stays until the test releases it.
  Scratch d;
  std::vector<std::string> argv = {kConchBinary, "elect", "held"};
  for (const std::string& f : Common(a)) argv.push_back(f);
  for (const std::string& c :
       {std::string("--"), std::string("sh"), std::string("-c"),
        absl::StrCat("echo up > ", d.Path("up"), "; while [ ! -e ",
                     d.Path("go"), " ]; do sleep 0.02; done")}) {
    argv.push_back(c);
  }
  test::SubprocessOptions so;
  so.argv = argv;
  so.env = {{"CONCH_USER", "alice2"}, {"CONCH_PASSWORD", kAlicePw}};
  absl::StatusOr<std::unique_ptr<test::Subprocess>> holder =
      test::Subprocess::Start(so);
  ASSERT_TRUE(holder.ok());
  ASSERT_TRUE(d.WaitFor("up", absl::Now() + absl::Seconds(20)));
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"elect", "held", "--who"}, {"elect", "held", "--who", "--json"}}) {
    test::CommandResult r = Run(args, "alice2", kAlicePw, a);
    EXPECT_EQ(r.exit_code, 0) << r.DebugString();
    ExpectNoPassword(r);
  }
  ASSERT_EQ(
      test::RunCommand({"touch", d.Path("go")}, absl::Seconds(5))->exit_code,
      0);
  absl::StatusOr<int> status = (*holder)->Wait(absl::Now() + absl::Seconds(20));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

// Bad TLS files are refused at once, before dialling, with one line that
// names the flag and the file (exit 64): /dev/zero once grew to 1.5 GB, a
// non-PEM or swapped file printed raw gRPC lines and then "etcd
// unreachable" (69) after the dial timeout. Real files from the suite's
// CA, swapped.
TEST_F(SecurityTest, BadTlsFilesExit64AtOnceNamingTheFile) {
  struct Case {
    std::vector<std::string> flags;
    const char* says;
  };
  const std::vector<Case> cases = {
      {{"--cacert", "/dev/zero"}, "is not a regular file"},
      {{"--cacert", "/dev/null"}, "is not a regular file"},
      {{"--cacert", "/tmp"}, "is not a regular file"},
      {{"--cacert", server_->client_key_file()}, "swapped with --key?"},
      {{"--cacert", server_->ca_file(), "--cert", server_->client_key_file(),
        "--key", server_->client_cert_file()},
       "swapped with --"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {kConchBinary, "status", "--endpoints",
                                     server_->client_url()};
    argv.insert(argv.end(), c.flags.begin(), c.flags.end());
    const absl::Time start = absl::Now();
    absl::StatusOr<test::CommandResult> r =
        test::RunCommand(argv, absl::Seconds(30));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->exit_code, 64) << r->DebugString();
    EXPECT_THAT(r->err, HasSubstr(c.says)) << r->DebugString();
    EXPECT_EQ(std::count(r->err.begin(), r->err.end(), '\n'), 1)
        << r->DebugString();
    EXPECT_LT(absl::Now() - start, Scaled(absl::Seconds(2))) << c.flags[1];
  }
}

}  // namespace
}  // namespace conch
