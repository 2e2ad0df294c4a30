#include "conch/common_flags.h"

#include <cstdlib>
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "conch/exit_codes.h"
#include "core/base/duration.h"
#include "core/base/log.h"
#include "core/etcd/endpoint.h"

namespace conch {

void AddCommonFlags(CLI::App& app, CommonFlags* f) {
  const std::string group = "Common";
  app.add_option("--endpoints", f->endpoints,
                 "etcd client URLs, comma-separated (host:port, http://, "
                 "https://, unix://path)")
      ->envname("CONCH_ENDPOINTS")
      ->group(group);
  app.add_option("--prefix", f->prefix, "key prefix of everything conch writes")
      ->envname("CONCH_PREFIX")
      ->group(group);
  app.add_option("--ttl", f->ttl, "lease TTL; keepalive every TTL/3")
      ->envname("CONCH_TTL")
      ->group(group);
  app.add_option("--kill-after", f->kill_after,
                 "grace between SIGTERM and SIGKILL of the child's group "
                 "(default 2s); on a lost lease SIGTERM comes this + 100ms "
                 "before the lease's deadline")
      ->envname("CONCH_KILL_AFTER")
      ->group(group);
  app.add_option("--dial-timeout", f->dial_timeout,
                 "give up connecting to etcd after this")
      ->envname("CONCH_DIAL_TIMEOUT")
      ->group(group);
  app.add_option("--cacert", f->cacert, "CA bundle to verify etcd (PEM)")
      ->envname("CONCH_CACERT")
      ->group(group);
  app.add_option("--cert", f->cert, "client certificate (PEM)")
      ->envname("CONCH_CERT")
      ->group(group);
  app.add_option("--key", f->key, "client private key (PEM)")
      ->envname("CONCH_KEY")
      ->group(group);
  app.add_option("--user", f->user,
                 "etcd user as NAME:PASSWORD (or NAME with $CONCH_PASSWORD)")
      ->envname("CONCH_USER")
      ->group(group);
  app.add_flag("--json", f->json, "machine-readable output")->group(group);
  app.add_option("--log-level", f->log_level,
                 "diagnostics on stderr: error, warn, info, debug")
      ->envname("CONCH_LOG")
      ->group(group);
  app.add_flag("-v", f->verbose, "more diagnostics (repeat for debug)")
      ->group(group);
}

namespace {

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

std::optional<int> ParseCommandLine(CLI::App& app, int argc, char** argv,
                                    std::vector<std::string>* command) {
  const std::string name = app.get_name();
  // Everything after the first "--" is the command, untouched.
  int head = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") {
      head = i;
      break;
    }
  }
  if (head < argc) {
    if (command == nullptr) {
      std::cerr << name << ": unexpected \"--\": " << name
                << " runs no command (see " << name << " --help)\n";
      return kExitUsage;
    }
    command->assign(argv + head + 1, argv + argc);
  }
  std::vector<char*> args(argv, argv + head);
  try {
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::ExtrasError& e) {
    // A word conch does not take, before any "--": most likely the command
    // without its "--" (whose flags conch would otherwise have read).
    const std::vector<std::string> extra = app.remaining(true);
    const std::string first =
        extra.empty() ? std::string(e.what()) : extra.front();
    std::cerr << name << ": unexpected argument \"" << OneLine(first)
              << "\": put -- before the command (see " << name << " --help)\n";
    return kExitUsage;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << app.get_name() << ": " << OneLine(e.what()) << " (see "
              << app.get_name() << " --help)\n";
    return kExitUsage;
  }
  if (std::optional<std::string> empty = EmptyValue(app)) {
    std::cerr << name << ": invalid " << *empty
              << " \"\": the value is empty (see " << name << " --help)\n";
    return kExitUsage;
  }
  return std::nullopt;
}

absl::Time CommonOptions::CallDeadline() const {
  return absl::Now() + connection.dial_timeout;
}

absl::StatusOr<CommonOptions> Resolve(const CommonFlags& f) {
  CommonOptions o;
  absl::StatusOr<std::vector<Endpoint>> eps = ParseEndpoints(f.endpoints);
  if (!eps.ok()) return eps.status();
  o.connection.endpoints = *std::move(eps);

  absl::StatusOr<absl::Duration> ttl = ParsePositiveDuration("--ttl", f.ttl);
  if (!ttl.ok()) return ttl.status();
  if (*ttl < absl::Seconds(1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid --ttl \"", f.ttl, "\": etcd leases last at least 1s"));
  }
  // A TTL is how long a dead holder keeps its place: a year is already
  // far past any use, and keeps every deadline sum far from overflowing.
  if (*ttl > kMaxTtl) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid --ttl \"", f.ttl, "\": at most ",
                     absl::FormatDuration(kMaxTtl), " (a year)"));
  }
  o.ttl = *ttl;
  absl::StatusOr<absl::Duration> kill_after =
      ParseDuration("--kill-after", f.kill_after);
  if (!kill_after.ok()) return kill_after.status();
  o.kill_after = *kill_after;
  absl::StatusOr<absl::Duration> dial =
      ParsePositiveDuration("--dial-timeout", f.dial_timeout);
  if (!dial.ok()) return dial.status();
  if (*dial > kMaxTtl) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid --dial-timeout \"", f.dial_timeout,
                     "\": at most ", absl::FormatDuration(kMaxTtl)));
  }
  o.connection.dial_timeout = *dial;

  if (f.prefix.empty() || f.prefix.back() != '/') {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid --prefix \"", f.prefix, "\": must be non-empty and end in /"));
  }
  o.prefix = f.prefix;

  o.connection.ca_file = f.cacert;
  o.connection.cert_file = f.cert;
  o.connection.key_file = f.key;
  if (f.cert.empty() != f.key.empty()) {
    return absl::InvalidArgumentError(
        "--cert and --key must be given together");
  }

  if (!f.user.empty()) {
    const size_t colon = f.user.find(':');
    if (colon == std::string::npos) {
      const char* password = std::getenv("CONCH_PASSWORD");
      if (password == nullptr) {
        return absl::InvalidArgumentError(
            "--user NAME needs a password: use NAME:PASSWORD or set "
            "CONCH_PASSWORD");
      }
      o.connection.user = f.user;
      o.connection.password = password;
    } else {
      o.connection.user = f.user.substr(0, colon);
      o.connection.password = f.user.substr(colon + 1);
    }
    if (o.connection.user.empty()) {
      return absl::InvalidArgumentError("--user: the user name is empty");
    }
  }
  o.json = f.json;

  absl::StatusOr<LogLevel> level = ParseLogLevel(f.log_level);
  if (!level.ok()) return level.status();
  int verbosity = static_cast<int>(*level) + f.verbose;
  if (verbosity > static_cast<int>(LogLevel::kDebug)) {
    verbosity = static_cast<int>(LogLevel::kDebug);
  }
  SetLogLevel(static_cast<LogLevel>(verbosity));
  return o;
}

}  // namespace conch
