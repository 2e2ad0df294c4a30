#include "conch/common_flags.h"

#include <cstdlib>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace conch {
namespace {

using ::testing::HasSubstr;

TEST(ResolveTest, DefaultsMatchTheSpec) {
  absl::StatusOr<CommonOptions> o = Resolve(CommonFlags{});
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_EQ(o->connection.endpoints.size(), 1u);
  EXPECT_EQ(o->connection.endpoints[0].original, "127.0.0.1:2379");
  EXPECT_EQ(o->prefix, "/conch/");
  EXPECT_EQ(o->ttl, absl::Seconds(10));
  EXPECT_EQ(o->kill_after, absl::Seconds(2));
  EXPECT_EQ(o->connection.dial_timeout, absl::Seconds(5));
  EXPECT_TRUE(o->connection.user.empty());
}

TEST(ResolveTest, UserSplitsAtTheFirstColon) {
  CommonFlags f;
  f.user = "alice:pa:ss";
  absl::StatusOr<CommonOptions> o = Resolve(f);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->connection.user, "alice");
  EXPECT_EQ(o->connection.password, "pa:ss");
}

TEST(ResolveTest, PasswordFromEnvironmentWhenUserHasNoColon) {
  CommonFlags f;
  f.user = "bob";
  unsetenv("CONCH_PASSWORD");
  EXPECT_FALSE(Resolve(f).ok());
  setenv("CONCH_PASSWORD", "pw", 1);
  absl::StatusOr<CommonOptions> o = Resolve(f);
  unsetenv("CONCH_PASSWORD");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->connection.password, "pw");
}

TEST(ResolveTest, RejectsBadValuesNamingTheFlag) {
  struct Case {
    void (*set)(CommonFlags*);
    const char* flag;
  } cases[] = {
      {[](CommonFlags* f) { f->endpoints = "x"; }, "endpoint"},
      {[](CommonFlags* f) { f->ttl = "0s"; }, "--ttl"},
      {[](CommonFlags* f) { f->ttl = "900ms"; }, "--ttl"},
      {[](CommonFlags* f) { f->kill_after = "5"; }, "--kill-after"},
      {[](CommonFlags* f) { f->dial_timeout = "0s"; }, "--dial-timeout"},
      {[](CommonFlags* f) { f->prefix = "conch"; }, "--prefix"},
      {[](CommonFlags* f) { f->prefix = ""; }, "--prefix"},
      {[](CommonFlags* f) { f->key = "k.pem"; }, "--cert"},
      {[](CommonFlags* f) { f->user = ":pw"; }, "user"},
      {[](CommonFlags* f) { f->log_level = "chatty"; }, "--log-level"},
  };
  for (const Case& c : cases) {
    CommonFlags f;
    c.set(&f);
    absl::StatusOr<CommonOptions> o = Resolve(f);
    ASSERT_FALSE(o.ok()) << c.flag;
    EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(o.status().message(), HasSubstr(c.flag));
  }
}

}  // namespace
}  // namespace conch
