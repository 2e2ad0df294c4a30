#include "conch/common_flags.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <memory>
#include <set>
#include <sstream>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "conch/exit_codes.h"
#include "conch/help_formatter.h"
#include "core/base/duration.h"
#include "core/base/log.h"
#include "core/etcd/endpoint.h"
#include "core/etcd/pem_file.h"
#include "core/records/names.h"

namespace conch {
namespace {

// A value longer than this is shown cut short in a message.
constexpr size_t kShownBytes = 80;

// `value` in double quotes, cut short (at a UTF-8 boundary) when long. The
// caller escapes control characters (OneLine) when it prints.
std::string Quote(absl::string_view value) {
  if (value.size() <= kShownBytes) return absl::StrCat("\"", value, "\"");
  size_t cut = kShownBytes;
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xc0) == 0x80) {
    --cut;
  }
  return absl::StrCat("\"", value.substr(0, cut), "\"... (", value.size(),
                      " bytes)");
}

std::string BadValue(absl::string_view label, absl::string_view value,
                     absl::string_view why, bool show_value) {
  if (!show_value) return absl::StrCat("invalid ", label, ": ", why);
  return absl::StrCat("invalid ", label, " ", Quote(value), ": ", why);
}

// `message` without `prefix`, or all of it if it does not start so.
std::string After(absl::string_view message, absl::string_view prefix) {
  absl::ConsumePrefix(&message, prefix);
  return std::string(message);
}

std::string WhyNotEndpoints(const std::string& text) {
  absl::StatusOr<std::vector<Endpoint>> eps = ParseEndpoints(text);
  if (eps.ok()) return "";
  // "invalid endpoint \"x\": why" (the endpoint's credentials redacted).
  return After(eps.status().message(), "invalid ");
}

std::string WhyNotPrefix(const std::string& text) {
  return text.back() == '/' ? "" : "must end in /";
}

std::string WhyNotUser(const std::string& text) {
  return text.front() == ':' ? "the user name is empty" : "";
}

WhyNot WhyNotPemFile(etcd::PemKind kind) {
  return [kind](const std::string& path) -> std::string {
    absl::StatusOr<std::string> pem = etcd::ReadPemFile("F", path, kind);
    if (pem.ok()) return "";
    // "F file \"<path>\" is not a regular file"
    return After(pem.status().message(),
                 absl::StrCat("F file \"", absl::CHexEscape(path), "\" "));
  };
}

std::string WhyNotLogLevel(const std::string& text) {
  return ParseLogLevel(text).ok() ? "" : "must be error, warn, info or debug";
}

// Installs the formatter on `app` and its subcommands, and makes every
// flag refuse a value: CLI11 would take "--json=2x" for true.
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

absl::Status Invalid(absl::string_view label, absl::string_view value,
                     absl::string_view why, bool show_value = true) {
  return absl::InvalidArgumentError(BadValue(label, value, why, show_value));
}

}  // namespace

// ---- Checks ----

std::string WhyNotDuration(absl::string_view text, absl::Duration min,
                           absl::Duration max) {
  absl::StatusOr<absl::Duration> d = ParseDuration("value", text);
  if (!d.ok()) {
    const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
    absl::Duration parsed;
    if (trimmed.empty() || !absl::ParseDuration(trimmed, &parsed) ||
        (trimmed != "0" && !absl::ascii_isalpha(trimmed.back()))) {
      return "not a duration such as 500ms, 10s, 2m or 1h30m";
    }
    if (parsed == absl::InfiniteDuration() ||
        parsed == -absl::InfiniteDuration()) {
      return "must be finite";
    }
    if (parsed < absl::ZeroDuration()) return "must not be negative";
    return After(d.status().message(),
                 absl::StrCat("invalid value \"", text, "\": "));
  }
  if (*d < min) {
    if (min == absl::Nanoseconds(1)) return "must be positive";
    return absl::StrCat("must be at least ", absl::FormatDuration(min));
  }
  if (*d > max) {
    return absl::StrCat("must be at most ", absl::FormatDuration(max));
  }
  return "";
}

std::string WhyNotWholeNumber(absl::string_view text, int64_t min,
                              int64_t max) {
  absl::string_view digits = text;
  absl::ConsumePrefix(&digits, "-");
  const bool whole = !digits.empty() &&
                     std::all_of(digits.begin(), digits.end(),
                                 [](char c) { return absl::ascii_isdigit(c); });
  if (!whole) return "not a whole number";
  int64_t n = 0;
  if (!absl::SimpleAtoi(text, &n) || n < min || n > max) {
    return absl::StrCat("must be from ", min, " to ", max);
  }
  return "";
}

std::string WhyNotName(absl::string_view name) {
  if (name.size() < kMinNameBytes || name.size() > kMaxNameBytes) {
    return absl::StrCat("must be ", kMinNameBytes, " to ", kMaxNameBytes,
                        " bytes (it has ", name.size(), ")");
  }
  absl::StatusOr<std::string> encoded = EncodeName(name);
  return encoded.ok() ? "" : std::string(encoded.status().message());
}

