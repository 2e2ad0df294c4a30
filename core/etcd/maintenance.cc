#include "core/etcd/maintenance.h"

#include <grpcpp/grpcpp.h>

#include "core/etcd/internal/grpc_call.h"
#include "third_party/etcd_protos/rpc.grpc.pb.h"

namespace conch::etcd {

absl::StatusOr<MemberStatus> Maintenance::Status(absl::Time deadline) const {
  etcdserverpb::StatusRequest request;
  etcdserverpb::StatusResponse response;
  absl::Status status = internal::CallUnary(
      *conn_, deadline, internal::Idempotency::kIdempotent,
      [&](grpc::ClientContext* ctx, std::shared_ptr<grpc::Channel> ch) {
        return etcdserverpb::Maintenance::NewStub(ch)->Status(ctx, request,
                                                              &response);
      });
  if (!status.ok()) return status;
  MemberStatus out;
  out.endpoint = conn_->current_endpoint().original;
  out.version = response.version();
  out.revision = response.header().revision();
  out.cluster_id = response.header().cluster_id();
  out.member_id = response.header().member_id();
  out.leader = response.leader();
  out.raft_term = response.raftterm();
  out.db_size = response.dbsize();
  for (const std::string& e : response.errors()) out.errors.push_back(e);
  return out;
}

}  // namespace conch::etcd
