// Integration tests of Kv against a real etcd (no mocks).
#include "core/etcd/kv.h"

#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "core/etcd/etcd_status.h"
#include "core/etcd/lease.h"
#include "core/etcd/test_dial.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/etcd_env.h"

namespace conch::etcd {
namespace {

using ::testing::ElementsAre;

class KvTest : public SharedEtcdTest {
 protected:
  void SetUp() override {
    SharedEtcdTest::SetUp();
    if (HasFatalFailure()) return;
    kv_ = std::make_unique<Kv>(conn_.get());
  }

  std::vector<std::string> Keys(const GetResult& r) {
    std::vector<std::string> out;
    for (const KeyValue& kv : r.kvs) out.push_back(kv.key.substr(p_.size()));
    return out;
  }

  std::unique_ptr<Kv> kv_;
};

TEST_F(KvTest, PutThenGetReturnsValueAndRevisions) {
  absl::StatusOr<PutResult> put = kv_->Put(p_ + "a", "1", {}, Soon());
  ASSERT_TRUE(put.ok()) << put.status();
  absl::StatusOr<GetResult> get = kv_->Get(p_ + "a", {}, Soon());
  ASSERT_TRUE(get.ok()) << get.status();
  ASSERT_EQ(get->kvs.size(), 1u);
  EXPECT_EQ(get->kvs[0].value, "1");
  EXPECT_EQ(get->kvs[0].create_revision, put->revision);
  EXPECT_EQ(get->kvs[0].mod_revision, put->revision);
  EXPECT_EQ(get->kvs[0].version, 1);
  EXPECT_EQ(get->count, 1);
  EXPECT_GE(get->revision, put->revision);

  absl::StatusOr<PutResult> again =
      kv_->Put(p_ + "a", "2", {.prev_kv = true}, Soon());
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE(again->prev_kv.has_value());
  EXPECT_EQ(again->prev_kv->value, "1");
  EXPECT_GT(again->revision, put->revision);
}

TEST_F(KvTest, MissingKeyIsEmptyNotAnError) {
  absl::StatusOr<GetResult> get = kv_->Get(p_ + "nothing", {}, Soon());
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_TRUE(get->kvs.empty());
  EXPECT_EQ(get->count, 0);
}

TEST_F(KvTest, PrefixSortLimitCountKeysOnly) {
  for (const char* k : {"b", "a", "c"}) {
    ASSERT_TRUE(kv_->Put(p_ + "dir/" + k, k, {}, Soon()).ok());
  }
  ASSERT_TRUE(kv_->Put(p_ + "dirx", "outside", {}, Soon()).ok());

  absl::StatusOr<GetResult> all =
      kv_->Get(p_ + "dir/", {.prefix = true}, Soon());
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(Keys(*all), ElementsAre("dir/a", "dir/b", "dir/c"));

  GetOptions by_create;
  by_create.prefix = true;
  by_create.sort_target = SortTarget::kCreate;
  by_create.sort_order = SortOrder::kDescend;
  by_create.limit = 2;
  absl::StatusOr<GetResult> newest = kv_->Get(p_ + "dir/", by_create, Soon());
  ASSERT_TRUE(newest.ok()) << newest.status();
  EXPECT_THAT(Keys(*newest), ElementsAre("dir/c", "dir/a"));
  EXPECT_TRUE(newest->more);
  EXPECT_EQ(newest->count, 3);

  absl::StatusOr<GetResult> count =
      kv_->Get(p_ + "dir/", {.prefix = true, .count_only = true}, Soon());
  ASSERT_TRUE(count.ok());
  EXPECT_TRUE(count->kvs.empty());
  EXPECT_EQ(count->count, 3);

  absl::StatusOr<GetResult> keys =
      kv_->Get(p_ + "dir/", {.prefix = true, .keys_only = true}, Soon());
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->kvs.size(), 3u);
  EXPECT_EQ(keys->kvs[0].value, "");

  GetOptions range;
  range.range_end = p_ + "dir/c";
  absl::StatusOr<GetResult> ab = kv_->Get(p_ + "dir/a", range, Soon());
  ASSERT_TRUE(ab.ok());
  EXPECT_THAT(Keys(*ab), ElementsAre("dir/a", "dir/b"));
}

TEST_F(KvTest, CreateRevisionBoundsSelectPredecessors) {
  absl::StatusOr<PutResult> first = kv_->Put(p_ + "q/1", "", {}, Soon());
  absl::StatusOr<PutResult> second = kv_->Put(p_ + "q/2", "", {}, Soon());
  absl::StatusOr<PutResult> third = kv_->Put(p_ + "q/3", "", {}, Soon());
  ASSERT_TRUE(first.ok() && second.ok() && third.ok());
  GetOptions before_third;
  before_third.prefix = true;
  before_third.max_create_revision = third->revision - 1;
  before_third.sort_target = SortTarget::kCreate;
  before_third.sort_order = SortOrder::kDescend;
  before_third.limit = 1;
  absl::StatusOr<GetResult> pred = kv_->Get(p_ + "q/", before_third, Soon());
  ASSERT_TRUE(pred.ok()) << pred.status();
  EXPECT_THAT(Keys(*pred), ElementsAre("q/2"));
  GetOptions after_first;
  after_first.prefix = true;
  after_first.min_create_revision = first->revision + 1;
  absl::StatusOr<GetResult> later = kv_->Get(p_ + "q/", after_first, Soon());
  ASSERT_TRUE(later.ok());
  EXPECT_THAT(Keys(*later), ElementsAre("q/2", "q/3"));

  // etcd counts the whole range: the bounds only filter returned keys.
  GetOptions counted = before_third;
  counted.limit = 0;
  counted.count_only = true;
  absl::StatusOr<GetResult> count = kv_->Get(p_ + "q/", counted, Soon());
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->count, 3);
}

