// Test-only: dials a core Connection to a test etcd server (plain or TLS),
// so every integration test connects the same way.
//
// Example:
//   absl::StatusOr<std::unique_ptr<etcd::Connection>> conn =
//       DialTestServer(test::SharedEtcd());
#ifndef CONCH_CORE_ETCD_TEST_DIAL_H_
#define CONCH_CORE_ETCD_TEST_DIAL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "core/etcd/connection.h"
#include "gtest/gtest.h"
#include "testing/etcd_server.h"

namespace conch::etcd {

// Uses the server's endpoint, and its CA and client certificate when it
// serves TLS. `base` supplies anything else (user, dial timeout).
absl::StatusOr<std::unique_ptr<Connection>> DialTestServer(
    const test::EtcdServer& server, ConnectionOptions base = {});

// A deadline a few seconds away, for calls that should answer at once.
inline absl::Time Soon() { return absl::Now() + absl::Seconds(5); }

// Base fixture of the client tests on the shared server: a Connection and
// a fresh key prefix per test.
class SharedEtcdTest : public ::testing::Test {
 protected:
  void SetUp() override;
  std::unique_ptr<Connection> conn_;
  std::string p_;  // this test's key prefix
};

}  // namespace conch::etcd

#endif  // CONCH_CORE_ETCD_TEST_DIAL_H_
