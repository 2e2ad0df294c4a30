#include "conch/daemon/listen_address.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace conch::daemon {
namespace {

TEST(ListenAddressTest, LoopbackForms) {
  absl::StatusOr<ListenAddress> v4 =
      ParseListenAddress("127.0.0.1:9187", false);
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 9187);
  EXPECT_TRUE(v4->loopback);
  EXPECT_EQ(v4->Authority(9187), "127.0.0.1:9187");

  absl::StatusOr<ListenAddress> other =
      ParseListenAddress("127.3.2.1:0", false);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->port, 0);

  absl::StatusOr<ListenAddress> v6 = ParseListenAddress("[::1]:80", false);
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->Authority(80), "[::1]:80");

  absl::StatusOr<ListenAddress> name =
      ParseListenAddress("localhost:65535", false);
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_TRUE(name->loopback);
}

TEST(ListenAddressTest, PublicAddressesNeedTheFlag) {
  for (const char* text :
       {"0.0.0.0:9187", "10.1.2.3:9187", "[::]:9187", "[2001:db8::1]:1"}) {
    absl::StatusOr<ListenAddress> refused = ParseListenAddress(text, false);
    ASSERT_FALSE(refused.ok()) << text;
    EXPECT_TRUE(
        absl::StrContains(refused.status().message(), "--listen-public"))
        << refused.status();
    absl::StatusOr<ListenAddress> allowed = ParseListenAddress(text, true);
    ASSERT_TRUE(allowed.ok()) << text << ": " << allowed.status();
    EXPECT_FALSE(allowed->loopback) << text;
  }
}

TEST(ListenAddressTest, BadValuesNameTheProblem) {
  const struct {
    const char* text;
    const char* says;
  } cases[] = {
      {"9187", "want HOST:PORT"},
      {"", "want HOST:PORT"},
      {":9187", "host is missing"},
      {"127.0.0.1:", "port"},
      {"127.0.0.1:65536", "port"},
      {"127.0.0.1:-1", "port"},
      {"127.0.0.1:+80", "port"},
      {"127.0.0.1:123456", "port"},
      {"127.0.0.1:80x", "port"},
      {"example.com:80", "names are not resolved"},
      {"127.0.0.256:80", "IP address"},
      {"[::1:80", "IP address"},
      {"[zz]:80", "IPv6"},
      {"::1:80", "IP address"},
      {"127.0.0.1\n:80", "IP address"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<ListenAddress> a = ParseListenAddress(c.text, true);
    ASSERT_FALSE(a.ok()) << c.text;
    EXPECT_TRUE(absl::IsInvalidArgument(a.status()));
    const std::string m(a.status().message());
    EXPECT_TRUE(absl::StartsWith(m, "invalid --listen \"")) << m;
    EXPECT_TRUE(absl::StrContains(m, c.says)) << c.text << ": " << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace conch::daemon
