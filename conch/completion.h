// Shell completion scripts for conch, generated from the CLI11 App tree that
// ParseCommandLine parses with, so that what completes is what the parser
// takes: the subcommands at each level, the flags of each level (the
// parents' flags too, where CLI11 lets a subcommand fall through to its
// parent, which is how conch's common flags work after the subcommand),
// which flags take a value, and the values conch knows without asking etcd.
//
// Contract:
//   * DescribeCommands() flattens the tree into one CompletionCommand per
//     subcommand level (the program first, then depth first in the order
//     the subcommands were added). Option and subcommand names are taken
//     as CLI11 has them; the help texts are cut to one short line.
//   * ValueHintFor() says how a value is completed: a known set of words
//     (a table keyed by flag name: --log-level, -o/--output,
//     -w/--write-out; or a type name written as alternatives, such as
//     "allow|skip"), files (type FILE), directories (DIR), IANA time zones
//     (ZONE), local users (USER), or nothing (a duration, a name that only
//     etcd knows: completion never dials etcd).
//   * BashCompletion() returns a bash script that registers `complete -F`
//     for the program; ZshCompletion() a native `#compdef` function built
//     on _arguments and _describe. After "--", in the subcommands that run
//     a command (`runners`, as given to ParseCommandLine), both complete a
//     command name and then hand over to that command's own completion
//     (bash: bash-completion's _command_offset when loaded, else file
//     names; zsh: _normal).
//   * CompletionScript() picks the generator by shell name ("bash" or
//     "zsh"; InvalidArgument otherwise).
//
// Pure functions of the App: nothing is parsed, nothing printed, no
// exceptions. The App must not change while a function runs (CLI11 is
// thread-compatible); the results own their data.
//
// Example:
//   absl::StatusOr<std::string> script =
//       CompletionScript(app, {elect, sema, cron_add}, "bash");
//   if (script.ok()) std::cout << *script;
#ifndef CONCH_CONCH_COMPLETION_H_
#define CONCH_CONCH_COMPLETION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace conch {

// How the value of a flag or an argument is completed.
struct ValueHint {
  enum class Kind {
    kNothing,    // no suggestions (a duration, a number, a name in etcd)
    kWords,      // one of `words`
    kFile,       // a file name
    kDirectory,  // a directory name
    kZone,       // an IANA time zone name
    kUser,       // a local user name
  };
  Kind kind = Kind::kNothing;
  std::vector<std::string> words;  // kWords only
};

// One flag as the shells see it.
struct CompletionOption {
  std::vector<std::string> names;     // "-f", "--follow": short names first
  std::string help;                   // one short line
  std::string type;                   // the value's type name: "DURATION"
  bool takes_value = false;           // false for a flag such as --json
  bool repeatable = false;            // --env A=1 --env B=2, -v -v
  bool ends_parsing = false;          // --help, --version
  std::vector<std::string> excludes;  // names of the options it excludes
  ValueHint value;
};

// One positional argument.
struct CompletionArgument {
  std::string name;  // "name"
  std::string type;  // "NAME"
  bool required = false;
  bool repeatable = false;
  ValueHint value;
};

// One level of subcommands: the program itself, `cron`, `cron add`, ...
struct CompletionCommand {
  std::vector<std::string> path;  // {} for the program, {"cron", "add"}
  std::string help;
  // Its own options, then the inherited ones (not shadowed by its own).
  std::vector<CompletionOption> options;
  std::vector<CompletionArgument> arguments;
  // The names of its subcommands, in the order they were added.
  std::vector<std::string> subcommands;
  std::vector<std::string> subcommand_help;  // one per subcommand
  bool runs_command = false;                 // takes "-- COMMAND [ARG...]"
};

// The tree of `root`, flattened: `root` first, then depth first. A level is
// a runner when it is in `runners`.
std::vector<CompletionCommand> DescribeCommands(
    const CLI::App& root, const std::vector<const CLI::App*>& runners);

// How a value of `option` is completed (see the contract above).
ValueHint ValueHintFor(const CLI::Option& option);

// The completion scripts for the program `root` names (root.get_name()).
std::string BashCompletion(const CLI::App& root,
                           const std::vector<const CLI::App*>& runners);
std::string ZshCompletion(const CLI::App& root,
                          const std::vector<const CLI::App*>& runners);

// The shells CompletionScript knows, for help texts: "bash|zsh".
inline constexpr char kCompletionShells[] = "bash|zsh";

// BashCompletion or ZshCompletion by `shell`; InvalidArgument for any
// other shell.
absl::StatusOr<std::string> CompletionScript(
    const CLI::App& root, const std::vector<const CLI::App*>& runners,
    absl::string_view shell);

}  // namespace conch

#endif  // CONCH_CONCH_COMPLETION_H_
