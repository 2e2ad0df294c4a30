// The parsing half of common_flags.h: ParseCommandLine and the messages of
// a bad command line, in conch's words.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "conch/common_flags.h"
#include "conch/exit_codes.h"
#include "conch/flag_text.h"
#include "conch/help_formatter.h"

namespace conch {
namespace {

using flag_text::After;
using flag_text::BadValue;
using flag_text::Quote;

void Prepare(CLI::App& app, const std::shared_ptr<HelpFormatter>& formatter) {
  app.formatter(formatter);
  for (CLI::Option* o : app.get_options()) {
    if (o->get_items_expected_max() == 0) o->disable_flag_override();
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    Prepare(*sub, formatter);
  }
}

// ---- Where a value came from ----

// An option that falls back to an environment variable. ParseCommandLine
// takes the variables off the options while CLI11 parses, and applies
// them itself afterwards: so it knows that a bad value came from the
// variable, not from a flag the user never typed.
struct EnvBinding {
  CLI::Option* option;
  const CLI::App* owner;
  std::string variable;
};

void TakeEnvNames(CLI::App& app, std::vector<EnvBinding>* out) {
  for (CLI::Option* o : app.get_options()) {
    if (o->get_envname().empty()) continue;
    out->push_back(EnvBinding{o, &app, o->get_envname()});
    o->envname("");
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    TakeEnvNames(*sub, out);
  }
}

// Gives the variables back to the options (for the help pages) when it
// goes out of scope, or at Restore().
class EnvNames {
 public:
  explicit EnvNames(CLI::App& app) { TakeEnvNames(app, &bindings_); }
  ~EnvNames() { Restore(); }
  void Restore() {
    for (const EnvBinding& b : bindings_) b.option->envname(b.variable);
  }
  const std::vector<EnvBinding>& bindings() const { return bindings_; }

 private:
  std::vector<EnvBinding> bindings_;
};

// What a CheckValues check says, from CLI11's "<option>: <message>".
std::string CheckMessage(const CLI::ValidationError& e) {
  const std::string what = e.what();
  const size_t colon = what.find(": ");
  if (colon == std::string::npos) return what;
  std::string message = what.substr(colon + 2);
  if (!absl::StartsWith(message, "invalid ")) {
    // Not one of ours: "invalid <option>: <CLI11's words>".
    message = absl::StrCat("invalid ", what);
  }
  return message;
}

// Sets the options not given on the command line from their variables;
// the message for the first bad value, naming its variable.
std::optional<std::string> ApplyEnvironment(
    const std::vector<EnvBinding>& bindings) {
  for (const EnvBinding& b : bindings) {
    if (b.option->count() > 0) continue;
    if (b.owner->get_parent() != nullptr && !b.owner->parsed()) continue;
    const char* value = std::getenv(b.variable.c_str());
    // Like CLI11: an empty variable is an unset one.
    if (value == nullptr || *value == '\0') continue;
    b.option->add_result(value);
    try {
      b.option->run_callback();
    } catch (const CLI::ValidationError& e) {
      // "invalid --ttl ..." names the variable instead.
      return absl::StrCat(
          "invalid ", b.variable,
          After(CheckMessage(e),
                absl::StrCat("invalid ", b.option->get_name())));
    } catch (const CLI::ParseError&) {
      return absl::StrCat("invalid ", b.variable, " ", Quote(value));
    }
  }
  return std::nullopt;
}

// ---- Parse errors in conch's words ----

// The most specific subcommand parsed (`app` itself if none).
const CLI::App& Deepest(const CLI::App& app) {
  const CLI::App* at = &app;
  while (true) {
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : at->get_subcommands()) {
      if (sub->get_parent() == at) next = sub;
    }
    if (next == nullptr) return *at;
    at = next;
  }
}

// "elect", "cron add": the path of `app` below the program.
std::string SubcommandPath(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* a = &app; a->get_parent() != nullptr;
       a = a->get_parent()) {
    names.insert(names.begin(), a->get_name());
  }
  return absl::StrJoin(names, " ");
}

// "a, b and c".
std::string Enumerate(const std::vector<std::string>& words) {
  if (words.size() < 2) return absl::StrJoin(words, "");
  return absl::StrCat(absl::StrJoin(words.begin(), words.end() - 1, ", "),
                      " and ", words.back());
}

std::vector<std::string> SubcommandNames(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands(
           [](const CLI::App* s) { return !s->get_name().empty(); })) {
    names.push_back(sub->get_name());
  }
  return names;
}

std::string FullPath(const CLI::App& app) {
  const CLI::App* root = &app;
  while (root->get_parent() != nullptr) root = root->get_parent();
  const std::string below = SubcommandPath(app);
  return below.empty() ? root->get_name()
                       : absl::StrCat(root->get_name(), " ", below);
}

