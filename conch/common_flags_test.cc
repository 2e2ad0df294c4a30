#include "conch/common_flags.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "conch/exit_codes.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace conch {
namespace {

using ::testing::HasSubstr;

TEST(ResolveTest, DefaultsMatchTheSpec) {
  absl::StatusOr<CommonOptions> o = Resolve(CommonFlags{});
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_EQ(o->connection.endpoints.size(), 1u);
  EXPECT_EQ(o->connection.endpoints[0].original, "127.0.0.1:2379");
  EXPECT_EQ(o->prefix, "/conch/");
  EXPECT_EQ(o->ttl, absl::Seconds(10));
  EXPECT_EQ(o->kill_after, absl::Seconds(2));
  EXPECT_EQ(o->connection.dial_timeout, absl::Seconds(5));
  EXPECT_TRUE(o->connection.user.empty());
}

TEST(ResolveTest, UserSplitsAtTheFirstColon) {
  CommonFlags f;
  f.user = "alice:pa:ss";
  absl::StatusOr<CommonOptions> o = Resolve(f);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->connection.user, "alice");
  EXPECT_EQ(o->connection.password, "pa:ss");
}

TEST(ResolveTest, PasswordFromEnvironmentWhenUserHasNoColon) {
  CommonFlags f;
  f.user = "bob";
  unsetenv("CONCH_PASSWORD");
  EXPECT_FALSE(Resolve(f).ok());
  setenv("CONCH_PASSWORD", "pw", 1);
  absl::StatusOr<CommonOptions> o = Resolve(f);
  unsetenv("CONCH_PASSWORD");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->connection.password, "pw");
}

TEST(ResolveTest, RejectsBadValuesNamingTheFlag) {
  struct Case {
    void (*set)(CommonFlags*);
    const char* flag;
  } cases[] = {
      {[](CommonFlags* f) { f->endpoints = "x"; }, "endpoint"},
      {[](CommonFlags* f) { f->ttl = "0s"; }, "--ttl"},
      {[](CommonFlags* f) { f->ttl = "900ms"; }, "--ttl"},
      {[](CommonFlags* f) { f->kill_after = "5"; }, "--kill-after"},
      {[](CommonFlags* f) { f->dial_timeout = "0s"; }, "--dial-timeout"},
      {[](CommonFlags* f) { f->prefix = "conch"; }, "--prefix"},
      {[](CommonFlags* f) { f->prefix = ""; }, "--prefix"},
      {[](CommonFlags* f) { f->key = "k.pem"; }, "--cert"},
      {[](CommonFlags* f) { f->user = ":pw"; }, "user"},
      {[](CommonFlags* f) { f->log_level = "chatty"; }, "--log-level"},
  };
  for (const Case& c : cases) {
    CommonFlags f;
    c.set(&f);
    absl::StatusOr<CommonOptions> o = Resolve(f);
    ASSERT_FALSE(o.ok()) << c.flag;
    EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(o.status().message(), HasSubstr(c.flag));
  }
}

TEST(ResolveTest, HugeDurationsAreRefusedNotWrapped) {
  CommonFlags f;
  f.ttl = "9223372036854775807s";  // once a 2 s lease and exit 0
  absl::StatusOr<CommonOptions> o = Resolve(f);
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(std::string(o.status().message()),
              HasSubstr("invalid --ttl \"9223372036854775807s\": at most"));
  f.ttl = "8760h";
  EXPECT_TRUE(Resolve(f).ok());
  f.dial_timeout = "100000h";
  EXPECT_FALSE(Resolve(f).ok());
}

// The command boundary (issue 15): the command starts only after "--",
// and nothing after it is read as a flag of conch's.
class ParseCommandLineTest : public ::testing::Test {
 protected:
  ParseCommandLineTest() {
    run_ = app_.add_subcommand("run", "");
    run_->add_option("name", name_)->required();
    run_->add_flag("--json", json_);
  }

