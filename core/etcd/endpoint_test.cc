#include "core/etcd/endpoint.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace conch {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ParseEndpointTest, BareHostPortDependsOnTlsConfig) {
  absl::StatusOr<Endpoint> ep = ParseEndpoint("10.0.0.1:2379");
  ASSERT_TRUE(ep.ok()) << ep.status();
  EXPECT_EQ(ep->grpc_target, "ipv4:10.0.0.1:2379");  // no DNS resolver
  EXPECT_EQ(ep->tls, TlsMode::kIfConfig);
}

TEST(ParseEndpointTest, Schemes) {
  struct Case {
    const char* text;
    const char* target;
    TlsMode tls;
  } cases[] = {
      {"http://etcd-1:2379", "etcd-1:2379", TlsMode::kOff},
      {"https://etcd-1:2379/", "etcd-1:2379", TlsMode::kOn},
      {"unix:///run/etcd.sock", "unix:/run/etcd.sock", TlsMode::kOff},
      {"unix://relative.sock", "unix:relative.sock", TlsMode::kOff},
      {"[::1]:2379", "ipv6:[::1]:2379", TlsMode::kIfConfig},
      {"https://127.0.0.1:2379", "ipv4:127.0.0.1:2379", TlsMode::kOn},
      {"http://300.1.1.1:2379", "300.1.1.1:2379", TlsMode::kOff},
      {"  localhost:1  ", "localhost:1", TlsMode::kIfConfig},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Endpoint> ep = ParseEndpoint(c.text);
    ASSERT_TRUE(ep.ok()) << c.text << ": " << ep.status();
    EXPECT_EQ(ep->grpc_target, c.target) << c.text;
    EXPECT_EQ(ep->tls, c.tls) << c.text;
  }
}

TEST(ParseEndpointTest, RejectsMalformed) {
  for (const char* bad :
       {"", "host", "host:", ":2379", "host:0", "host:65536", "host:12ab",
        "host:-1", "ftp://host:1", "http://host:1/path", "::1:2379",
        "[::1:2379", "unix://", "ho st:1", "h\x01:1", "h\x7f:1"}) {
    absl::StatusOr<Endpoint> ep = ParseEndpoint(bad);
    EXPECT_FALSE(ep.ok()) << "accepted \"" << bad << "\"";
    if (!ep.ok()) {
      EXPECT_EQ(ep.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(ep.status().message(), HasSubstr("invalid endpoint"));
    }
  }
}

// A user in an endpoint is refused for what it is, and the password in it
// never reaches the message (issue 15: it was refused with a message about
// IPv6, the password echoed).
TEST(ParseEndpointTest, RefusesAUserAndNeverEchoesThePassword) {
  for (const char* bad :
       {"http://u:secret@127.0.0.1:2379", "u:secret@127.0.0.1:2379",
        "https://u:secret@[::1]:2379"}) {
    absl::StatusOr<Endpoint> ep = ParseEndpoint(bad);
    ASSERT_FALSE(ep.ok()) << bad;
    const std::string message(ep.status().message());
    EXPECT_THAT(message, HasSubstr("use --user")) << bad;
    EXPECT_THAT(message, Not(HasSubstr("secret"))) << message;
    EXPECT_THAT(message, HasSubstr("***@")) << message;
  }
}

TEST(ParseEndpointsTest, ListKeepsOrder) {
  absl::StatusOr<std::vector<Endpoint>> eps =
      ParseEndpoints("a:1,https://b:2,unix:///c");
  ASSERT_TRUE(eps.ok()) << eps.status();
  ASSERT_EQ(eps->size(), 3u);
  EXPECT_EQ((*eps)[0].grpc_target, "a:1");
  EXPECT_EQ((*eps)[1].tls, TlsMode::kOn);
  EXPECT_EQ((*eps)[2].grpc_target, "unix:/c");
}

TEST(ParseEndpointsTest, RejectsEmptyEntriesAndEmptyList) {
  EXPECT_FALSE(ParseEndpoints("").ok());
  EXPECT_FALSE(ParseEndpoints("a:1,,b:2").ok());
  absl::StatusOr<std::vector<Endpoint>> eps = ParseEndpoints("a:1,b");
  ASSERT_FALSE(eps.ok());
  EXPECT_THAT(eps.status().message(), HasSubstr("\"b\""));
}

}  // namespace
}  // namespace conch
