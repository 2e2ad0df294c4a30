#include "core/etcd/test_dial.h"

#include <utility>

#include "core/etcd/endpoint.h"
#include "testing/etcd_env.h"

namespace conch::etcd {

absl::StatusOr<std::unique_ptr<Connection>> DialTestServer(
    const test::EtcdServer& server, ConnectionOptions base) {
  absl::StatusOr<Endpoint> ep = ParseEndpoint(server.client_url());
  if (!ep.ok()) return ep.status();
  base.endpoints = {*ep};
  if (server.tls()) {
    base.ca_file = server.ca_file();
    base.cert_file = server.client_cert_file();
    base.key_file = server.client_key_file();
  }
  return Connection::Dial(std::move(base));
}

void SharedEtcdTest::SetUp() {
  absl::StatusOr<std::unique_ptr<Connection>> conn =
      DialTestServer(test::SharedEtcd());
  ASSERT_TRUE(conn.ok()) << conn.status();
  conn_ = *std::move(conn);
  p_ = test::UniquePrefix();
}

}  // namespace conch::etcd
