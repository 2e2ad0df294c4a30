#include "testing/etcd_env.h"

#include <unistd.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace conch::test {
namespace {

using ::testing::EndsWith;
using ::testing::StartsWith;

TEST(EtcdEnvTest, SharedEtcdIsUpAndHealthy) {
  EtcdServer& etcd = SharedEtcd();
  EXPECT_GT(etcd.pid(), 0);
  EXPECT_FALSE(etcd.tls());
  EXPECT_FALSE(etcd.auth_enabled());
  absl::Status s = etcd.WaitHealthy(absl::Now() + absl::Seconds(10));
  EXPECT_TRUE(s.ok()) << s;
}

TEST(EtcdEnvTest, UniquePrefixNamesTheTestAndNeverRepeats) {
  const std::string a = UniquePrefix();
  const std::string b = UniquePrefix();
  EXPECT_NE(a, b);
  EXPECT_THAT(a, StartsWith(absl::StrCat(
                     "/t/EtcdEnvTest.UniquePrefixNamesTheTestAndNeverRepeats/",
                     getpid(), "-")));
  EXPECT_THAT(a, EndsWith("/"));
}

TEST(EtcdEnvTest, KeysUnderDifferentPrefixesDoNotMix) {
  EtcdServer& etcd = SharedEtcd();
  const std::string a = UniquePrefix();
  const std::string b = UniquePrefix();
  absl::StatusOr<CommandResult> put = etcd.Etcdctl({"put", a + "k", "1"});
  ASSERT_TRUE(put.ok() && put->Succeeded());
  absl::StatusOr<CommandResult> get =
      etcd.Etcdctl({"get", b, "--prefix", "--keys-only"});
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_TRUE(get->Succeeded()) << get->DebugString();
  EXPECT_EQ(get->out, "");
}

class ParamTest : public ::testing::TestWithParam<int> {};

TEST_P(ParamTest, SlashesInNamesAreReplaced) {
  const std::string prefix = UniquePrefix();
  EXPECT_THAT(prefix,
              StartsWith("/t/Inst_ParamTest.SlashesInNamesAreReplaced_"))
      << prefix;
  // Exactly four '/': "/t/<name>/<pid>-<n>/".
  EXPECT_EQ(std::count(prefix.begin(), prefix.end(), '/'), 4) << prefix;
}

INSTANTIATE_TEST_SUITE_P(Inst, ParamTest, ::testing::Values(0, 1));

}  // namespace
}  // namespace conch::test
