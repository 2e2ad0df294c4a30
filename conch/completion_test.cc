// The completion generator (conch/completion.h), on conch's real command
// tree and on small trees that show one rule each.
#include "conch/completion.h"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "conch/common_flags.h"
#include "conch/completion_cmd.h"
#include "conch/cron_cmd.h"
#include "conch/elect_cmd.h"
#include "conch/sema_cmd.h"
#include "conch/status_cmd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace conch {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

// conch's command line, put together as main() does.
struct Conch {
  Conch() {
    app.set_version_flag("--version", "conch test");
    app.require_subcommand(1);
    app.fallthrough();
    AddCommonFlags(app, &common);
    AddOutputFlags(app, &common);
    elect = SetupElect(app, &elect_args);
    sema = SetupSema(app, &sema_args);
    SetupCron(app, &cron_args);
    SetupStatus(app, &status_args);
    SetupCompletion(app, &completion_args);
    runners = {elect, sema, cron_args.apps.add};
  }

  CLI::App app{"conch", "conch"};
  CommonFlags common;
  ElectArgs elect_args;
  SemaArgs sema_args;
  CronArgs cron_args;
  StatusArgs status_args;
  CompletionArgs completion_args;
  CLI::App* elect = nullptr;
  CLI::App* sema = nullptr;
  std::vector<const CLI::App*> runners;
};

const CompletionCommand* Find(const std::vector<CompletionCommand>& tree,
                              const std::string& path) {
  for (const CompletionCommand& c : tree) {
    if (absl::StrJoin(c.path, " ") == path) return &c;
  }
  return nullptr;
}

const CompletionOption* FindOption(const CompletionCommand& c,
                                   const std::string& name) {
  for (const CompletionOption& o : c.options) {
    for (const std::string& n : o.names) {
      if (n == name) return &o;
    }
  }
  return nullptr;
}

std::vector<std::string> Paths(const std::vector<CompletionCommand>& tree) {
  std::vector<std::string> out;
  for (const CompletionCommand& c : tree) {
    out.push_back(absl::StrJoin(c.path, " "));
  }
  return out;
}

TEST(CompletionTreeTest, HasEverySubcommandInOrder) {
  Conch conch;
  const std::vector<CompletionCommand> tree =
      DescribeCommands(conch.app, conch.runners);
  EXPECT_THAT(Paths(tree),
              ElementsAre("", "elect", "sema", "cron", "cron add", "cron rm",
                          "cron ls", "cron run", "cron logs", "cron next",
                          "status", "completion"));
  EXPECT_THAT(tree[0].subcommands,
              ElementsAre("elect", "sema", "cron", "status", "completion"));
  EXPECT_THAT(Find(tree, "cron")->subcommands,
              ElementsAre("add", "rm", "ls", "run", "logs", "next"));
  EXPECT_EQ(Find(tree, "cron")->subcommand_help[0], "store a job");
  for (const CompletionCommand& c : tree) {
    const std::string path = absl::StrJoin(c.path, " ");
    EXPECT_EQ(c.runs_command,
              path == "elect" || path == "sema" || path == "cron add")
        << path;
  }
}

TEST(CompletionTreeTest, SubcommandsHaveTheirOwnAndTheCommonFlags) {
  Conch conch;
  const std::vector<CompletionCommand> tree =
      DescribeCommands(conch.app, conch.runners);
  const CompletionCommand& elect = *Find(tree, "elect");
  const CompletionOption* nonblock = FindOption(elect, "--nonblock");
  ASSERT_NE(nonblock, nullptr);
  EXPECT_FALSE(nonblock->takes_value);
  EXPECT_THAT(nonblock->excludes, Contains("--timeout"));
  const CompletionOption* timeout = FindOption(elect, "--timeout");
  ASSERT_NE(timeout, nullptr);
  EXPECT_TRUE(timeout->takes_value);
  EXPECT_EQ(timeout->type, "DURATION");
  EXPECT_EQ(timeout->value.kind, ValueHint::Kind::kNothing);
  // The common flags, inherited from the program (CLI11's fallthrough).
  for (const char* common : {"--endpoints", "--ttl", "--kill-after", "--prefix",
                             "--json", "--log-level", "-v"}) {
    EXPECT_NE(FindOption(elect, common), nullptr) << common;
    EXPECT_NE(FindOption(*Find(tree, "cron ls"), common), nullptr) << common;
  }
  EXPECT_EQ(FindOption(elect, "--ttl")->help, "lease TTL, 1s to 8760h");
  // --help is each level's own; --version is only the program's.
  EXPECT_TRUE(FindOption(elect, "--help")->ends_parsing);
  EXPECT_NE(FindOption(tree[0], "--version"), nullptr);
  EXPECT_EQ(FindOption(elect, "--version"), nullptr);
  EXPECT_TRUE(FindOption(elect, "-v")->repeatable);
  EXPECT_FALSE(FindOption(elect, "--ttl")->repeatable);
  EXPECT_THAT(elect.arguments, ::testing::SizeIs(1));
  EXPECT_EQ(elect.arguments[0].type, "NAME");
  EXPECT_EQ(elect.arguments[0].value.kind, ValueHint::Kind::kNothing);
}

