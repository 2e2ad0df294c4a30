#include "conch/common_flags.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "conch/exit_codes.h"
#include "core/base/duration.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace conch {
namespace {

using ::testing::AllOf;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

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
  EXPECT_THAT(
      std::string(o.status().message()),
      HasSubstr("invalid --ttl \"9223372036854775807s\": must be at most"));
  f.ttl = "8760h";
  EXPECT_TRUE(Resolve(f).ok());
  f.dial_timeout = "100000h";
  EXPECT_FALSE(Resolve(f).ok());
}

// ---- The checks of single values ----

TEST(WhyNotTest, DurationsAcceptExactlyWhatParseDurationAccepts) {
  for (const char* text : {"500ms",  "10s",
                           "2m",     "1h30m",
                           "0",      "0s",
                           " 5s ",   "1.5s",
                           "",       "1",
                           "-1s",    "10x",
                           "1e400s", "9223372036854775807s",
                           "inf",    "-inf",
                           "s",      "5 s",
                           "1s\x01", "\n",
                           "10S"}) {
    EXPECT_EQ(WhyNotDuration(text, absl::ZeroDuration()).empty(),
              ParseDuration("x", text).ok())
        << "\"" << text << "\": " << WhyNotDuration(text, absl::ZeroDuration());
  }
}

TEST(WhyNotTest, DurationReasons) {
  EXPECT_EQ(WhyNotDuration("1", absl::ZeroDuration()),
            "not a duration such as 500ms, 10s, 2m or 1h30m");
  EXPECT_EQ(WhyNotDuration("garbage", absl::ZeroDuration()),
            "not a duration such as 500ms, 10s, 2m or 1h30m");
  EXPECT_EQ(WhyNotDuration("-1s", absl::ZeroDuration()),
            "must not be negative");
  EXPECT_EQ(WhyNotDuration("inf", absl::ZeroDuration()), "must be finite");
  EXPECT_EQ(WhyNotDuration("0s", absl::Nanoseconds(1)), "must be positive");
  EXPECT_EQ(WhyNotDuration("900ms", absl::Seconds(1)), "must be at least 1s");
  EXPECT_EQ(WhyNotDuration("8761h", absl::Seconds(1), kMaxTtl),
            "must be at most 8760h");
  EXPECT_EQ(WhyNotDuration("8760h", absl::Seconds(1), kMaxTtl), "");
}

TEST(WhyNotTest, WholeNumbers) {
  EXPECT_EQ(WhyNotWholeNumber("5", 0, 100), "");
  EXPECT_EQ(WhyNotWholeNumber("-3", -20, 19), "");
  EXPECT_EQ(WhyNotWholeNumber("abc", 0, 100), "not a whole number");
  EXPECT_EQ(WhyNotWholeNumber("1.5", 0, 100), "not a whole number");
  EXPECT_EQ(WhyNotWholeNumber(" 5", 0, 100), "not a whole number");
  EXPECT_EQ(WhyNotWholeNumber("0x10", 0, 100), "not a whole number");
  EXPECT_EQ(WhyNotWholeNumber("-", 0, 100), "not a whole number");
  EXPECT_EQ(WhyNotWholeNumber("101", 0, 100), "must be from 0 to 100");
  EXPECT_EQ(WhyNotWholeNumber("99999999999999999999999", 0, 100),
            "must be from 0 to 100");
}

TEST(WhyNotTest, Names) {
  EXPECT_EQ(WhyNotNewName("db/primary"), "");  // any bytes but controls
  EXPECT_EQ(WhyNotNewName(std::string(256, 'n')), "");
  EXPECT_EQ(WhyNotNewName(std::string(257, 'n')),
            "must be 1 to 256 bytes (it has 257)");
  EXPECT_EQ(WhyNotNewName("a\nb"), "has a control character (byte 0x0a at 1)");
  EXPECT_EQ(WhyNotNewName("\x7f"), "has a control character (byte 0x7f at 0)");
  // A name stored before control characters were refused can be looked up.
  EXPECT_EQ(WhyNotName("a\nb"), "");
  EXPECT_EQ(WhyNotName(std::string(300, 'n')),
            "must be 1 to 256 bytes (it has 300)");
}

// ---- The command line ----