TEST_F(KvTest, ReadAtAnOlderRevision) {
  absl::StatusOr<PutResult> v1 = kv_->Put(p_ + "h", "old", {}, Soon());
  ASSERT_TRUE(kv_->Put(p_ + "h", "new", {}, Soon()).ok());
  absl::StatusOr<GetResult> then =
      kv_->Get(p_ + "h", {.revision = v1->revision}, Soon());
  ASSERT_TRUE(then.ok()) << then.status();
  ASSERT_EQ(then->kvs.size(), 1u);
  EXPECT_EQ(then->kvs[0].value, "old");
}

TEST_F(KvTest, FutureRevisionIsOutOfRange) {
  absl::StatusOr<GetResult> get =
      kv_->Get(p_ + "x", {.revision = int64_t{1} << 40}, Soon());
  ASSERT_FALSE(get.ok());
  EXPECT_EQ(get.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ConditionOf(get.status()), EtcdCondition::kFutureRevision);
}

TEST_F(KvTest, DeleteKeyAndPrefixWithPrevKv) {
  for (const char* k : {"d/1", "d/2", "d/3", "e"}) {
    ASSERT_TRUE(kv_->Put(p_ + k, k, {}, Soon()).ok());
  }
  absl::StatusOr<DeleteResult> one =
      kv_->Delete(p_ + "d/1", {.prev_kv = true}, Soon());
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->deleted, 1);
  ASSERT_EQ(one->prev_kvs.size(), 1u);
  EXPECT_EQ(one->prev_kvs[0].value, "d/1");

  absl::StatusOr<DeleteResult> rest =
      kv_->Delete(p_ + "d/", {.prefix = true}, Soon());
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->deleted, 2);
  absl::StatusOr<GetResult> left = kv_->Get(p_, {.prefix = true}, Soon());
  ASSERT_TRUE(left.ok());
  EXPECT_THAT(Keys(*left), ElementsAre("e"));

  absl::StatusOr<DeleteResult> none = kv_->Delete(p_ + "nope", {}, Soon());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->deleted, 0);
}

TEST_F(KvTest, TxnCreateIfAbsentSucceedsOnce) {
  const std::string key = p_ + "office";
  TxnRequest create;
  create.compare = {Compare::CreateRevision(key, CompareOp::kEqual, 0)};
  create.success = {TxnOp::Put(key, "me")};
  create.failure = {TxnOp::Get(key)};

  absl::StatusOr<TxnResult> first = kv_->Txn(create, Soon());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->succeeded);
  ASSERT_EQ(first->results.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<PutResult>(first->results[0]));

  create.success = {TxnOp::Put(key, "someone else")};
  absl::StatusOr<TxnResult> second = kv_->Txn(create, Soon());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->succeeded);
  ASSERT_EQ(second->results.size(), 1u);
  const GetResult& seen = std::get<GetResult>(second->results[0]);
  ASSERT_EQ(seen.kvs.size(), 1u);
  EXPECT_EQ(seen.kvs[0].value, "me");
  EXPECT_EQ(seen.kvs[0].create_revision, first->revision);
}

TEST_F(KvTest, TxnComparesEveryTarget) {
  const std::string key = p_ + "k";
  absl::StatusOr<PutResult> put = kv_->Put(key, "v1", {}, Soon());
  ASSERT_TRUE(put.ok());
  ASSERT_TRUE(kv_->Put(key, "v2", {}, Soon()).ok());
  const int64_t created = put->revision;

  struct Case {
    Compare compare;
    bool want;
  } cases[] = {
      {Compare::CreateRevision(key, CompareOp::kEqual, created), true},
      {Compare::CreateRevision(key, CompareOp::kGreater, created), false},
      {Compare::CreateRevision(key, CompareOp::kLess, created + 1), true},
      {Compare::ModRevision(key, CompareOp::kGreater, created), true},
      {Compare::ModRevision(key, CompareOp::kNotEqual, created), true},
      {Compare::Version(key, CompareOp::kEqual, 2), true},
      {Compare::Version(key, CompareOp::kEqual, 1), false},
      {Compare::Value(key, CompareOp::kEqual, "v2"), true},
      {Compare::Value(key, CompareOp::kNotEqual, "v2"), false},
      {Compare::Value(key, CompareOp::kLess, "v3"), true},
      {Compare::Lease(key, CompareOp::kEqual, kNoLease), true},
      {Compare::Lease(key, CompareOp::kNotEqual, kNoLease), false},
      {Compare::Version(p_ + "absent", CompareOp::kEqual, 0), true},
  };
  for (const Case& c : cases) {
    TxnRequest txn;
    txn.compare = {c.compare};
    absl::StatusOr<TxnResult> r = kv_->Txn(txn, Soon());
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->succeeded, c.want)
        << "target " << static_cast<int>(c.compare.target) << " op "
        << static_cast<int>(c.compare.op);
  }
}

