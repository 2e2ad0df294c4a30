// The flags every conch subcommand and conchd share (spec 00), with their
// CONCH_* environment fallbacks; the checks of single flag values; and the
// parsing of a command line into one-line messages in conch's own words.
//
// AddCommonFlags registers the flags on a CLI11 app (CLI11 stays inside
// conch/); CheckValues attaches a check to any flag or argument, so that a
// bad value stops the parse; ParseCommandLine parses and turns every CLI11
// error into one line in conch's words, naming the variable when the value
// came from the environment, and the help page of the subcommand being
// parsed:
//   conch: invalid --history "abc": not a whole number (see conch cron ls
//          --help)
//   conch: invalid CONCH_TTL "garbage": not a duration ... (see conch elect
//          --help)
// (each one line; cut here).
//
// (Parsing lives in command_line.cc, the flags and checks in
// common_flags.cc.)
//
// Resolve validates the values once more and turns them into options for
// the etcd client (one-line InvalidArgument errors, exit 64). Nothing here
// touches etcd.
//
// Thread-compatible value types; the parsing runs on the main thread.
//
// Example:
//   CommonFlags flags;
//   AddCommonFlags(app, &flags);
//   if (std::optional<int> done = ParseCommandLine(app, argc, argv, &cmd,
//                                                  {run})) {
//     return *done;  // 0 after --help, 64 after a bad command line
//   }
//   absl::StatusOr<CommonOptions> opts = Resolve(flags);
//   if (!opts.ok()) return ReportUsage(app, opts.status());
//   absl::StatusOr<std::unique_ptr<etcd::Connection>> conn =
//       etcd::Connection::Dial(opts->connection);
#ifndef CONCH_CONCH_COMMON_FLAGS_H_
#define CONCH_CONCH_COMMON_FLAGS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "conch/output.h"
#include "core/etcd/connection.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace conch {

// Raw flag values as typed (or taken from the environment).
struct CommonFlags {
  std::string endpoints = "127.0.0.1:2379";
  std::string prefix = "/conch/";
  std::string ttl = "10s";
  std::string kill_after = "2s";
  std::string dial_timeout = "5s";
  std::string cacert;
  std::string cert;
  std::string key;
  std::string user;
  bool json = false;
  std::string output;     // -o, --output
  std::string write_out;  // -w, --write-out (etcdctl's name for -o)
  std::string log_level = "warn";
  int verbose = 0;
};

// Validated values.
struct CommonOptions {
  etcd::ConnectionOptions connection;
  std::string prefix;
  absl::Duration ttl;
  absl::Duration kill_after;
  OutputFormat output = OutputFormat::kAuto;
  bool json = false;  // output == kJson

  // The deadline of one etcd call made now: --dial-timeout from now.
  absl::Time CallDeadline() const;
};

// Registers --json, -o/--output and -w/--write-out (group
// kCommonFlagsGroup): the output format of conch's printing commands
// (conch/output.h). Not for conchd, which prints no results.
void AddOutputFlags(CLI::App& app, CommonFlags* flags);

// The longest --ttl (and --dial-timeout) accepted.
inline constexpr absl::Duration kMaxTtl = absl::Hours(24 * 365);

// The help group of the common flags; the help page of every subcommand
// lists its parents' flags of this group too.
inline constexpr char kCommonFlagsGroup[] = "Common flags";

// Registers the common flags (group kCommonFlagsGroup), each with its type
// (DURATION, FILE, URLS, ...), its variable and its check (CheckValues).
void AddCommonFlags(CLI::App& app, CommonFlags* flags);

// Why a value is refused: "" when it is fine, otherwise the reason, without
// the value ("not a whole number", "must be from 1 to 64").
using WhyNot = std::function<std::string(const std::string& value)>;

// Makes the parse refuse a value of `opt` that `why_not` refuses, with the
// message `invalid <label> "<value>": <reason>` (`invalid <label>:
// <reason>` when `show_value` is false: an endpoint or a --user may hold a
// password). `label` defaults to the option's name; when the value came
// from the option's environment variable, ParseCommandLine names the
// variable instead. An empty value is always refused ("the value is
// empty"); a long value is shown cut short.
void CheckValues(CLI::Option* opt, WhyNot why_not,
                 const std::string& label = "", bool show_value = true);