// A small conch: the common flags, a subcommand that runs a command, one
// that does not, and a group.
class ParseCommandLineTest : public ::testing::Test {
 protected:
  ParseCommandLineTest() {
    for (const char* var : {"CONCH_TTL", "CONCH_ENDPOINTS", "CONCH_PREFIX",
                            "CONCH_USER", "CONCH_LOG", "CONCH_KILL_AFTER"}) {
      unsetenv(var);
    }
    app_.require_subcommand(1);
    app_.fallthrough();
    app_.footer("Examples:\n  conch run x -- true\n  conch show");
    AddCommonFlags(app_, &common_);
    AddOutputFlags(app_, &common_);
    run_ = app_.add_subcommand("run", "runs a command");
    AddNameArgument(*run_, &name_, "office", /*new_name=*/true);
    CheckValues(
        run_->add_option("--max", max_)->type_name("N"),
        [](const std::string& v) { return WhyNotWholeNumber(v, 1, 10); });
    run_->add_option("--raw", raw_, "an int without a check");
    CLI::Option* who = run_->add_flag("--who", who_);
    run_->add_flag("--watch", watch_)->needs(who);
    run_->add_flag("--nonblock", nonblock_);
    run_->add_option("--timeout", timeout_);
    run_->add_flag("--restart", restart_);
    CheckCampaignFlags(*run_, who);
    run_->footer("Examples:\n  conch run x -- true\n  conch run x --who");
    show_ = app_.add_subcommand("show", "shows");
    group_ = app_.add_subcommand("group", "a group");
    group_->require_subcommand(1);
    group_->fallthrough();
    list_ = group_->add_subcommand("list", "lists");
    AddNameArgument(*list_, &name_, "job", /*new_name=*/false,
                    /*required=*/false);
  }

  // Parses `words` (after the program name); the exit code if it stops.
  std::optional<int> Parse(std::vector<std::string> words,
                           std::vector<std::string>* command = nullptr) {
    std::vector<std::string> unused;
    if (command == nullptr) command = &unused;
    words.insert(words.begin(), "conch");
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    ::testing::internal::CaptureStderr();
    ::testing::internal::CaptureStdout();
    std::optional<int> r = ParseCommandLine(app_, static_cast<int>(argv.size()),
                                            argv.data(), command, {run_});
    out_ = ::testing::internal::GetCapturedStdout();
    err_ = ::testing::internal::GetCapturedStderr();
    return r;
  }

  // The one line a refused command line prints.
  std::string Refused(std::vector<std::string> words) {
    EXPECT_EQ(Parse(words), kExitUsage) << err_;
    EXPECT_EQ(std::count(err_.begin(), err_.end(), '\n'), 1) << err_;
    EXPECT_THAT(err_, EndsWith("\n"));
    EXPECT_EQ(out_, "");
    return err_;
  }

  CLI::App app_{"test", "conch"};
  CommonFlags common_;
  CLI::App* run_;
  CLI::App* show_;
  CLI::App* group_;
  CLI::App* list_;
  std::string name_;
  std::string max_;
  int raw_ = 0;
  bool who_ = false;
  bool watch_ = false;
  bool nonblock_ = false;
  std::string timeout_;
  bool restart_ = false;
  std::string out_;
  std::string err_;
};

// The command boundary (issue 15): the command starts only after "--",
// and nothing after it is read as a flag of conch's.
TEST_F(ParseCommandLineTest, EverythingAfterTheFirstSeparatorIsTheCommand) {
  std::vector<std::string> command;
  EXPECT_EQ(Parse({"run", "x", "--json", "--", "printf", "--json", "--", "b"},
                  &command),
            std::nullopt)
      << err_;
  EXPECT_EQ(name_, "x");
  EXPECT_TRUE(common_.json);
  EXPECT_EQ(command, (std::vector<std::string>{"printf", "--json", "--", "b"}));
}

TEST_F(ParseCommandLineTest, FlagsOfTheCommandAreNeverConchs) {
  std::vector<std::string> command;
  EXPECT_EQ(Parse({"run", "x", "--", "tool", "--json"}, &command),
            std::nullopt);
  EXPECT_FALSE(common_.json);
  EXPECT_EQ(command, (std::vector<std::string>{"tool", "--json"}));
}

TEST_F(ParseCommandLineTest, ACommandWithoutTheSeparatorIsRefusedWithAHint) {
  std::vector<std::string> command;
  EXPECT_EQ(Parse({"run", "x", "printf", "[%s]", "a", "--json", "b"}, &command),
            kExitUsage);
  EXPECT_EQ(err_,
            "conch: unexpected argument \"printf\": put -- before the "
            "command (see conch run --help)\n");
  EXPECT_TRUE(command.empty());
}