bool IsRunner(const CLI::App& app,
              const std::vector<const CLI::App*>& runners) {
  return std::find(runners.begin(), runners.end(), &app) != runners.end();
}

bool LooksLikeNumber(absl::string_view word) {
  double unused;
  return absl::SimpleAtod(word, &unused);
}

// A word nothing took: an unknown flag or subcommand, or an argument too
// many.
std::string Unexpected(const std::string& word, const CLI::App& at,
                       const std::vector<const CLI::App*>& runners) {
  if (word.size() > 1 && word[0] == '-' && !LooksLikeNumber(word)) {
    // "--name=value": the name.
    const std::string flag =
        absl::StartsWith(word, "--") ? word.substr(0, word.find('=')) : word;
    return absl::StrCat("unknown flag ", Quote(flag));
  }
  const std::vector<std::string> subs = SubcommandNames(at);
  if (!subs.empty() && at.get_subcommands().empty()) {
    return absl::StrCat("unknown subcommand ", Quote(word), ": ", FullPath(at),
                        " has ", Enumerate(subs));
  }
  if (IsRunner(at, runners)) {
    return absl::StrCat("unexpected argument ", Quote(word),
                        ": put -- before the command");
  }
  if (at.get_options([](const CLI::Option* o) {
          return o->get_positional();
        }).empty()) {
    return absl::StrCat("unexpected argument ", Quote(word), ": ", FullPath(at),
                        " takes no arguments");
  }
  return absl::StrCat("unexpected argument ", Quote(word));
}

// The option named `name` in `at` or its parents.
const CLI::Option* FindOption(const CLI::App& at, const std::string& name) {
  for (const CLI::App* a = &at; a != nullptr; a = a->get_parent()) {
    if (const CLI::Option* o = a->get_option_no_throw(name)) return o;
  }
  return nullptr;
}

// `e` in conch's words, without the program name and the hint.
std::string Describe(const CLI::ParseError& e, const CLI::App& root,
                     const std::vector<const CLI::App*>& runners) {
  const CLI::App& at = Deepest(root);
  const std::string what = e.what();
  const bool required = dynamic_cast<const CLI::RequiredError*>(&e) != nullptr;
  if (required || dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    // A word nothing took explains a missing subcommand or argument best.
    const std::vector<std::string> extra = root.remaining(true);
    if (!extra.empty()) return Unexpected(extra.front(), at, runners);
  }
  if (const auto* v = dynamic_cast<const CLI::ValidationError*>(&e)) {
    return CheckMessage(*v);
  }
  if (required) {
    if (absl::StartsWith(what, "A subcommand") ||
        absl::StartsWith(what, "Requires at least")) {
      return absl::StrCat("no subcommand given: ", FullPath(at), " has ",
                          Enumerate(SubcommandNames(at)));
    }
    if (absl::string_view name = what;
        absl::ConsumeSuffix(&name, " is required")) {
      const CLI::Option* o = FindOption(at, std::string(name));
      if (o != nullptr && o->get_positional()) {
        return absl::StrCat("the ", name, " is required");
      }
      return absl::StrCat(name, " is required");
    }
  }
  if (dynamic_cast<const CLI::ExcludesError*>(&e) != nullptr) {
    // "A excludes B"
    const std::pair<std::string, std::string> ab =
        absl::StrSplit(what, absl::MaxSplits(" excludes ", 1));
    if (!ab.second.empty()) {
      // --who (elect, sema) only looks; the flags it excludes act.
      if (ab.first == "--who") {
        return absl::StrCat("--who only looks: it does not go with ",
                            ab.second);
      }
      return absl::StrCat(ab.first, " does not go with ", ab.second);
    }
  }
  if (dynamic_cast<const CLI::RequiresError*>(&e) != nullptr) {
    // "A requires B"
    const std::pair<std::string, std::string> ab =
        absl::StrSplit(what, absl::MaxSplits(" requires ", 1));
    if (!ab.second.empty()) {
      return absl::StrCat(ab.first, " needs ", ab.second);
    }
  }
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr) {
    const size_t colon = what.find(": ");
    const std::string name = what.substr(0, colon);
    if (absl::StrContains(what, ": At Most ")) {
      return absl::StrCat(name, " given more than once");
    }
    if (absl::string_view flag = what;
        absl::ConsumeSuffix(&flag, " was given a disallowed flag override")) {
      // CLI11 names the flag without its dashes.
      const CLI::Option* o = FindOption(at, absl::StrCat("--", flag));
      if (o == nullptr) o = FindOption(at, absl::StrCat("-", flag));
      return absl::StrCat(o == nullptr ? std::string(flag) : o->get_name(),
                          " takes no value");
    }
    if (colon != std::string::npos && absl::EndsWith(what, " missing")) {
      // "--ttl: 1 required DURATION missing"
      const CLI::Option* o = FindOption(at, name);
      const std::string type = o == nullptr ? "" : o->get_type_name();
      return absl::StrCat(name, " needs a value",
                          type.empty() ? "" : absl::StrCat(" (", type, ")"));
    }
    if (absl::StrContains(what, ": At least ")) {
      return absl::StrCat(name, " needs a value");
    }
  }
  if (dynamic_cast<const CLI::ConversionError*>(&e) != nullptr) {
    // "Could not convert: --raw = abc"
    if (absl::string_view rest = what;
        absl::ConsumePrefix(&rest, "Could not convert: ")) {
      const std::pair<std::string, std::string> nv =
          absl::StrSplit(rest, absl::MaxSplits(" = ", 1));
      const CLI::Option* o = FindOption(at, nv.first);
      if (o != nullptr && o->get_items_expected_max() == 0) {
        return absl::StrCat(nv.first, " takes no value");
      }
      return absl::StrCat("invalid ", nv.first, " ", Quote(nv.second));
    }
    const size_t colon = what.find(": ");
    if (colon != std::string::npos &&
        (absl::EndsWith(what, "too many inputs for a flag") ||
         absl::EndsWith(what, "Should be true/false or a number"))) {
      return absl::StrCat(what.substr(0, colon), " takes no value");
    }
  }
  return what;
}

