// Integration tests of Leases against a real etcd.
#include "core/etcd/lease.h"

#include <memory>

#include "absl/time/clock.h"
#include "core/etcd/etcd_status.h"
#include "core/etcd/kv.h"
#include "core/etcd/test_dial.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/etcd_env.h"

namespace conch::etcd {
namespace {

using ::testing::ElementsAre;

class LeaseTest : public SharedEtcdTest {};

TEST_F(LeaseTest, GrantRoundsUpToWholeSeconds) {
  Leases leases(conn_.get());
  const MonoTime before = MonoNow();
  absl::StatusOr<LeaseGrant> g = leases.Grant(absl::Milliseconds(1500), Soon());
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_NE(g->id, kNoLease);
  EXPECT_EQ(g->ttl, absl::Seconds(2));
  EXPECT_GE(g->sent_at, before);
  EXPECT_LE(g->sent_at, MonoNow());
}

TEST_F(LeaseTest, TimeToLiveReportsRemainingGrantedAndKeys) {
  Leases leases(conn_.get());
  absl::StatusOr<LeaseGrant> g = leases.Grant(absl::Seconds(60), Soon());
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE(
      Kv(conn_.get()).Put(p_ + "k", "v", {.lease = g->id}, Soon()).ok());
  absl::StatusOr<LeaseInfo> info = leases.TimeToLive(g->id, true, Soon());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->granted, absl::Seconds(60));
  EXPECT_GT(info->remaining, absl::Seconds(50));
  EXPECT_LE(info->remaining, absl::Seconds(60));
  EXPECT_THAT(info->keys, ElementsAre(p_ + "k"));
}

TEST_F(LeaseTest, RevokeDeletesAttachedKeysAndSecondRevokeIsNotFound) {
  Leases leases(conn_.get());
  Kv kv(conn_.get());
  absl::StatusOr<LeaseGrant> g = leases.Grant(absl::Seconds(60), Soon());
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE(kv.Put(p_ + "a", "1", {.lease = g->id}, Soon()).ok());
  ASSERT_TRUE(kv.Put(p_ + "b", "2", {.lease = g->id}, Soon()).ok());
  ASSERT_TRUE(leases.Revoke(g->id, Soon()).ok());
  absl::StatusOr<GetResult> left = kv.Get(p_, {.prefix = true}, Soon());
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->kvs.empty());

  absl::Status again = leases.Revoke(g->id, Soon());
  EXPECT_TRUE(IsLeaseNotFound(again)) << again;
  absl::StatusOr<LeaseInfo> gone = leases.TimeToLive(g->id, false, Soon());
  ASSERT_FALSE(gone.ok());
  EXPECT_TRUE(IsLeaseNotFound(gone.status())) << gone.status();
}

}  // namespace
}  // namespace conch::etcd