TEST_F(ParseCommandLineTest, AForgottenNameIsNotTakenFromTheCommand) {
  std::vector<std::string> command;
  EXPECT_EQ(Parse({"run", "--json", "--", "sleep", "1"}, &command), kExitUsage);
  EXPECT_EQ(err_, "conch: the name is required (see conch run --help)\n");
}

TEST_F(ParseCommandLineTest, OnlyRunnersTakeACommand) {
  EXPECT_EQ(Refused({"show", "--", "true"}),
            "conch: unexpected \"--\": conch show runs no command; only run "
            "runs a command after -- (see conch show --help)\n");
  // Even an empty one.
  EXPECT_THAT(Refused({"group", "list", "--"}),
              HasSubstr("conch group list runs no command"));
}

TEST_F(ParseCommandLineTest, AProgramWithoutACommandRefusesTheSeparator) {
  const std::string d = "--";
  std::vector<std::string> words = {"conch", "run", "x", d, "true"};
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(ParseCommandLine(app_, static_cast<int>(argv.size()), argv.data(),
                             nullptr),
            kExitUsage);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "conch: unexpected \"--\": conch run runs no command (see conch "
            "run --help)\n");
}

// An empty value is an error, never "absent" (issue 15 point 4).
TEST_F(ParseCommandLineTest, AnEmptyValueIsRefusedNotTakenAsAbsent) {
  EXPECT_EQ(Refused({"--cacert", "", "run", "x", "--", "true"}),
            "conch: invalid --cacert \"\": the value is empty (see conch run "
            "--help)\n");
  EXPECT_EQ(Refused({"run", "x", "--timeout", "", "--", "true"}),
            "conch: invalid --timeout \"\": the value is empty (see conch run "
            "--help)\n");
  EXPECT_EQ(Refused({"run", "x", "--raw", "", "--", "true"}),
            "conch: invalid --raw \"\": the value is empty (see conch run "
            "--help)\n");
  // Given with a value, or not at all: fine.
  EXPECT_EQ(Parse({"run", "x", "--timeout", "5s", "--", "true"}), std::nullopt)
      << err_;
}

TEST_F(ParseCommandLineTest, AnEmptyCommandAfterTheSeparatorIsEmpty) {
  std::vector<std::string> command = {"stale"};
  EXPECT_EQ(Parse({"run", "x", "--"}, &command), std::nullopt);
  EXPECT_TRUE(command.empty());
}

// Point 7: CLI11's words never reach the user; every message is one line
// in conch's words and points at the help of the subcommand being parsed.
TEST_F(ParseCommandLineTest, ParseErrorsInConchsWords) {
  const struct {
    std::vector<std::string> words;
    std::string says;
  } cases[] = {
      // ValidationError (a check of ours).
      {{"run", "x", "--max", "abc", "--", "true"},
       "conch: invalid --max \"abc\": not a whole number (see conch run "
       "--help)\n"},
      {{"run", "x", "--max", "11", "--", "true"},
       "conch: invalid --max \"11\": must be from 1 to 10 (see conch run "
       "--help)\n"},
      {{"--ttl", "1", "run", "x", "--", "true"},
       "conch: invalid --ttl \"1\": not a duration such as 500ms, 10s, 2m or "
       "1h30m (see conch run --help)\n"},
      {{"group", "list", std::string(300, 'n')},
       "conch: invalid job name \"" + std::string(80, 'n') +
           "\"... (300 bytes): must be 1 to 256 bytes (it has 300) (see "
           "conch group list --help)\n"},
      // ConversionError (no check of ours).
      {{"run", "x", "--raw", "abc", "--", "true"},
       "conch: invalid --raw \"abc\" (see conch run --help)\n"},
      {{"run", "x", "--json=maybe", "--", "true"},
       "conch: --json takes no value (see conch run --help)\n"},
      {{"run", "x", "--who=2x"},
       "conch: --who takes no value (see conch run --help)\n"},
      // ArgumentMismatch.
      {{"run", "x", "--max", "1", "--max", "2", "--", "true"},
       "conch: --max given more than once (see conch run --help)\n"},
      {{"run", "x", "--max"},
       "conch: --max needs a value (N) (see conch run --help)\n"},
      {{"show", "--ttl"},
       "conch: --ttl needs a value (DURATION) (see conch show --help)\n"},
      // RequiredError, and unknown subcommands.
      {{},
       "conch: no subcommand given: conch has run, show and group (see "
       "conch --help)\n"},
      {{"group"},
       "conch: no subcommand given: conch group has list (see conch group "
       "--help)\n"},
      {{"lock", "x"},
       "conch: unknown subcommand \"lock\": conch has run, show and group "
       "(see conch --help)\n"},
      {{"group", "lock"},
       "conch: unknown subcommand \"lock\": conch group has list (see conch "
       "group --help)\n"},
      // ExtrasError.
      {{"run", "x", "--nope", "--", "true"},
       "conch: unknown flag \"--nope\" (see conch run --help)\n"},
      {{"run", "--nope=1"},
       "conch: unknown flag \"--nope\" (see conch run --help)\n"},
      {{"show", "x"},
       "conch: unexpected argument \"x\": conch show takes no arguments (see "
       "conch show --help)\n"},
      {{"group", "list", "a", "b"},
       "conch: unexpected argument \"b\" (see conch group list --help)\n"},
      // ExcludesError, RequiresError.
      {{"run", "x", "--who", "--nonblock"},
       "conch: --who only looks: it does not go with --nonblock (see conch "
       "run --help)\n"},
      {{"run", "x", "--nonblock", "--timeout", "1s", "--", "true"},
       "conch: --nonblock does not go with --timeout (see conch run "
       "--help)\n"},
      {{"run", "x", "--watch"},
       "conch: --watch needs --who (see conch run --help)\n"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Refused(c.words), c.says);
  }
}

