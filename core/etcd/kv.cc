#include "core/etcd/kv.h"

#include <grpcpp/grpcpp.h>

#include <utility>

#include "core/etcd/internal/convert.h"
#include "core/etcd/internal/grpc_call.h"
#include "third_party/etcd_protos/rpc.grpc.pb.h"

namespace conch::etcd {

using internal::CallUnary;
using internal::Idempotency;

Compare Compare::CreateRevision(std::string key, CompareOp op, int64_t rev) {
  Compare c;
  c.target = Target::kCreate;
  c.op = op;
  c.key = std::move(key);
  c.number = rev;
  return c;
}

Compare Compare::ModRevision(std::string key, CompareOp op, int64_t rev) {
  Compare c = CreateRevision(std::move(key), op, rev);
  c.target = Target::kMod;
  return c;
}

Compare Compare::Version(std::string key, CompareOp op, int64_t version) {
  Compare c = CreateRevision(std::move(key), op, version);
  c.target = Target::kVersion;
  return c;
}

Compare Compare::Lease(std::string key, CompareOp op, LeaseId lease) {
  Compare c = CreateRevision(std::move(key), op, lease);
  c.target = Target::kLease;
  return c;
}

Compare Compare::Value(std::string key, CompareOp op, std::string value) {
  Compare c;
  c.target = Target::kValue;
  c.op = op;
  c.key = std::move(key);
  c.value = std::move(value);
  return c;
}

TxnOp TxnOp::Get(std::string key, GetOptions options) {
  return TxnOp{GetOp{std::move(key), std::move(options)}};
}

TxnOp TxnOp::Put(std::string key, std::string value, PutOptions options) {
  return TxnOp{PutOp{std::move(key), std::move(value), options}};
}

TxnOp TxnOp::Delete(std::string key, DeleteOptions options) {
  return TxnOp{DeleteOp{std::move(key), std::move(options)}};
}

absl::StatusOr<GetResult> Kv::Get(absl::string_view key,
                                  const GetOptions& options,
                                  absl::Time deadline) const {
  etcdserverpb::RangeRequest request;
  internal::ToProto(key, options, &request);
  etcdserverpb::RangeResponse response;
  absl::Status status = CallUnary(
      *conn_, deadline, Idempotency::kIdempotent,
      [&](grpc::ClientContext* ctx, std::shared_ptr<grpc::Channel> ch) {
        return etcdserverpb::KV::NewStub(ch)->Range(ctx, request, &response);
      });
  if (!status.ok()) return status;
  return internal::FromProto(response);
}

absl::StatusOr<PutResult> Kv::Put(absl::string_view key,
                                  absl::string_view value,
                                  const PutOptions& options,
                                  absl::Time deadline) const {
  etcdserverpb::PutRequest request;
  internal::ToProto(key, value, options, &request);
  etcdserverpb::PutResponse response;
  absl::Status status = CallUnary(
      *conn_, deadline, Idempotency::kMutation,
      [&](grpc::ClientContext* ctx, std::shared_ptr<grpc::Channel> ch) {
        return etcdserverpb::KV::NewStub(ch)->Put(ctx, request, &response);
      });
  if (!status.ok()) return status;
  return internal::FromProto(response);
}

absl::StatusOr<DeleteResult> Kv::Delete(absl::string_view key,
                                        const DeleteOptions& options,
                                        absl::Time deadline) const {
  etcdserverpb::DeleteRangeRequest request;
  internal::ToProto(key, options, &request);
  etcdserverpb::DeleteRangeResponse response;
  absl::Status status = CallUnary(
      *conn_, deadline, Idempotency::kMutation,
      [&](grpc::ClientContext* ctx, std::shared_ptr<grpc::Channel> ch) {
        return etcdserverpb::KV::NewStub(ch)->DeleteRange(ctx, request,
                                                          &response);
      });
  if (!status.ok()) return status;
  return internal::FromProto(response);
}

absl::StatusOr<TxnResult> Kv::Txn(const TxnRequest& txn,
                                  absl::Time deadline) const {
  etcdserverpb::TxnRequest request;
  internal::ToProto(txn, &request);
  bool read_only = true;
  for (const auto* branch : {&txn.success, &txn.failure}) {
    for (const TxnOp& op : *branch) {
      read_only = read_only && std::holds_alternative<TxnOp::GetOp>(op.op);
    }
  }
  etcdserverpb::TxnResponse response;
  absl::Status status = CallUnary(
      *conn_, deadline,
      read_only ? Idempotency::kIdempotent : Idempotency::kMutation,
      [&](grpc::ClientContext* ctx, std::shared_ptr<grpc::Channel> ch) {
        return etcdserverpb::KV::NewStub(ch)->Txn(ctx, request, &response);
      });
  if (!status.ok()) return status;
  return internal::FromProto(response);
}

absl::Status Kv::Compact(int64_t revision, bool physical,
                         absl::Time deadline) const {
  etcdserverpb::CompactionRequest request;
  request.set_revision(revision);
  request.set_physical(physical);
  etcdserverpb::CompactionResponse response;
  return CallUnary(
      *conn_, deadline, Idempotency::kIdempotent,
      [&](grpc::ClientContext* ctx, std::shared_ptr<grpc::Channel> ch) {
        return etcdserverpb::KV::NewStub(ch)->Compact(ctx, request, &response);
      });
}

}  // namespace conch::etcd