std::string WhyNotNewName(absl::string_view name) {
  if (std::string why = WhyNotName(name); !why.empty()) return why;
  if (CheckNewName(name).ok()) return "";
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f) {
      return absl::StrFormat("has a control character (byte 0x%02x at %d)", c,
                             i);
    }
  }
  return std::string(CheckNewName(name).message());
}

void CheckValues(CLI::Option* opt, WhyNot why_not, const std::string& label,
                 bool show_value) {
  const std::string name = label.empty() ? opt->get_name() : label;
  opt->check(
      [name, why_not = std::move(why_not),
       show_value](const std::string& value) -> std::string {
        const std::string why =
            value.empty() ? "the value is empty" : why_not(value);
        if (why.empty()) return why;
        return BadValue(name, value, why, show_value);
      },
      "", "conch");
}

void CheckWholeNumbers(CLI::Option* opt, WhyNot why_not) {
  CheckValues(opt, std::move(why_not));
  // Runs before the check (CLI11 puts transforms first): a whole number
  // "010" becomes 10, not CLI11's octal 8; anything else stays as it is.
  opt->transform(
      [](std::string value) {
        int64_t n = 0;
        if (WhyNotWholeNumber(value, std::numeric_limits<int64_t>::min(),
                              std::numeric_limits<int64_t>::max())
                .empty() &&
            absl::SimpleAtoi(value, &n)) {
          return absl::StrCat(n);
        }
        return value;
      },
      "", "decimal");
}

// ---- Flags ----

void AddCommonFlags(CLI::App& app, CommonFlags* f) {
  auto common = [&app](CLI::Option* o, const char* type,
                       const char* env) -> CLI::Option* {
    o->group(kCommonFlagsGroup);
    if (type != nullptr) o->type_name(type);
    if (env != nullptr) o->envname(env);
    return o;
  };
  CheckValues(
      common(app.add_option("--endpoints", f->endpoints,
                            "etcd client URLs, comma-separated: host:port, "
                            "http://, https://, unix://PATH (default "
                            "127.0.0.1:2379)"),
             "URLS", "CONCH_ENDPOINTS"),
      WhyNotEndpoints, "", /*show_value=*/false);
  CheckValues(common(app.add_option("--prefix", f->prefix,
                                    "key prefix of everything conch writes, "
                                    "ending in / (default /conch/)"),
                     "PREFIX", "CONCH_PREFIX"),
              WhyNotPrefix);
  CheckValues(
      common(app.add_option("--ttl", f->ttl,
                            "lease TTL, 1s to 8760h; keepalive every TTL/3 "
                            "(default 10s)"),
             "DURATION", "CONCH_TTL"),
      [](const std::string& v) {
        return WhyNotDuration(v, absl::Seconds(1), kMaxTtl);
      });
  CheckValues(
      common(app.add_option("--kill-after", f->kill_after,
                            "grace between SIGTERM and SIGKILL of the child's "
                            "group (default 2s); on a lost lease SIGTERM "
                            "comes this + 100ms before the lease's deadline, "
                            "so it must be under TTL - TTL/3 - 100ms"),
             "DURATION", "CONCH_KILL_AFTER"),
      [](const std::string& v) {
        return WhyNotDuration(v, absl::ZeroDuration());
      });
  CheckValues(common(app.add_option("--dial-timeout", f->dial_timeout,
                                    "give up connecting to etcd after this "
                                    "(default 5s)"),
                     "DURATION", "CONCH_DIAL_TIMEOUT"),
              [](const std::string& v) {
                return WhyNotDuration(v, absl::Nanoseconds(1), kMaxTtl);
              });
  CheckValues(common(app.add_option("--cacert", f->cacert,
                                    "CA bundle to verify etcd (PEM)"),
                     "FILE", "CONCH_CACERT"),
              WhyNotPemFile(etcd::PemKind::kCertificates));
  CheckValues(common(app.add_option("--cert", f->cert,
                                    "client certificate (PEM), with --key"),
                     "FILE", "CONCH_CERT"),
              WhyNotPemFile(etcd::PemKind::kCertificates));
  CheckValues(common(app.add_option("--key", f->key,
                                    "client private key (PEM), with --cert"),
                     "FILE", "CONCH_KEY"),
              WhyNotPemFile(etcd::PemKind::kPrivateKey));
  CheckValues(common(app.add_option("--user", f->user,
                                    "etcd user as NAME:PASSWORD, or NAME with "
                                    "the password in $CONCH_PASSWORD"),
                     "NAME[:PASSWORD]", "CONCH_USER"),
              WhyNotUser, "", /*show_value=*/false);
  common(app.add_flag("--json", f->json,
                      "machine-readable output (status, --who, cron ls)"),
         nullptr, nullptr);
  CheckValues(common(app.add_option("--log-level", f->log_level,
                                    "diagnostics on stderr: error, warn "
                                    "(default), info, debug"),
                     "LEVEL", "CONCH_LOG"),
              WhyNotLogLevel);
  common(app.add_flag("-v", f->verbose, "more diagnostics (repeat for debug)"),
         nullptr, nullptr);
}