TEST_F(ParseCommandLineTest, WholeNumbersAreDecimal) {
  int n = 0;
  CheckWholeNumbers(
      show_->add_option("--n", n)->type_name("N"),
      [](const std::string& v) { return WhyNotWholeNumber(v, 0, 100); });
  EXPECT_EQ(Parse({"show", "--n", "010"}), std::nullopt) << err_;
  EXPECT_EQ(n, 10);  // not CLI11's octal 8
  EXPECT_EQ(Parse({"show", "--n", "08"}), std::nullopt) << err_;
  EXPECT_EQ(n, 8);
  EXPECT_EQ(Refused({"show", "--n", "0x10"}),
            "conch: invalid --n \"0x10\": not a whole number (see conch show "
            "--help)\n");
  EXPECT_EQ(Refused({"show", "--n", "+5"}),
            "conch: invalid --n \"+5\": not a whole number (see conch show "
            "--help)\n");
}

TEST_F(ParseCommandLineTest, UserTextStaysOnOneLine) {
  EXPECT_EQ(Refused({"run", "a\nb\x1b[31m", "--", "true"}),
            "conch: invalid office name \"a\\nb\\x1b[31m\": has a control "
            "character (byte 0x0a at 1) (see conch run --help)\n");
  EXPECT_EQ(Refused({"run", "x", "--max", "1\n2"}),
            "conch: invalid --max \"1\\n2\": not a whole number (see conch "
            "run --help)\n");
  EXPECT_EQ(Refused({"lock\n"}),
            "conch: unknown subcommand \"lock\\n\": conch has run, show and "
            "group (see conch --help)\n");
  // Credentials are never echoed.
  EXPECT_THAT(Refused({"show", "--endpoints", "http://me:secret@h"}),
              AllOf(HasSubstr("invalid --endpoints: endpoint"),
                    Not(HasSubstr("secret"))));
  EXPECT_THAT(Refused({"show", "--user", ":secret"}),
              AllOf(HasSubstr("invalid --user: the user name is empty"),
                    Not(HasSubstr("secret"))));
}