TEST(CompletionTreeTest, KnowsTheValuesItCan) {
  Conch conch;
  const std::vector<CompletionCommand> tree =
      DescribeCommands(conch.app, conch.runners);
  const CompletionCommand& add = *Find(tree, "cron add");
  EXPECT_THAT(FindOption(add, "--overlap")->value.words,
              ElementsAre("allow", "skip"));
  EXPECT_EQ(FindOption(add, "--tz")->value.kind, ValueHint::Kind::kZone);
  EXPECT_EQ(FindOption(add, "--dir")->value.kind, ValueHint::Kind::kDirectory);
  EXPECT_TRUE(FindOption(add, "--env")->repeatable);
  // cron add's --user (a local user) shadows the common --user (etcd's).
  const CompletionOption* user = FindOption(add, "--user");
  EXPECT_EQ(user->value.kind, ValueHint::Kind::kUser);
  EXPECT_EQ(user->type, "USER");
  int users = 0;
  for (const CompletionOption& o : add.options) {
    for (const std::string& n : o.names) users += n == "--user";
  }
  EXPECT_EQ(users, 1);
  EXPECT_EQ(FindOption(tree[0], "--cacert")->value.kind,
            ValueHint::Kind::kFile);
  EXPECT_THAT(FindOption(tree[0], "--log-level")->value.words,
              ElementsAre("error", "warn", "info", "debug"));
  EXPECT_THAT(Find(tree, "completion")->arguments[0].value.words,
              ElementsAre("bash", "zsh"));
}

// Every word a completion offers is one the parser takes: parse `conch
// PATH --FLAG WORD` (or `conch PATH WORD` for an argument) and see that no
// check refused it. Other errors (a required flag missing) are fine: CLI11
// runs the checks first.
TEST(CompletionTreeTest, TheParserTakesEveryWordOffered) {
  int checked = 0;
  const std::vector<CompletionCommand> tree = [] {
    Conch conch;
    return DescribeCommands(conch.app, conch.runners);
  }();
  for (const CompletionCommand& c : tree) {
    std::vector<std::vector<std::string>> lines;
    for (const CompletionOption& o : c.options) {
      for (const std::string& word : o.value.words) {
        for (const std::string& name : o.names) {
          std::vector<std::string> line = c.path;
          line.push_back(name);
          line.push_back(word);
          lines.push_back(line);
        }
      }
    }
    if (c.arguments.size() == 1) {
      for (const std::string& word : c.arguments[0].value.words) {
        std::vector<std::string> line = c.path;
        line.push_back(word);
        lines.push_back(line);
      }
    }
    for (const std::vector<std::string>& line : lines) {
      Conch conch;
      std::vector<std::string> args = line;
      std::reverse(args.begin(), args.end());  // CLI11 takes them reversed
      try {
        conch.app.parse(args);
      } catch (const CLI::ValidationError& e) {
        ADD_FAILURE() << "conch " << absl::StrJoin(line, " ") << ": "
                      << e.what();
      } catch (const CLI::ConversionError& e) {
        ADD_FAILURE() << "conch " << absl::StrJoin(line, " ") << ": "
                      << e.what();
      } catch (const CLI::ParseError&) {
        // Something else is missing; the value itself was taken.
      }
      ++checked;
    }
  }
  // --overlap, --log-level and the shell at least.
  EXPECT_GE(checked, 2 + 4 * 12 + 2);
}

// A tree with one of each rule.
struct Sample {
  Sample() {
    app.fallthrough();
    app.add_option("--common", common)->type_name("DURATION");
    app.add_option("-o,--output", output)->type_name("FORMAT");
    app.add_option("--mode", mode)->type_name("fast|slow");
    app.add_option("--odd", odd)->type_name("a b|$(rm)");
    app.add_option("--pem", file)->type_name("FILE");
    sealed = app.add_subcommand("sealed", "does not fall through");
    sealed->fallthrough(false);
    sealed->add_flag("--own", flag, "its own flag");
    open = app.add_subcommand("open", "falls through; runs a command");
    open->add_option("--common", shadow, "shadows the parent's")
        ->type_name("DIR");
  }
  CLI::App app{"sample program", "samp-le"};
  std::string common, output, mode, odd, file, shadow;
  bool flag = false;
  CLI::App* sealed = nullptr;
  CLI::App* open = nullptr;
};

TEST(CompletionRulesTest, ValuesFromTheTableAndTheTypeName) {
  Sample s;
  const std::vector<CompletionCommand> tree = DescribeCommands(s.app, {});
  const CompletionOption* output = FindOption(tree[0], "--output");
  ASSERT_NE(output, nullptr);
  EXPECT_THAT(output->names, ElementsAre("-o", "--output"));
  EXPECT_THAT(output->value.words, ElementsAre("json", "wide", "table", "tsv"));
  EXPECT_THAT(FindOption(tree[0], "--mode")->value.words,
              ElementsAre("fast", "slow"));
  // Alternatives that are not plain words are not offered.
  EXPECT_EQ(FindOption(tree[0], "--odd")->value.kind,
            ValueHint::Kind::kNothing);
  EXPECT_EQ(FindOption(tree[0], "--pem")->value.kind, ValueHint::Kind::kFile);
}

