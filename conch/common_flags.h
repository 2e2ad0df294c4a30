// The flags every conch subcommand and conchd share (spec 00), with their
// CONCH_* environment fallbacks, and their validation into options for the
// etcd client.
//
// AddCommonFlags registers the flags on a CLI11 app (CLI11 stays inside
// conch/); Resolve checks them and returns one-line InvalidArgument errors
// (exit 64) naming the bad flag. Nothing here touches etcd.
//
// Thread-compatible value types.
//
// Example:
//   CommonFlags flags;
//   AddCommonFlags(app, &flags);
//   ... app.parse(argc, argv) ...
//   absl::StatusOr<CommonOptions> opts = Resolve(flags);
//   absl::StatusOr<std::unique_ptr<etcd::Connection>> conn =
//       etcd::Connection::Dial(opts->connection);
#ifndef CONCH_CONCH_COMMON_FLAGS_H_
#define CONCH_CONCH_COMMON_FLAGS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/etcd/connection.h"

namespace CLI {
class App;
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
  std::string log_level = "warn";
  int verbose = 0;
};

// Validated values.
struct CommonOptions {
  etcd::ConnectionOptions connection;
  std::string prefix;
  absl::Duration ttl;
  absl::Duration kill_after;
  bool json = false;

  // The deadline of one etcd call made now: --dial-timeout from now.
  absl::Time CallDeadline() const;
};

// The longest --ttl (and --dial-timeout) accepted.
inline constexpr absl::Duration kMaxTtl = absl::Hours(24 * 365);

void AddCommonFlags(CLI::App& app, CommonFlags* flags);

// Parses the command line of `app` (named "conch" or "conchd"); CLI11's
// exceptions stay in here. The command a wrapper runs starts only after
// the first "--": what follows goes to `*command` as it is and is never
// read as a flag of conch's; with `command` null (conchd) a "--" is an
// error. Returns nullopt to go on, or the exit code: 0 after --help or
// --version (printed), 64 after a parse error (one line on stderr:
// "<name>: <what> (see <name> --help)"); an argument left over before
// "--" gets the hint to put "--" before the command.
std::optional<int> ParseCommandLine(CLI::App& app, int argc, char** argv,
                                    std::vector<std::string>* command);

// Validates `flags`. The password comes from --user NAME:PASSWORD or, when
// --user has no ':', from $CONCH_PASSWORD.
absl::StatusOr<CommonOptions> Resolve(const CommonFlags& flags);

}  // namespace conch

#endif  // CONCH_CONCH_COMMON_FLAGS_H_
