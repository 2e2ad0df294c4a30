#include "core/etcd/endpoint.h"

#include <arpa/inet.h>

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace conch {
namespace {

// `text` with whatever precedes an '@' of its authority (a user and maybe
// a password) replaced by "***": an error message must not echo it.
std::string Redacted(absl::string_view text) {
  const size_t at = text.rfind('@');
  if (at == absl::string_view::npos) return std::string(text);
  size_t start = text.find("://");
  start = start == absl::string_view::npos ? 0 : start + 3;
  if (start > at) return std::string(text);
  return absl::StrCat(text.substr(0, start), "***", text.substr(at));
}

absl::Status Bad(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid endpoint \"", Redacted(text), "\": ", why));
}

// Checks "host:port" (host may be a bracketed IPv6 literal).
absl::Status CheckHostPort(absl::string_view original,
                           absl::string_view hostport) {
  absl::string_view host;
  absl::string_view port;
  if (absl::StrContains(hostport, '@')) {
    return Bad(original,
               "a user does not go in an endpoint: use --user (and "
               "CONCH_PASSWORD)");
  }
  if (absl::StartsWith(hostport, "[")) {
    const size_t close = hostport.find(']');
    if (close == absl::string_view::npos) {
      return Bad(original, "unterminated [ in IPv6 address");
    }
    host = hostport.substr(1, close - 1);
    absl::string_view rest = hostport.substr(close + 1);
    if (!absl::ConsumePrefix(&rest, ":")) {
      return Bad(original, "expected host:port");
    }
    port = rest;
  } else {
    const size_t colon = hostport.rfind(':');
    if (colon == absl::string_view::npos) {
      return Bad(original, "expected host:port");
    }
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
    if (absl::StrContains(host, ':')) {
      return Bad(original, "IPv6 addresses must be written as [addr]:port");
    }
  }
  if (host.empty()) return Bad(original, "missing host");
  for (char c : host) {
    if (absl::ascii_isspace(c) || absl::ascii_iscntrl(c) || c == '/' ||
        c == '@') {
      return Bad(original, "invalid character in host");
    }
  }
  uint32_t port_number = 0;
  if (port.empty() || !absl::SimpleAtoi(port, &port_number) ||
      port_number == 0 || port_number > 65535 ||
      !absl::ascii_isdigit(port.front())) {
    return Bad(original, "port must be a number from 1 to 65535");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view text) {
  absl::string_view rest = absl::StripAsciiWhitespace(text);
  Endpoint ep;
  ep.original = std::string(rest);
  if (rest.empty()) return Bad(text, "empty");

  if (absl::ConsumePrefix(&rest, "unix://")) {
    if (rest.empty()) return Bad(text, "missing socket path");
    ep.tls = TlsMode::kOff;
    ep.grpc_target = absl::StrCat("unix:", rest);
    return ep;
  }
  if (absl::ConsumePrefix(&rest, "https://")) {
    ep.tls = TlsMode::kOn;
  } else if (absl::ConsumePrefix(&rest, "http://")) {
    ep.tls = TlsMode::kOff;
  } else if (absl::StrContains(rest, "://")) {
    return Bad(text, "unknown scheme (use http://, https:// or unix://)");
  }
  absl::ConsumeSuffix(&rest, "/");
  if (absl::StrContains(rest, '/')) {
    return Bad(text, "a path is not allowed after host:port");
  }
  if (absl::Status s = CheckHostPort(ep.original, rest); !s.ok()) return s;
  // An address literal skips gRPC's DNS resolver (its set-up and address
  // sorting cost every short-lived conch process a few hundred µs).
  ep.grpc_target = std::string(rest);
  const std::string host(rest.front() == '['
                             ? rest.substr(1, rest.find(']') - 1)
                             : rest.substr(0, rest.rfind(':')));
  unsigned char addr[sizeof(struct in6_addr)];
  if (inet_pton(AF_INET, host.c_str(), addr) == 1) {
    ep.grpc_target = absl::StrCat("ipv4:", rest);
  } else if (inet_pton(AF_INET6, host.c_str(), addr) == 1) {
    ep.grpc_target = absl::StrCat("ipv6:", rest);
  }
  return ep;
}

absl::StatusOr<std::vector<Endpoint>> ParseEndpoints(absl::string_view text) {
  std::vector<Endpoint> out;
  if (absl::StripAsciiWhitespace(text).empty()) {
    return absl::InvalidArgumentError("no etcd endpoints given");
  }
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    absl::StatusOr<Endpoint> ep = ParseEndpoint(part);
    if (!ep.ok()) return ep.status();
    out.push_back(*std::move(ep));
  }
  return out;
}

}  // namespace conch