  // Parses `words` (after the program name); the exit code if it stops.
  std::optional<int> Parse(std::vector<std::string> words,
                           std::vector<std::string>* command) {
    words.insert(words.begin(), "conch");
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    ::testing::internal::CaptureStderr();
    std::optional<int> r = ParseCommandLine(app_, static_cast<int>(argv.size()),
                                            argv.data(), command);
    err_ = ::testing::internal::GetCapturedStderr();
    return r;
  }

  CLI::App app_{"test", "conch"};
  CLI::App* run_;
  std::string name_;
  bool json_ = false;
  std::string err_;
};

TEST_F(ParseCommandLineTest, EverythingAfterTheFirstSeparatorIsTheCommand) {
  std::vector<std::string> command;
  EXPECT_EQ(Parse({"run", "x", "--json", "--", "printf", "--json", "--", "b"},
                  &command),
            std::nullopt)
      << err_;
  EXPECT_EQ(name_, "x");
  EXPECT_TRUE(json_);
  EXPECT_EQ(command, (std::vector<std::string>{"printf", "--json", "--", "b"}));
}

TEST_F(ParseCommandLineTest, FlagsOfTheCommandAreNeverConchs) {
  std::vector<std::string> command;
  EXPECT_EQ(Parse({"run", "x", "--", "tool", "--json"}, &command),
            std::nullopt);
  EXPECT_FALSE(json_);
  EXPECT_EQ(command, (std::vector<std::string>{"tool", "--json"}));
}

TEST_F(ParseCommandLineTest, ACommandWithoutTheSeparatorIsRefusedWithAHint) {
  std::vector<std::string> command;
  EXPECT_EQ(Parse({"run", "x", "printf", "[%s]", "a", "--json", "b"}, &command),
            kExitUsage);
  EXPECT_EQ(err_,
            "conch: unexpected argument \"printf\": put -- before the "
            "command (see conch --help)\n");
  EXPECT_TRUE(command.empty());
}

TEST_F(ParseCommandLineTest, AForgottenNameIsNotTakenFromTheCommand) {
  std::vector<std::string> command;
  EXPECT_EQ(Parse({"run", "--json", "--", "sleep", "1"}, &command), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("name is required"));
  EXPECT_EQ(std::count(err_.begin(), err_.end(), '\n'), 1) << err_;
}

TEST_F(ParseCommandLineTest, AProgramWithoutACommandRefusesTheSeparator) {
  EXPECT_EQ(Parse({"run", "x", "--", "true"}, nullptr), kExitUsage);
  EXPECT_EQ(err_,
            "conch: unexpected \"--\": conch runs no command (see conch "
            "--help)\n");
}

// An empty value is an error, never "absent" (issue 15 point 4).
TEST_F(ParseCommandLineTest, AnEmptyValueIsRefusedNotTakenAsAbsent) {
  std::string cacert = "unset";
  app_.add_option("--cacert", cacert);
  std::string timeout;
  run_->add_option("--timeout", timeout);
  std::vector<std::string> command;
  EXPECT_EQ(Parse({"--cacert", "", "run", "x", "--", "true"}, &command),
            kExitUsage);
  EXPECT_EQ(err_,
            "conch: invalid --cacert \"\": the value is empty (see conch "
            "--help)\n");
  EXPECT_EQ(Parse({"run", "x", "--timeout", "", "--", "true"}, &command),
            kExitUsage);
  EXPECT_THAT(err_, HasSubstr("invalid --timeout \"\""));
  // Given with a value, or not at all: fine.
  EXPECT_EQ(Parse({"run", "x", "--timeout", "5s", "--", "true"}, &command),
            std::nullopt)
      << err_;
}

TEST_F(ParseCommandLineTest, AnEmptyCommandAfterTheSeparatorIsEmpty) {
  std::vector<std::string> command = {"stale"};
  EXPECT_EQ(Parse({"run", "x", "--"}, &command), std::nullopt);
  EXPECT_TRUE(command.empty());
}

}  // namespace
}  // namespace conch
