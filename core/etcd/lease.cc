#include "core/etcd/lease.h"

#include <grpcpp/grpcpp.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/etcd/internal/grpc_call.h"
#include "third_party/etcd_protos/rpc.grpc.pb.h"

namespace conch::etcd {

using internal::CallUnary;
using internal::Idempotency;

absl::StatusOr<LeaseGrant> Leases::Grant(absl::Duration ttl,
                                         absl::Time deadline) const {
  etcdserverpb::LeaseGrantRequest request;
  const int64_t seconds = std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(ttl))));
  request.set_ttl(seconds);
  etcdserverpb::LeaseGrantResponse response;
  LeaseGrant grant;
  absl::Status status = CallUnary(
      *conn_, deadline, Idempotency::kMutation,
      [&](grpc::ClientContext* ctx, std::shared_ptr<grpc::Channel> ch) {
        grant.sent_at = MonoNow();
        return etcdserverpb::Lease::NewStub(ch)->LeaseGrant(ctx, request,
                                                            &response);
      });
  if (!status.ok()) return status;
  if (!response.error().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("etcd refused the lease: ", response.error()));
  }
  grant.id = response.id();
  grant.ttl = absl::Seconds(response.ttl());
  return grant;
}

absl::Status Leases::Revoke(LeaseId id, absl::Time deadline) const {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(id);
  etcdserverpb::LeaseRevokeResponse response;
  // Revoking twice is harmless, so it may be retried on another endpoint.
  return CallUnary(
      *conn_, deadline, Idempotency::kIdempotent,
      [&](grpc::ClientContext* ctx, std::shared_ptr<grpc::Channel> ch) {
        return etcdserverpb::Lease::NewStub(ch)->LeaseRevoke(ctx, request,
                                                             &response);
      });
}

absl::StatusOr<LeaseInfo> Leases::TimeToLive(LeaseId id, bool with_keys,
                                             absl::Time deadline) const {
  etcdserverpb::LeaseTimeToLiveRequest request;
  request.set_id(id);
  request.set_keys(with_keys);
  etcdserverpb::LeaseTimeToLiveResponse response;
  absl::Status status = CallUnary(
      *conn_, deadline, Idempotency::kIdempotent,
      [&](grpc::ClientContext* ctx, std::shared_ptr<grpc::Channel> ch) {
        return etcdserverpb::Lease::NewStub(ch)->LeaseTimeToLive(ctx, request,
                                                                 &response);
      });
  if (!status.ok()) return status;
  // etcd answers TTL -1 for a lease it does not know.
  if (response.ttl() < 0) {
    return MakeEtcdStatus(absl::StatusCode::kNotFound,
                          absl::StrCat("lease ", LeaseHex(id), " not found"),
                          EtcdCondition::kLeaseNotFound);
  }
  LeaseInfo info;
  info.remaining = absl::Seconds(response.ttl());
  info.granted = absl::Seconds(response.grantedttl());
  for (const std::string& key : response.keys()) info.keys.push_back(key);
  return info;
}

}  // namespace conch::etcd