// Point 7: a value from the environment that fails names the variable, not
// a flag the user never typed; a flag wins over its variable.
TEST_F(ParseCommandLineTest, ABadVariableIsNamed) {
  setenv("CONCH_TTL", "garbage", 1);
  EXPECT_EQ(Refused({"run", "x", "--", "true"}),
            "conch: invalid CONCH_TTL \"garbage\": not a duration such as "
            "500ms, 10s, 2m or 1h30m (see conch run --help)\n");
  // The flag given: the variable is not read.
  EXPECT_EQ(Parse({"run", "x", "--ttl", "3s", "--", "true"}), std::nullopt)
      << err_;
  EXPECT_EQ(common_.ttl, "3s");
  unsetenv("CONCH_TTL");
  // A bad flag is the flag's, whatever the variable says.
  setenv("CONCH_TTL", "4s", 1);
  EXPECT_EQ(Refused({"show", "--ttl", "0s"}),
            "conch: invalid --ttl \"0s\": must be at least 1s (see conch show "
            "--help)\n");
  EXPECT_EQ(Parse({"show"}), std::nullopt) << err_;
  EXPECT_EQ(common_.ttl, "4s");
  unsetenv("CONCH_TTL");
  setenv("CONCH_ENDPOINTS", "localhost", 1);
  EXPECT_EQ(Refused({"show"}),
            "conch: invalid CONCH_ENDPOINTS: endpoint \"localhost\": expected "
            "host:port (see conch show --help)\n");
  unsetenv("CONCH_ENDPOINTS");
  setenv("CONCH_USER", ":pw", 1);
  EXPECT_EQ(Refused({"show"}),
            "conch: invalid CONCH_USER: the user name is empty (see conch "
            "show --help)\n");
  unsetenv("CONCH_USER");
  // An empty variable is an unset one.
  setenv("CONCH_PREFIX", "", 1);
  EXPECT_EQ(Parse({"show"}), std::nullopt) << err_;
  EXPECT_EQ(common_.prefix, "/conch/");
  unsetenv("CONCH_PREFIX");
}

TEST_F(ParseCommandLineTest, AVariableOfAnotherSubcommandIsNotRead) {
  std::string id;
  CheckValues(show_->add_option("--id", id)->envname("TEST_ID"),
              [](const std::string& v) { return v == "bad" ? "bad" : ""; });
  setenv("TEST_ID", "bad", 1);
  EXPECT_EQ(Parse({"run", "x", "--", "true"}), std::nullopt) << err_;
  EXPECT_EQ(Refused({"show"}),
            "conch: invalid TEST_ID \"bad\": bad (see conch show --help)\n");
  unsetenv("TEST_ID");
}

TEST_F(ParseCommandLineTest, HelpListsCommonFlagsExamplesAndTypes) {
  EXPECT_EQ(Parse({"run", "--help"}), 0);
  EXPECT_EQ(err_, "");
  EXPECT_THAT(out_, HasSubstr("Usage: conch run [OPTIONS] NAME -- COMMAND "
                              "[ARG...]\n"));
  EXPECT_THAT(out_, HasSubstr("name NAME REQUIRED"));
  EXPECT_THAT(out_, HasSubstr("--max N"));
  EXPECT_THAT(out_, HasSubstr("--timeout DURATION (not with --nonblock, "
                              "--who)"));
  EXPECT_THAT(out_, HasSubstr("--watch (needs --who)"));
  EXPECT_THAT(out_, HasSubstr("Common flags:\n"));
  EXPECT_THAT(out_, HasSubstr("--ttl DURATION (env CONCH_TTL)"));
  EXPECT_THAT(out_, HasSubstr("--cacert FILE (env CONCH_CACERT)"));
  EXPECT_THAT(out_, HasSubstr("--endpoints URLS (env CONCH_ENDPOINTS)"));
  EXPECT_THAT(out_, HasSubstr("Examples:\n  conch run x -- true\n"));
  EXPECT_THAT(out_, Not(HasSubstr("TEXT")));
  EXPECT_THAT(out_, Not(HasSubstr("\n\n\n")));
  // A subcommand of a subcommand lists the program's common flags too.
  EXPECT_EQ(Parse({"group", "list", "--help"}), 0);
  EXPECT_THAT(out_, HasSubstr("Usage: conch group list [OPTIONS] [NAME]\n"));
  EXPECT_THAT(out_, HasSubstr("Common flags:\n"));
  EXPECT_THAT(out_, HasSubstr("--dial-timeout DURATION"));
  // The program's own page.
  EXPECT_EQ(Parse({"--help"}), 0);
  EXPECT_THAT(out_, HasSubstr("Usage: conch [OPTIONS] SUBCOMMAND\n"));
  EXPECT_THAT(out_, HasSubstr("Common flags:\n"));
  EXPECT_THAT(out_, HasSubstr("Examples:\n"));
}

TEST_F(ParseCommandLineTest, UsageErrorsPointAtTheSubcommandsHelp) {
  EXPECT_EQ(Parse({"group", "list"}), std::nullopt) << err_;
  EXPECT_EQ(CommandPath(app_), "conch group list");
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(ReportUsage(app_, absl::InvalidArgumentError("bad\nthing")),
            kExitUsage);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "conch: bad\\nthing (see conch group list --help)\n");
  // Not a usage error: no hint.
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(ReportUsage(app_, absl::UnavailableError("etcd is away")), 69);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "conch: etcd is away\n");
}

}  // namespace
}  // namespace conch