// CheckValues for an option that CLI11 converts to an integer: a value
// `why_not` lets through (WhyNotWholeNumber) is passed on in plain decimal
// (CLI11 would read "010" as octal 8, and refuse "08").
void CheckWholeNumbers(CLI::Option* opt, WhyNot why_not);

// Reasons for the usual kinds of value; "" when `text` is fine.
//
// A duration in absl's syntax ("500ms", "10s", "1h30m"; a bare number
// other than "0" has no unit and is refused), from `min` to `max`
// (min 0: not negative; min 1ns: positive). Accepts exactly what
// ParseDuration (core/base/duration.h) accepts within the bounds.
std::string WhyNotDuration(absl::string_view text, absl::Duration min,
                           absl::Duration max = absl::InfiniteDuration());
// A whole number (digits, maybe a leading '-') from `min` to `max`.
std::string WhyNotWholeNumber(absl::string_view text, int64_t min, int64_t max);
// A name for a new office, semaphore or job: 1 to 256 bytes, no control
// characters (CheckNewName in core/records/names.h).
std::string WhyNotNewName(absl::string_view name);
// A name to look up (maybe stored before control characters were
// refused): 1 to 256 bytes.
std::string WhyNotName(absl::string_view name);

// Registers the NAME argument of `sub` (type NAME): `what` names it in the
// help and in messages ("office" gives "invalid office name ..."). With
// `new_name`, control characters are refused too (WhyNotNewName).
CLI::Option* AddNameArgument(CLI::App& sub, std::string* name,
                             const std::string& what, bool new_name,
                             bool required = true);

// Completes the flags AddCampaignFlags (conch/campaign.h) registered on
// `sub` (elect, sema): their types and checks, --nonblock and --timeout
// exclude each other, and `who` (--who, which only looks) excludes
// --nonblock, --timeout and --restart.
void CheckCampaignFlags(CLI::App& sub, CLI::Option* who);

// Parses the command line of `app` (named "conch" or "conchd"); CLI11's
// exceptions stay in here. The command a wrapper runs starts only after
// the first "--": what follows goes to `*command` as it is and is never
// read as a flag of conch's. Only the subcommands in `runners` run a
// command: after any other (and always with `command` null) a "--" is an
// error.
//
// Returns nullopt to go on, or the exit code: 0 after --help or --version
// (printed on stdout), 64 after a bad command line, with one line on
// stderr, "<name>: <what is wrong> (see <name> <subcommand> --help)",
// naming the most specific subcommand parsed. A value taken from an
// environment variable (an option's envname) that fails its check is
// reported naming the variable. A word left over before "--" after a
// runner gets the hint to put "--" before the command. Also installs the
// help formatter: every page lists the parents' common flags, and a
// runner's usage line ends in "-- COMMAND [ARG...]".
std::optional<int> ParseCommandLine(
    CLI::App& app, int argc, char** argv, std::vector<std::string>* command,
    const std::vector<const CLI::App*>& runners = {});

// "conch cron add": the program and the subcommands parsed, the most
// specific last.
std::string CommandPath(const CLI::App& app);

// Prints "<program>: <message> (see <CommandPath> --help)" on one line
// (OneLine) and returns 64.
int UsageError(const CLI::App& app, absl::string_view message);

// A failure found after parsing (Resolve): a usage error (exit 64) is
// printed as UsageError does, anything else as ReportFailure does.
// Returns the exit code.
int ReportUsage(const CLI::App& app, const absl::Status& status);

// `status` (a failure found after parsing that is about `flags`, such as
// CheckStopBudget's about --kill-after and --ttl), naming the environment
// variables the flags' values came from when any did: "invalid
// CONCH_KILL_AFTER \"20s\": <message>". A value equal to its variable's
// counts as coming from it.
absl::Status NameVariables(const CLI::App& app, const absl::Status& status,
                           const std::vector<std::string>& flags);

// Validates `flags`. The password comes from --user NAME:PASSWORD or, when
// --user has no ':', from $CONCH_PASSWORD.
absl::StatusOr<CommonOptions> Resolve(const CommonFlags& flags);

}  // namespace conch

#endif  // CONCH_CONCH_COMMON_FLAGS_H_
