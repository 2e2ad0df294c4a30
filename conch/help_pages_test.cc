// The help pages, as a new user reads them: every page of conch and
// conchd lists the common flags with their types and variables, two or
// three examples, and names its arguments and durations; the output flags
// (--json, -o, -w) are on conch's pages only.
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "conch/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/subprocess.h"

namespace conch {
namespace {

using ::testing::HasSubstr;

TEST(HelpPagesTest, EveryHelpPageListsCommonFlagsExamplesAndTypes) {
  const std::vector<std::vector<std::string>> pages = {
      {kConchBinary},
      {kConchBinary, "elect"},
      {kConchBinary, "sema"},
      {kConchBinary, "cron"},
      {kConchBinary, "cron", "add"},
      {kConchBinary, "cron", "rm"},
      {kConchBinary, "cron", "ls"},
      {kConchBinary, "cron", "run"},
      {kConchBinary, "cron", "next"},
      {kConchBinary, "status"},
      {kConchdBinary}};
  for (std::vector<std::string> argv : pages) {
    const std::string page = absl::StrJoin(argv, " ");
    argv.push_back("--help");
    absl::StatusOr<test::CommandResult> r =
        test::RunCommand(argv, absl::Seconds(30));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->exit_code, 0) << page;
    EXPECT_EQ(r->err, "") << page;
    const std::string& help = r->out;
    for (const char* wants :
         {"Usage: ", "Common flags:\n",
          "--endpoints URLS (env CONCH_ENDPOINTS)",
          "--ttl DURATION (env CONCH_TTL)", "--kill-after DURATION",
          "--dial-timeout DURATION", "--cacert FILE", "--cert FILE",
          "--key FILE", "--user NAME[:PASSWORD]", "--log-level LEVEL",
          "--prefix PREFIX", "\nExamples:\n"}) {
      EXPECT_THAT(help, HasSubstr(wants)) << page;
    }
    // The output flags on conch's pages; conchd prints no results.
    const bool daemon = argv[0] == kConchdBinary;
    for (const char* output :
         {"--json", "-o,--output FORMAT", "-w,--write-out FORMAT"}) {
      EXPECT_EQ(absl::StrContains(help, output), !daemon) << page << output;
    }
    EXPECT_THAT(help, ::testing::Not(HasSubstr(" TEXT"))) << page;
    // Two or three examples, each a command line.
    const std::string examples = help.substr(help.find("\nExamples:\n") + 11);
    int n = 0;
    for (absl::string_view line : absl::StrSplit(examples, '\n')) {
      if (!absl::StartsWith(line, "  ")) break;
      EXPECT_TRUE(absl::StartsWith(line, "  conch") ||
                  absl::StartsWith(line, "  CONCH"))
          << page << ": " << line;
      ++n;
    }
    EXPECT_GE(n, 2) << page;
    EXPECT_LE(n, 3) << page;
  }
}

TEST(HelpPagesTest, HelpPagesNameTheirArgumentsAndDurations) {
  const struct {
    std::vector<std::string> words;
    std::vector<std::string> wants;
  } pages[] = {
      {{"elect"},
       {"Usage: conch elect [OPTIONS] NAME -- COMMAND [ARG...]", "name NAME",
        "--timeout DURATION", "--restart-reset DURATION"}},
      {{"sema"},
       {"Usage: conch sema [OPTIONS] NAME -- COMMAND [ARG...]", "--max N",
        "--timeout DURATION"}},
      {{"cron", "add"},
       {"Usage: conch cron add [OPTIONS] NAME -- COMMAND [ARG...]",
        "--schedule SCHEDULE REQUIRED", "--tz ZONE", "--overlap allow|skip"}},
      {{"cron", "ls"},
       {"Usage: conch cron ls [OPTIONS] [NAME]", "--history N"}},
      {{"cron", "run"}, {"--timeout DURATION"}},
      {{"cron", "next"}, {"--from TIME", "--count N"}},
  };
  for (const auto& p : pages) {
    std::vector<std::string> argv = {kConchBinary};
    argv.insert(argv.end(), p.words.begin(), p.words.end());
    argv.push_back("--help");
    absl::StatusOr<test::CommandResult> r =
        test::RunCommand(argv, absl::Seconds(30));
    ASSERT_TRUE(r.ok()) << r.status();
    for (const std::string& w : p.wants) {
      EXPECT_THAT(r->out, HasSubstr(w)) << absl::StrJoin(p.words, " ");
    }
  }
  absl::StatusOr<test::CommandResult> d =
      test::RunCommand({kConchdBinary, "--help"}, absl::Seconds(30));
  ASSERT_TRUE(d.ok());
  for (const char* w :
       {"--id ID (env CONCHD_ID)", "--max-late DURATION", "--workers N",
        "--job-nice N", "--listen ADDR (env CONCHD_LISTEN)",
        "--listen-public"}) {
    EXPECT_THAT(d->out, HasSubstr(w));
  }
}

}  // namespace
}  // namespace conch
