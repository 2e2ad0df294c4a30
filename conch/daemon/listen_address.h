// ListenAddress: the value of `conchd --listen`, checked before anything
// starts.
//
// Accepted forms: `HOST:PORT` where HOST is an IPv4 literal (127.0.0.1),
// a bracketed IPv6 literal ([::1]) or `localhost`, and PORT is 0 to 65535
// (0: the kernel picks a free port; conchd logs the one it got). Host
// names other than `localhost` are refused: conchd does not resolve names
// for a socket it exposes. An address that is not loopback (127.0.0.0/8,
// ::1, localhost) is refused unless `public_ok` (the --listen-public flag),
// because the status page shows every job's command and output.
//
// Errors are InvalidArgument with one line naming the value and the
// problem (the caller exits 64).
//
// Pure functions; thread-safe.
//
// Example:
//   absl::StatusOr<ListenAddress> a = ParseListenAddress("127.0.0.1:9187",
//                                                        false);
//   // a->host == "127.0.0.1", a->port == 9187, a->loopback == true
#ifndef CONCH_CONCH_DAEMON_LISTEN_ADDRESS_H_
#define CONCH_CONCH_DAEMON_LISTEN_ADDRESS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace conch::daemon {

struct ListenAddress {
  std::string host;  // without brackets: "127.0.0.1", "::1", "localhost"
  int port = 0;
  bool loopback = true;
  // host:port as a URL authority ("[::1]:9187" for IPv6).
  std::string Authority(int actual_port) const;
};

absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view text,
                                                 bool public_ok);

}  // namespace conch::daemon

#endif  // CONCH_CONCH_DAEMON_LISTEN_ADDRESS_H_
