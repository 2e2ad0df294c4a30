// Integration tests of KeepAlive against a real etcd: keeping a lease
// alive, and noticing loss by answer (revoke) and by deadline (frozen etcd).
#include "core/etcd/keepalive.h"

#include <atomic>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/etcd/etcd_status.h"
#include "core/etcd/lease.h"
#include "core/etcd/test_dial.h"
#include "gtest/gtest.h"
#include "testing/etcd_env.h"
#include "testing/poll.h"

namespace conch::etcd {
namespace {

std::unique_ptr<Connection> MustDial(const test::EtcdServer& server) {
  absl::StatusOr<std::unique_ptr<Connection>> conn = DialTestServer(server);
  EXPECT_TRUE(conn.ok()) << conn.status();
  return conn.ok() ? *std::move(conn) : nullptr;
}

TEST(KeepAliveTest, KeepsTheLeaseAliveWellPastItsTtl) {
  std::unique_ptr<Connection> conn = MustDial(test::SharedEtcd());
  ASSERT_NE(conn, nullptr);
  Leases leases(conn.get());
  absl::StatusOr<LeaseGrant> g = leases.Grant(absl::Seconds(1), Soon());
  ASSERT_TRUE(g.ok()) << g.status();

  absl::Mutex mu;
  std::vector<MonoTime> deadlines;
  std::unique_ptr<KeepAlive> ka =
      KeepAlive::Start(conn.get(), *g, [&](MonoTime d, const absl::Status& s) {
        absl::MutexLock lock(&mu);
        if (s.ok()) deadlines.push_back(d);
      });
  // etcd raises tiny TTLs to its minimum (2 s with default timing).
  const absl::Duration ttl = g->ttl;
  // Two TTLs without loss: the lease would have expired without us.
  EXPECT_TRUE(ka->WaitLost(MonoNow() + 2 * ttl + absl::Milliseconds(500)).ok());
  // One keepalive per TTL/3: at least five answers in 2.5 TTLs.
  EXPECT_GE(ka->answers(), 5);
  EXPECT_GT(ka->deadline(), g->sent_at + g->ttl);
  absl::StatusOr<LeaseInfo> info = leases.TimeToLive(g->id, false, Soon());
  ASSERT_TRUE(info.ok()) << info.status();

  absl::MutexLock lock(&mu);
  ASSERT_GE(deadlines.size(), 2u);
  for (size_t i = 1; i < deadlines.size(); ++i) {
    EXPECT_GT(deadlines[i], deadlines[i - 1]);
  }
  // Each deadline is a send time plus the TTL: never beyond now + TTL.
  EXPECT_LE(deadlines.back(), MonoNow() + ttl);
}

TEST(KeepAliveTest, RevokedLeaseIsLostAtTheNextAnswer) {
  test::EtcdServer& etcd = test::SharedEtcd();
  std::unique_ptr<Connection> conn = MustDial(etcd);
  ASSERT_NE(conn, nullptr);
  absl::StatusOr<LeaseGrant> g =
      Leases(conn.get()).Grant(absl::Seconds(3), Soon());
  ASSERT_TRUE(g.ok());
  std::atomic<int> loss_reports{0};
  std::unique_ptr<KeepAlive> ka =
      KeepAlive::Start(conn.get(), *g, [&](MonoTime, const absl::Status& s) {
        if (!s.ok()) ++loss_reports;
      });
  ASSERT_TRUE(ka->status().ok());
  ASSERT_TRUE(etcd.RevokeLease(g->id).ok());
  const MonoTime revoked = MonoNow();
  // The next keepalive goes out within TTL/3 (1 s) and is answered with
  // TTL 0. (Holders learn faster, by watching their key: see Session.)
  absl::Status lost = ka->WaitLost(revoked + absl::Milliseconds(1100));
  EXPECT_TRUE(IsLeaseNotFound(lost)) << lost;
  // The listener hears of it too (right after the waiters are woken).
  EXPECT_TRUE(
      test::PollUntil([&] { return loss_reports.load() == 1; }, Soon()).ok());
  EXPECT_EQ(loss_reports.load(), 1);
  // Loss is forever.
  EXPECT_FALSE(ka->status().ok());
  EXPECT_FALSE(ka->WaitLost(MonoNow()).ok());
}

// A private etcd, a connection to it, and a kept-alive lease of `ttl` that
// has had one keepalive answered (so its deadline is a real one).
struct PrivateLease {
  std::unique_ptr<test::EtcdServer> etcd;
  std::unique_ptr<Connection> conn;
  std::unique_ptr<KeepAlive> ka;
};

PrivateLease StartPrivateLease(absl::Duration ttl) {
  PrivateLease p;
  absl::StatusOr<std::unique_ptr<test::EtcdServer>> etcd =
      test::EtcdServer::Start();
  EXPECT_TRUE(etcd.ok()) << etcd.status();
  if (!etcd.ok()) return p;
  p.etcd = *std::move(etcd);
  p.conn = MustDial(*p.etcd);
  if (p.conn == nullptr) return p;
  absl::StatusOr<LeaseGrant> g = Leases(p.conn.get()).Grant(ttl, Soon());
  EXPECT_TRUE(g.ok()) << g.status();
  if (!g.ok()) return p;
  p.ka = KeepAlive::Start(p.conn.get(), *g);
  EXPECT_TRUE(
      test::PollUntil([&] { return p.ka->answers() >= 1; }, Soon()).ok());
  return p;
}

TEST(KeepAliveTest, FrozenEtcdLosesTheLeaseAtTheLocalDeadline) {
  PrivateLease p = StartPrivateLease(absl::Seconds(2));
  ASSERT_NE(p.ka, nullptr);
  KeepAlive* ka = p.ka.get();

  ASSERT_TRUE(p.etcd->Freeze().ok());
  absl::Status lost = ka->WaitLost(MonoNow() + absl::Seconds(10));
  const MonoTime noticed = MonoNow();
  ASSERT_TRUE(p.etcd->Thaw().ok());

  EXPECT_EQ(lost.code(), absl::StatusCode::kDeadlineExceeded) << lost;
  // Noticed at the deadline itself: no RPC is needed to see it pass.
  EXPECT_GE(noticed, ka->deadline());
  EXPECT_LE(noticed - ka->deadline(), absl::Milliseconds(100));
  // Whatever arrives after the thaw does not bring it back.
  EXPECT_EQ(ka->WaitLost(MonoNow() + absl::Milliseconds(500)).code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST(KeepAliveTest, SurvivesAnEtcdRestartShorterThanTheTtl) {
  PrivateLease p = StartPrivateLease(absl::Seconds(10));
  ASSERT_NE(p.ka, nullptr);
  KeepAlive* ka = p.ka.get();

  ASSERT_TRUE(p.etcd->Restart().ok());
  const int64_t before = ka->answers();
  // A new stream is opened and answered well before the deadline.
  ASSERT_TRUE(test::PollUntil([&] { return ka->answers() > before; },
                              absl::Now() + absl::Seconds(8))
                  .ok());
  EXPECT_TRUE(ka->status().ok()) << ka->status();
  absl::StatusOr<LeaseInfo> info =
      Leases(p.conn.get()).TimeToLive(ka->id(), false, Soon());
  EXPECT_TRUE(info.ok()) << info.status();
}

}  // namespace
}  // namespace conch::etcd
