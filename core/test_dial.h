// Test-only: dials a core Connection to a test etcd server (plain or TLS),
// so every integration test connects the same way.
//
// Example:
//   absl::StatusOr<std::unique_ptr<etcd::Connection>> conn =
//       DialTestServer(test::SharedEtcd());
#ifndef CONCH_CORE_TEST_DIAL_H_
#define CONCH_CORE_TEST_DIAL_H_

#include <memory>

#include "absl/status/statusor.h"
#include "core/connection.h"
#include "testing/etcd_server.h"

namespace conch::etcd {

// Uses the server's endpoint, and its CA and client certificate when it
// serves TLS. `base` supplies anything else (user, dial timeout).
absl::StatusOr<std::unique_ptr<Connection>> DialTestServer(
    const test::EtcdServer& server, ConnectionOptions base = {});

}  // namespace conch::etcd

#endif  // CONCH_CORE_TEST_DIAL_H_
