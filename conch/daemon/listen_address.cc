#include "conch/daemon/listen_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace conch::daemon {
namespace {

absl::Status Bad(absl::string_view text, absl::string_view why) {
  std::string shown(text.substr(0, 80));
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return absl::InvalidArgumentError(
      absl::StrCat("invalid --listen \"", shown, "\": ", why));
}

}  // namespace

std::string ListenAddress::Authority(int actual_port) const {
  if (host.find(':') != std::string::npos) {
    return absl::StrCat("[", host, "]:", actual_port);
  }
  return absl::StrCat(host, ":", actual_port);
}

absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view text,
                                                 bool public_ok) {
  const size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos) {
    return Bad(text, "want HOST:PORT, e.g. 127.0.0.1:9187");
  }
  absl::string_view host = text.substr(0, colon);
  const absl::string_view port_text = text.substr(colon + 1);
  uint32_t port = 0;
  const bool digits =
      !port_text.empty() && port_text.size() <= 5 &&
      std::all_of(port_text.begin(), port_text.end(), absl::ascii_isdigit);
  if (!digits || !absl::SimpleAtoi(port_text, &port) || port > 65535) {
    return Bad(text, "the port must be a whole number from 0 to 65535");
  }
  ListenAddress a;
  a.port = static_cast<int>(port);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    struct in6_addr v6;
    if (inet_pton(AF_INET6, std::string(host).c_str(), &v6) != 1) {
      return Bad(text, "not an IPv6 address in brackets");
    }
    a.loopback = IN6_IS_ADDR_LOOPBACK(&v6);
  } else if (host == "localhost") {
    a.loopback = true;
  } else {
    struct in_addr v4;
    if (host.empty()) {
      return Bad(text, "the host is missing (127.0.0.1 serves this host only)");
    }
    if (inet_pton(AF_INET, std::string(host).c_str(), &v4) != 1) {
      return Bad(text,
                 "the host must be an IP address or localhost (names are "
                 "not resolved)");
    }
    a.loopback = (ntohl(v4.s_addr) >> 24) == 127;
  }
  a.host = std::string(host);
  if (!a.loopback && !public_ok) {
    return Bad(text,
               "not a loopback address; the status page shows every job's "
               "command and output, add --listen-public to serve it there");
  }
  return a;
}

}  // namespace conch::daemon