TEST(CompletionRulesTest, OnlyFallthroughInheritsAndOwnFlagsShadow) {
  Sample s;
  const std::vector<CompletionCommand> tree = DescribeCommands(s.app, {s.open});
  const CompletionCommand& sealed = *Find(tree, "sealed");
  EXPECT_EQ(FindOption(sealed, "--common"), nullptr);
  EXPECT_NE(FindOption(sealed, "--own"), nullptr);
  const CompletionCommand& open = *Find(tree, "open");
  EXPECT_TRUE(open.runs_command);
  EXPECT_EQ(FindOption(open, "--common")->value.kind,
            ValueHint::Kind::kDirectory);
  EXPECT_NE(FindOption(open, "--mode"), nullptr);
}

TEST(CompletionScriptTest, BashScriptListsTheTree) {
  Conch conch;
  const std::string bash = BashCompletion(conch.app, conch.runners);
  EXPECT_THAT(bash, StartsWith("# bash completion for conch"));
  EXPECT_THAT(
      bash,
      AllOf(HasSubstr("    '') REPLY='elect sema cron status completion' ;;"),
            HasSubstr("    'cron') REPLY='add rm ls run logs next' ;;"),
            HasSubstr("    'cron add:--overlap')\n"
                      "      _conch_words \"$2\" allow skip\n"),
            HasSubstr("'cron add:--tz' | \\\n    'cron next:--tz')\n"
                      "      _conch_zones \"$2\"\n"),
            HasSubstr("    'cron add:--dir')\n      _conch_dirs \"$2\"\n"),
            HasSubstr("'completion:#1')\n      _conch_words \"$2\" bash zsh"),
            HasSubstr("    'cron add:--user')\n      _conch_users \"$2\""),
            HasSubstr("'elect') return 0 ;;"),
            HasSubstr("'cron add') return 0 ;;"),
            HasSubstr("complete -F _conch conch\n")));
  EXPECT_THAT(bash, Not(HasSubstr("'cron ls') return 0")));
}

TEST(CompletionScriptTest, BashScriptIsValidBash) {
  Sample s;
  for (const std::string& script :
       {BashCompletion(Conch().app, Conch().runners),
        BashCompletion(s.app, {s.open})}) {
    const std::string path =
        absl::StrCat(std::getenv("TEST_TMPDIR"), "/completion.bash");
    std::ofstream(path) << script;
    EXPECT_EQ(std::system(absl::StrCat("bash -n ", path).c_str()), 0) << script;
  }
}

TEST(CompletionScriptTest, ZshScriptIsANativeCompletionFunction) {
  Conch conch;
  const std::string zsh = ZshCompletion(conch.app, conch.runners);
  EXPECT_THAT(zsh, StartsWith("#compdef conch\n"));
  EXPECT_THAT(
      zsh,
      AllOf(
          HasSubstr("_conch_cron_add() {\n  __conch_command && return 0\n"
                    "  _arguments"),
          HasSubstr("'(--overlap)--overlap=[allow or skip a tick while the "
                    "previous run is still running]:allow|skip:(allow skip)'"),
          HasSubstr("'*--env=["), HasSubstr(":ZONE:_time_zone'"),
          HasSubstr(":FILE:_files'"), HasSubstr("'(- *)'{-h,--help}'["),
          HasSubstr("_describe -t subcommands 'conch cron subcommand'"),
          HasSubstr("'completion:print the bash or zsh completion script'"),
          HasSubstr("'1:bash|zsh:(bash zsh)'"),
          HasSubstr("        'add') _conch_cron_add && ret=0 ;;\n")));
  // Colons and brackets in texts are escaped for _arguments.
  EXPECT_THAT(zsh, HasSubstr("--user=[etcd user as NAME\\:PASSWORD, or NAME "
                             "with the password in...]:NAME[\\:PASSWORD]: '"));
  // An optional argument.
  EXPECT_THAT(zsh, HasSubstr("'1::NAME: '"));
  // Only the runners complete a command after --.
  EXPECT_THAT(zsh, Not(HasSubstr("_conch_status() {\n  __conch_command")));
}

TEST(CompletionScriptTest, KnowsTwoShells) {
  Conch conch;
  EXPECT_TRUE(CompletionScript(conch.app, conch.runners, "bash").ok());
  EXPECT_TRUE(CompletionScript(conch.app, conch.runners, "zsh").ok());
  absl::StatusOr<std::string> fish =
      CompletionScript(conch.app, conch.runners, "fish");
  EXPECT_EQ(fish.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(fish.status().message(), HasSubstr("bash or zsh"));
}

}  // namespace
}  // namespace conch