TEST_F(KvTest, TxnCompareOverARangeHoldsForEveryKeyAndForNone) {
  const std::string dir = p_ + "dir/";
  auto none_under = [&](const std::string& prefix) {
    Compare c = Compare::CreateRevision(prefix, CompareOp::kEqual, 0);
    c.range_end = PrefixRangeEnd(prefix);
    return c;
  };
  auto run = [&](const Compare& c) {
    TxnRequest txn;
    txn.compare = {c};
    absl::StatusOr<TxnResult> r = kv_->Txn(txn, Soon());
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() && r->succeeded;
  };
  EXPECT_TRUE(run(none_under(dir)));  // an empty range is one missing key
  ASSERT_TRUE(kv_->Put(dir + "a", "1", {}, Soon()).ok());
  EXPECT_FALSE(run(none_under(dir)));
  EXPECT_TRUE(run(none_under(p_ + "dir2/")));  // a sibling is not inside
  ASSERT_TRUE(kv_->Put(dir + "b", "1", {}, Soon()).ok());
  Compare all_v1 = Compare::Value(dir, CompareOp::kEqual, "1");
  all_v1.range_end = PrefixRangeEnd(dir);
  EXPECT_TRUE(run(all_v1));
  ASSERT_TRUE(kv_->Put(dir + "b", "2", {}, Soon()).ok());
  EXPECT_FALSE(run(all_v1));  // one key in the range fails it
}

TEST_F(KvTest, TxnAllComparesMustHoldAndBranchesRunEveryOp) {
  const std::string a = p_ + "a";
  const std::string b = p_ + "b";
  ASSERT_TRUE(kv_->Put(a, "1", {}, Soon()).ok());
  TxnRequest txn;
  txn.compare = {Compare::Value(a, CompareOp::kEqual, "1"),
                 Compare::Version(b, CompareOp::kEqual, 0)};
  txn.success = {TxnOp::Put(b, "2"), TxnOp::Delete(a), TxnOp::Get(b)};
  absl::StatusOr<TxnResult> r = kv_->Txn(txn, Soon());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->succeeded);
  ASSERT_EQ(r->results.size(), 3u);
  EXPECT_EQ(std::get<DeleteResult>(r->results[1]).deleted, 1);
  ASSERT_EQ(std::get<GetResult>(r->results[2]).kvs.size(), 1u);
  EXPECT_EQ(std::get<GetResult>(r->results[2]).kvs[0].value, "2");

  // Same guards again: the first now fails, so the failure branch runs.
  txn.failure = {TxnOp::Get(a)};
  absl::StatusOr<TxnResult> again = kv_->Txn(txn, Soon());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->succeeded);
  EXPECT_TRUE(std::get<GetResult>(again->results[0]).kvs.empty());
}

TEST_F(KvTest, DuplicateKeyInTxnIsInvalidArgument) {
  TxnRequest txn;
  txn.success = {TxnOp::Put(p_ + "dup", "1"), TxnOp::Put(p_ + "dup", "2")};
  absl::StatusOr<TxnResult> r = kv_->Txn(txn, Soon());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(KvTest, PutWithLeaseAttachesAndUnknownLeaseIsNotFound) {
  Leases leases(conn_.get());
  absl::StatusOr<LeaseGrant> g = leases.Grant(absl::Seconds(30), Soon());
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_TRUE(kv_->Put(p_ + "leased", "x", {.lease = g->id}, Soon()).ok());
  absl::StatusOr<GetResult> get = kv_->Get(p_ + "leased", {}, Soon());
  ASSERT_TRUE(get.ok());
  ASSERT_EQ(get->kvs.size(), 1u);
  EXPECT_EQ(get->kvs[0].lease, g->id);

  TxnRequest same_lease;
  same_lease.compare = {
      Compare::Lease(p_ + "leased", CompareOp::kEqual, g->id)};
  absl::StatusOr<TxnResult> r = kv_->Txn(same_lease, Soon());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->succeeded);

  ASSERT_TRUE(leases.Revoke(g->id, Soon()).ok());
  absl::StatusOr<PutResult> orphan =
      kv_->Put(p_ + "orphan", "x", {.lease = g->id}, Soon());
  ASSERT_FALSE(orphan.ok());
  EXPECT_TRUE(IsLeaseNotFound(orphan.status())) << orphan.status();
}

TEST_F(KvTest, PastDeadlineFailsFast) {
  absl::StatusOr<GetResult> get =
      kv_->Get(p_ + "x", {}, absl::Now() - absl::Seconds(1));
  ASSERT_FALSE(get.ok());
  EXPECT_EQ(get.status().code(), absl::StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace conch::etcd