CLI::Option* AddNameArgument(CLI::App& sub, std::string* name,
                             const std::string& what, bool new_name,
                             bool required) {
  CLI::Option* o =
      sub.add_option("name", *name,
                     absl::StrCat("the ", what, "'s name: 1 to 256 bytes",
                                  new_name ? ", no control characters" : ""))
          ->type_name("NAME");
  if (required) o->required();
  CheckValues(o, new_name ? WhyNot(WhyNotNewName) : WhyNot(WhyNotName),
              absl::StrCat(what, " name"));
  return o;
}

void CheckCampaignFlags(CLI::App& sub, CLI::Option* who) {
  CLI::Option* nonblock = sub.get_option_no_throw("--nonblock");
  CLI::Option* timeout = sub.get_option_no_throw("--timeout");
  CLI::Option* restart = sub.get_option_no_throw("--restart");
  CLI::Option* reset = sub.get_option_no_throw("--restart-reset");
  if (timeout != nullptr) {
    CheckValues(timeout->type_name("DURATION"), [](const std::string& v) {
      return WhyNotDuration(v, absl::ZeroDuration());
    });
  }
  if (reset != nullptr) {
    CheckValues(reset->type_name("DURATION"), [](const std::string& v) {
      return WhyNotDuration(v, absl::Nanoseconds(1));
    });
  }
  if (nonblock != nullptr && timeout != nullptr) nonblock->excludes(timeout);
  for (CLI::Option* acting : {nonblock, timeout, restart}) {
    if (who != nullptr && acting != nullptr) who->excludes(acting);
  }
}

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

// ---- Validation ----

absl::Time CommonOptions::CallDeadline() const {
  return absl::Now() + connection.dial_timeout;
}

absl::StatusOr<CommonOptions> Resolve(const CommonFlags& f) {
  CommonOptions o;
  absl::StatusOr<std::vector<Endpoint>> eps = ParseEndpoints(f.endpoints);
  if (!eps.ok()) return eps.status();
  o.connection.endpoints = *std::move(eps);

  if (std::string why = WhyNotDuration(f.ttl, absl::Seconds(1), kMaxTtl);
      !why.empty()) {
    return Invalid("--ttl", f.ttl, why);
  }
  o.ttl = *ParseDuration("--ttl", f.ttl);
  if (std::string why = WhyNotDuration(f.kill_after, absl::ZeroDuration());
      !why.empty()) {
    return Invalid("--kill-after", f.kill_after, why);
  }
  o.kill_after = *ParseDuration("--kill-after", f.kill_after);
  if (std::string why =
          WhyNotDuration(f.dial_timeout, absl::Nanoseconds(1), kMaxTtl);
      !why.empty()) {
    return Invalid("--dial-timeout", f.dial_timeout, why);
  }
  o.connection.dial_timeout = *ParseDuration("--dial-timeout", f.dial_timeout);

  if (f.prefix.empty())
    return Invalid("--prefix", f.prefix, "the value is empty");
  if (std::string why = WhyNotPrefix(f.prefix); !why.empty()) {
    return Invalid("--prefix", f.prefix, why);
  }
  o.prefix = f.prefix;

  o.connection.ca_file = f.cacert;
  o.connection.cert_file = f.cert;
  o.connection.key_file = f.key;
  if (f.cert.empty() != f.key.empty()) {
    return absl::InvalidArgumentError(
        "--cert and --key (CONCH_CERT and CONCH_KEY) must be given together");
  }

  if (!f.user.empty()) {
    const size_t colon = f.user.find(':');
    if (colon == std::string::npos) {
      const char* password = std::getenv("CONCH_PASSWORD");
      if (password == nullptr) {
        return absl::InvalidArgumentError(
            "the etcd user (--user or CONCH_USER) has no password: use "
            "NAME:PASSWORD or set CONCH_PASSWORD");
      }
      o.connection.user = f.user;
      o.connection.password = password;
    } else {
      o.connection.user = f.user.substr(0, colon);
      o.connection.password = f.user.substr(colon + 1);
    }
    if (o.connection.user.empty()) {
      return Invalid("--user", f.user, "the user name is empty",
                     /*show_value=*/false);
    }
  }
  o.json = f.json;

  absl::StatusOr<LogLevel> level = ParseLogLevel(f.log_level);
  if (!level.ok()) {
    return Invalid("--log-level", f.log_level, WhyNotLogLevel(f.log_level));
  }
  int verbosity = static_cast<int>(*level) + f.verbose;
  if (verbosity > static_cast<int>(LogLevel::kDebug)) {
    verbosity = static_cast<int>(LogLevel::kDebug);
  }
  SetLogLevel(static_cast<LogLevel>(verbosity));
  return o;
}

}  // namespace conch
