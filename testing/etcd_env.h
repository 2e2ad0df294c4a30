// One etcd server shared by every test of a test binary, plus per-test key
// prefixes so tests sharing it never see each other's keys.
//
// Contract:
//   * EtcdEnvironment is a ::testing::Environment: SetUp starts a plain
//     (no TLS, no auth) EtcdServer, TearDown stops it. If the server cannot
//     start, SetUp fails fatally and GoogleTest runs no test.
//   * SharedEtcd() returns that server; calling it while the environment is
//     not set up aborts the program with a message (link the binary with
//     //testing:etcd_test_main, which registers the environment).
//   * UniquePrefix() returns a new prefix on every call, of the form
//     "/t/<TestSuite>.<TestName>/<pid>-<n>/" ('/' in parameterized names is
//     replaced by '_'). The pid keeps concurrent or repeated test binaries
//     apart; the counter keeps calls within one binary apart.
//   * Tests must leave the shared server usable: no Freeze, Kill, Stop,
//     EnableAuth or Compact of the shared server. Start a private
//     EtcdServer for those.
//   * Targets using these must be tagged "integration" and be at least
//     size "medium":
//       cc_test(
//           name = "foo_test",
//           size = "medium",
//           srcs = ["foo_test.cc"],
//           tags = ["integration"],
//           deps = ["//testing:etcd_env", "//testing:etcd_test_main", ...],
//       )
//
// Ownership and thread-safety: GoogleTest owns the environment; the server
// lives from SetUp to TearDown. SharedEtcd() and UniquePrefix() may be
// called from any thread while tests run (see etcd_server.h for which
// EtcdServer methods are safe concurrently).
//
// Example:
//   TEST(LockTest, AcquiresFreeLock) {
//     conch::test::EtcdServer& etcd = conch::test::SharedEtcd();
//     const std::string prefix = conch::test::UniquePrefix();
//     absl::StatusOr<conch::test::CommandResult> r =
//         etcd.Etcdctl({"put", prefix + "lock", "me"});
//     ASSERT_TRUE(r.ok() && r->Succeeded());
//     ... connect the code under test to etcd.endpoint() ...
//   }
#ifndef CONCH_TESTING_ETCD_ENV_H_
#define CONCH_TESTING_ETCD_ENV_H_

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "testing/etcd_server.h"

namespace conch::test {

class EtcdEnvironment : public ::testing::Environment {
 public:
  explicit EtcdEnvironment(EtcdServerOptions options = {});
  ~EtcdEnvironment() override;

  void SetUp() override;
  void TearDown() override;

 private:
  const EtcdServerOptions options_;
  std::unique_ptr<EtcdServer> server_;
};

// The server of the registered EtcdEnvironment.
EtcdServer& SharedEtcd();

// A fresh key prefix for the calling test; see the header comment.
std::string UniquePrefix();

}  // namespace conch::test

#endif  // CONCH_TESTING_ETCD_ENV_H_
