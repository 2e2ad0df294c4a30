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
#include "conch/flag_text.h"
#include "conch/help_formatter.h"
#include "conch/output.h"
#include "core/base/duration.h"
#include "core/base/log.h"
#include "core/etcd/endpoint.h"
#include "core/etcd/pem_file.h"
#include "core/records/names.h"

namespace conch {
namespace {

using flag_text::After;
using flag_text::BadValue;
using flag_text::Quote;

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
  CheckValues(common(app.add_option("--log-level", f->log_level,
                                    "diagnostics on stderr: error, warn "
                                    "(default), info, debug"),
                     "LEVEL", "CONCH_LOG"),
              WhyNotLogLevel);
  common(app.add_flag("-v", f->verbose, "more diagnostics (repeat for debug)"),
         nullptr, nullptr);
}

void AddOutputFlags(CLI::App& app, CommonFlags* f) {
  app.add_flag("--json", f->json, "the same as -o json")
      ->group(kCommonFlagsGroup);
  const std::string what = absl::StrCat(
      "output format: ", kOutputFormats,
      " (default: aligned columns on a terminal, tab-separated when piped)");
  CLI::Option* output = app.add_option("-o,--output", f->output, what)
                            ->group(kCommonFlagsGroup)
                            ->type_name("FORMAT");
  CheckValues(output, WhyNotOutputFormat);
  CLI::Option* write_out = app.add_option("-w,--write-out", f->write_out,
                                          "the same as -o (etcdctl's spelling)")
                               ->group(kCommonFlagsGroup)
                               ->type_name("FORMAT");
  CheckValues(write_out, WhyNotOutputFormat);
  output->excludes(write_out);
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
  o.output = f.json ? OutputFormat::kJson : OutputFormat::kAuto;
  for (const std::string* typed : {&f.output, &f.write_out}) {
    if (typed->empty()) continue;
    absl::StatusOr<OutputFormat> format = ParseOutputFormat(*typed);
    if (!format.ok()) return format.status();
    if (f.json && *format != OutputFormat::kJson) {
      return absl::InvalidArgumentError(
          absl::StrCat("--json and -o ", *typed, " do not go together"));
    }
    o.output = *format;
  }
  o.json = o.output == OutputFormat::kJson;

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
