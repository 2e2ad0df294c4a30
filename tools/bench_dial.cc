#include "tools/bench_dial.h"

#include <iostream>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/etcd/endpoint.h"

namespace conch::tools {

std::unique_ptr<etcd::Connection> DialBench(const std::string& tool,
                                            const std::string& endpoints,
                                            int* exit_code) {
  absl::StatusOr<std::vector<Endpoint>> eps = ParseEndpoints(endpoints);
  if (!eps.ok()) {
    std::cerr << tool << ": " << eps.status().message() << "\n";
    *exit_code = 64;
    return nullptr;
  }
  etcd::ConnectionOptions options;
  options.endpoints = *std::move(eps);
  absl::StatusOr<std::unique_ptr<etcd::Connection>> conn =
      etcd::Connection::Dial(options);
  if (!conn.ok()) {
    std::cerr << tool << ": " << conn.status().message() << "\n";
    *exit_code = 69;
    return nullptr;
  }
  return *std::move(conn);
}

}  // namespace conch::tools
