// Integration tests of Session against a real etcd: loss by revoke (seen by
// watching the holder key, within 100 ms), by deletion of the holder key,
// and handover by Close.
#include "core/recipes/session.h"

#include <memory>

#include "absl/time/clock.h"
#include "core/etcd/etcd_status.h"
#include "core/etcd/kv.h"
#include "core/etcd/lease.h"
#include "core/etcd/test_dial.h"
#include "core/etcd/watch.h"
#include "gtest/gtest.h"
#include "testing/etcd_env.h"

namespace conch::etcd {
namespace {

class SessionTest : public SharedEtcdTest {
 protected:
  void SetUp() override {
    SharedEtcdTest::SetUp();
    if (HasFatalFailure()) return;
    watches_ = std::make_unique<WatchStream>(conn_.get());
  }

  // A session with a holder key attached and guarded.
  std::unique_ptr<Session> HoldingSession(const std::string& key) {
    absl::StatusOr<std::unique_ptr<Session>> s =
        Session::Create(conn_.get(), watches_.get(), {}, Soon());
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok()) return nullptr;
    absl::StatusOr<PutResult> put =
        Kv(conn_.get()).Put(key, "holder", {.lease = (*s)->lease()}, Soon());
    EXPECT_TRUE(put.ok()) << put.status();
    absl::Status guarded = (*s)->Guard(key, put->revision);
    EXPECT_TRUE(guarded.ok()) << guarded;
    return *std::move(s);
  }

  std::unique_ptr<WatchStream> watches_;
};

TEST_F(SessionTest, StaysHeldWhileNothingHappens) {
  std::unique_ptr<Session> s = HoldingSession(p_ + "holder");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->ttl(), absl::Seconds(10));
  EXPECT_TRUE(s->WaitLost(MonoNow() + absl::Milliseconds(300)).ok());
  EXPECT_TRUE(s->status().ok());
}

TEST_F(SessionTest, RevokeIsNoticedWithin100ms) {
  std::unique_ptr<Session> s = HoldingSession(p_ + "holder");
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(test::SharedEtcd().RevokeLease(s->lease()).ok());
  // etcdctl has returned: the revocation is committed and observable.
  const MonoTime revoked = MonoNow();
  absl::Status lost = s->WaitLost(revoked + absl::Milliseconds(100));
  EXPECT_TRUE(IsLeaseNotFound(lost)) << lost;
  EXPECT_LE(MonoNow() - revoked, absl::Milliseconds(100));
}

TEST_F(SessionTest, DeletedHolderKeyMeansLoss) {
  std::unique_ptr<Session> s = HoldingSession(p_ + "holder");
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(Kv(conn_.get()).Delete(p_ + "holder", {}, Soon()).ok());
  absl::Status lost = s->WaitLost(MonoNow() + absl::Seconds(2));
  EXPECT_EQ(lost.code(), absl::StatusCode::kNotFound) << lost;
  EXPECT_NE(lost.message().find("holder key"), absl::string_view::npos);
}

TEST_F(SessionTest, DeletionBeforeGuardStillCounts) {
  absl::StatusOr<std::unique_ptr<Session>> s =
      Session::Create(conn_.get(), watches_.get(), {}, Soon());
  ASSERT_TRUE(s.ok()) << s.status();
  Kv kv(conn_.get());
  absl::StatusOr<PutResult> put =
      kv.Put(p_ + "k", "v", {.lease = (*s)->lease()}, Soon());
  ASSERT_TRUE(put.ok());
  ASSERT_TRUE(kv.Delete(p_ + "k", {}, Soon()).ok());
  ASSERT_TRUE((*s)->Guard(p_ + "k", put->revision).ok());
  EXPECT_FALSE((*s)->WaitLost(MonoNow() + absl::Seconds(2)).ok());
}

TEST_F(SessionTest, CloseRevokesTheLeaseAndItsKeys) {
  std::unique_ptr<Session> s = HoldingSession(p_ + "holder");
  ASSERT_NE(s, nullptr);
  const LeaseId lease = s->lease();
  ASSERT_TRUE(s->Close(Soon()).ok());
  EXPECT_TRUE(s->Close(Soon()).ok());  // idempotent
  EXPECT_EQ(s->status().code(), absl::StatusCode::kCancelled);
  absl::StatusOr<GetResult> get =
      Kv(conn_.get()).Get(p_ + "holder", {}, Soon());
  ASSERT_TRUE(get.ok());
  EXPECT_TRUE(get->kvs.empty());
  EXPECT_TRUE(IsLeaseNotFound(
      Leases(conn_.get()).TimeToLive(lease, false, Soon()).status()));
}

TEST_F(SessionTest, DestroyingAnOpenSessionRevokes) {
  LeaseId lease;
  {
    std::unique_ptr<Session> s = HoldingSession(p_ + "holder");
    ASSERT_NE(s, nullptr);
    lease = s->lease();
  }
  EXPECT_TRUE(IsLeaseNotFound(
      Leases(conn_.get()).TimeToLive(lease, false, Soon()).status()));
}

}  // namespace
}  // namespace conch::etcd
