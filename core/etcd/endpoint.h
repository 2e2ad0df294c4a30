// Endpoint: one etcd client URL from --endpoints / CONCH_ENDPOINTS.
//
// Accepted forms:
//   host:port            plain TCP, or TLS when TLS material is configured
//   http://host:port     plain TCP
//   https://host:port    TLS
//   unix://path          Unix domain socket (absolute or relative path)
// IPv6 literals are written in brackets: "[::1]:2379". A trailing "/" is
// tolerated; any other path, a missing or out-of-range port, or an unknown
// scheme is refused with InvalidArgument naming the offending entry.
//
// Pure functions and a value type; thread-safe.
//
// Example:
//   absl::StatusOr<std::vector<Endpoint>> eps =
//       ParseEndpoints("10.0.0.1:2379,https://etcd-2:2379");
//   // (*eps)[1].tls == TlsMode::kOn, (*eps)[1].grpc_target == "etcd-2:2379"
//   // (*eps)[0].grpc_target == "ipv4:10.0.0.1:2379": an address literal
//   // goes straight to gRPC's address resolver, a name through DNS.
#ifndef CONCH_CORE_ETCD_ENDPOINT_H_
#define CONCH_CORE_ETCD_ENDPOINT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace conch {

enum class TlsMode {
  kOff,       // http:// or unix://
  kOn,        // https://
  kIfConfig,  // bare host:port: TLS exactly when TLS flags are given
};

struct Endpoint {
  // What the user wrote, for messages.
  std::string original;
  // The target string handed to gRPC: "ipv4:a.b.c.d:port" or
  // "ipv6:[addr]:port" for address literals, "host:port" (DNS) for names,
  // "unix:path".
  std::string grpc_target;
  TlsMode tls = TlsMode::kIfConfig;

  friend bool operator==(const Endpoint& a, const Endpoint& b) {
    return a.original == b.original && a.grpc_target == b.grpc_target &&
           a.tls == b.tls;
  }
};

// Parses one endpoint.
absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view text);

// Parses a comma-separated list; empty entries are refused, as is an empty
// list.
absl::StatusOr<std::vector<Endpoint>> ParseEndpoints(absl::string_view text);

}  // namespace conch

#endif  // CONCH_CORE_ETCD_ENDPOINT_H_
