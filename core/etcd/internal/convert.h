// Internal to core/: conversions between etcdserverpb/mvccpb messages and
// conch's own types. Pure functions; thread-safe.
#ifndef CONCH_CORE_ETCD_INTERNAL_CONVERT_H_
#define CONCH_CORE_ETCD_INTERNAL_CONVERT_H_

#include "core/etcd/kv_types.h"
#include "core/etcd/types.h"
#include "third_party/etcd_protos/kv.pb.h"
#include "third_party/etcd_protos/rpc.pb.h"

namespace conch::etcd::internal {

KeyValue FromProto(const mvccpb::KeyValue& kv);
Event FromProto(const mvccpb::Event& event);

void ToProto(absl::string_view key, const GetOptions& o,
             etcdserverpb::RangeRequest* out);
void ToProto(absl::string_view key, absl::string_view value,
             const PutOptions& o, etcdserverpb::PutRequest* out);
void ToProto(absl::string_view key, const DeleteOptions& o,
             etcdserverpb::DeleteRangeRequest* out);
void ToProto(const TxnRequest& request, etcdserverpb::TxnRequest* out);

GetResult FromProto(const etcdserverpb::RangeResponse& r);
PutResult FromProto(const etcdserverpb::PutResponse& r);
DeleteResult FromProto(const etcdserverpb::DeleteRangeResponse& r);
TxnResult FromProto(const etcdserverpb::TxnResponse& r);

}  // namespace conch::etcd::internal

#endif  // CONCH_CORE_ETCD_INTERNAL_CONVERT_H_
