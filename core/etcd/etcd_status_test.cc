#include "core/etcd/etcd_status.h"

#include "gtest/gtest.h"

namespace conch::etcd {
namespace {

// gRPC status codes as etcd sends them.
constexpr int kGrpcUnknown = 2;
constexpr int kGrpcInvalidArgument = 3;
constexpr int kGrpcDeadlineExceeded = 4;
constexpr int kGrpcNotFound = 5;
constexpr int kGrpcPermissionDenied = 7;
constexpr int kGrpcFailedPrecondition = 9;
constexpr int kGrpcOutOfRange = 11;
constexpr int kGrpcUnavailable = 14;
constexpr int kGrpcUnauthenticated = 16;

TEST(FromEtcdErrorTest, OkStaysOk) { EXPECT_TRUE(FromEtcdError(0, "").ok()); }

TEST(FromEtcdErrorTest, MapsEtcdErrorsToWhatTheCallerShouldDo) {
  struct Case {
    int grpc_code;
    const char* message;
    absl::StatusCode want;
    EtcdCondition condition;
  } cases[] = {
      {kGrpcUnavailable, "etcdserver: no leader",
       absl::StatusCode::kUnavailable, EtcdCondition::kNoLeader},
      {kGrpcUnavailable, "etcdserver: leader changed",
       absl::StatusCode::kUnavailable, EtcdCondition::kNone},
      {kGrpcUnavailable, "etcdserver: request timed out",
       absl::StatusCode::kUnavailable, EtcdCondition::kNone},
      {kGrpcNotFound, "etcdserver: requested lease not found",
       absl::StatusCode::kNotFound, EtcdCondition::kLeaseNotFound},
      {kGrpcOutOfRange,
       "etcdserver: mvcc: required revision has been compacted",
       absl::StatusCode::kOutOfRange, EtcdCondition::kCompacted},
      {kGrpcOutOfRange,
       "etcdserver: mvcc: required revision is a future revision",
       absl::StatusCode::kOutOfRange, EtcdCondition::kFutureRevision},
      {kGrpcPermissionDenied, "etcdserver: permission denied",
       absl::StatusCode::kPermissionDenied, EtcdCondition::kNone},
      {kGrpcUnauthenticated, "etcdserver: invalid auth token",
       absl::StatusCode::kUnauthenticated, EtcdCondition::kInvalidAuthToken},
      {kGrpcInvalidArgument,
       "etcdserver: authentication failed, invalid user ID or password",
       absl::StatusCode::kUnauthenticated, EtcdCondition::kNone},
      {kGrpcFailedPrecondition, "etcdserver: user name not found",
       absl::StatusCode::kUnauthenticated, EtcdCondition::kNone},
      // Not etcd's own words: the gRPC code passes through.
      {kGrpcUnavailable, "failed to connect to all addresses",
       absl::StatusCode::kUnavailable, EtcdCondition::kNone},
      {kGrpcDeadlineExceeded, "Deadline Exceeded",
       absl::StatusCode::kDeadlineExceeded, EtcdCondition::kNone},
      {kGrpcInvalidArgument, "etcdserver: duplicate key given in txn request",
       absl::StatusCode::kInvalidArgument, EtcdCondition::kNone},
      {kGrpcUnknown, "something new", absl::StatusCode::kUnknown,
       EtcdCondition::kNone},
  };
  for (const Case& c : cases) {
    absl::Status s = FromEtcdError(c.grpc_code, c.message);
    EXPECT_EQ(s.code(), c.want) << c.message;
    EXPECT_EQ(ConditionOf(s), c.condition) << c.message;
    EXPECT_EQ(s.message(), c.message);
  }
}

TEST(FromEtcdErrorTest, PredicatesFollowTheCondition) {
  EXPECT_TRUE(IsCompacted(FromEtcdError(
      kGrpcOutOfRange, "mvcc: required revision has been compacted")));
  EXPECT_FALSE(IsCompacted(absl::OutOfRangeError("compacted")));
  EXPECT_TRUE(IsLeaseNotFound(
      FromEtcdError(kGrpcNotFound, "etcdserver: requested lease not found")));
  EXPECT_TRUE(IsInvalidAuthToken(
      FromEtcdError(kGrpcUnauthenticated, "etcdserver: invalid auth token")));
  EXPECT_EQ(ConditionOf(absl::OkStatus()), EtcdCondition::kNone);
}

TEST(FromEtcdErrorTest, OutOfRangeGrpcCodeIsUnknown) {
  EXPECT_EQ(FromEtcdError(99, "x").code(), absl::StatusCode::kUnknown);
}

}  // namespace
}  // namespace conch::etcd