// The first option of `app` or of its parsed subcommands that was given an
// empty value. An empty value is never taken as absent: `--cacert ''`
// would silently mean plaintext, `--user ''` no authentication.
std::optional<std::string> EmptyValue(const CLI::App& app) {
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_expected_min() == 0 || opt->count() == 0) continue;
    for (const std::string& value : opt->results()) {
      if (value.empty()) return opt->get_name();
    }
  }
  for (const CLI::App* sub : app.get_subcommands()) {
    if (std::optional<std::string> empty = EmptyValue(*sub)) return empty;
  }
  return std::nullopt;
}
}  // namespace

// ---- Parsing ----

std::string CommandPath(const CLI::App& app) { return FullPath(Deepest(app)); }

int UsageError(const CLI::App& app, absl::string_view message) {
  std::cerr << app.get_name() << ": " << OneLine(message) << " (see "
            << OneLine(CommandPath(app)) << " --help)\n";
  return kExitUsage;
}

int ReportUsage(const CLI::App& app, const absl::Status& status) {
  if (ExitCodeFor(status) != kExitUsage) return ReportFailure(status);
  return UsageError(app, status.message());
}

std::optional<int> ParseCommandLine(
    CLI::App& app, int argc, char** argv, std::vector<std::string>* command,
    const std::vector<const CLI::App*>& runners) {
  Prepare(app, std::make_shared<HelpFormatter>(runners, kCommonFlagsGroup));
  // Everything after the first "--" is the command, untouched.
  int head = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") {
      head = i;
      break;
    }
  }
  if (head < argc && command != nullptr) {
    command->assign(argv + head + 1, argv + argc);
  }
  std::vector<char*> args(argv, argv + head);
  EnvNames env(app);
  try {
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::Success& e) {  // --help, --version
    env.Restore();
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return UsageError(app, Describe(e, app, runners));
  }
  if (std::optional<std::string> bad = ApplyEnvironment(env.bindings())) {
    return UsageError(app, *bad);
  }
  if (std::optional<std::string> empty = EmptyValue(app)) {
    return UsageError(
        app, absl::StrCat("invalid ", *empty, " \"\": the value is empty"));
  }
  if (head < argc && (command == nullptr || !IsRunner(Deepest(app), runners))) {
    std::vector<std::string> names;
    for (const CLI::App* r : runners) names.push_back(SubcommandPath(*r));
    return UsageError(
        app,
        absl::StrCat(
            "unexpected \"--\": ", CommandPath(app), " runs no command",
            names.empty() ? ""
                          : absl::StrCat("; only ", Enumerate(names),
                                         names.size() == 1 ? " runs" : " run",
                                         " a command after --")));
  }
  return std::nullopt;
}

absl::Status NameVariables(const CLI::App& app, const absl::Status& status,
                           const std::vector<std::string>& flags) {
  std::vector<std::string> sources;
  for (const std::string& flag : flags) {
    const CLI::Option* o = FindOption(Deepest(app), flag);
    if (o == nullptr || o->get_envname().empty() || o->count() != 1) continue;
    const char* value = std::getenv(o->get_envname().c_str());
    if (value == nullptr || o->results().front() != value) continue;
    sources.push_back(absl::StrCat(o->get_envname(), " ", Quote(value)));
  }
  if (status.ok() || sources.empty()) return status;
  return absl::Status(status.code(),
                      absl::StrCat("invalid ", absl::StrJoin(sources, " with "),
                                   ": ", status.message()));
}

}  // namespace conch
