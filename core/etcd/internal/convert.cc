#include "core/etcd/internal/convert.h"

#include <string>
#include <utility>

namespace conch::etcd::internal {
namespace {

etcdserverpb::RangeRequest::SortTarget SortTargetProto(SortTarget t) {
  switch (t) {
    case SortTarget::kKey:
      return etcdserverpb::RangeRequest::KEY;
    case SortTarget::kVersion:
      return etcdserverpb::RangeRequest::VERSION;
    case SortTarget::kCreate:
      return etcdserverpb::RangeRequest::CREATE;
    case SortTarget::kMod:
      return etcdserverpb::RangeRequest::MOD;
    case SortTarget::kValue:
      return etcdserverpb::RangeRequest::VALUE;
  }
  return etcdserverpb::RangeRequest::KEY;
}

etcdserverpb::RangeRequest::SortOrder SortOrderProto(SortOrder o) {
  switch (o) {
    case SortOrder::kNone:
      return etcdserverpb::RangeRequest::NONE;
    case SortOrder::kAscend:
      return etcdserverpb::RangeRequest::ASCEND;
    case SortOrder::kDescend:
      return etcdserverpb::RangeRequest::DESCEND;
  }
  return etcdserverpb::RangeRequest::NONE;
}

etcdserverpb::Compare::CompareResult CompareOpProto(CompareOp op) {
  switch (op) {
    case CompareOp::kEqual:
      return etcdserverpb::Compare::EQUAL;
    case CompareOp::kGreater:
      return etcdserverpb::Compare::GREATER;
    case CompareOp::kLess:
      return etcdserverpb::Compare::LESS;
    case CompareOp::kNotEqual:
      return etcdserverpb::Compare::NOT_EQUAL;
  }
  return etcdserverpb::Compare::EQUAL;
}

void CompareProto(const Compare& c, etcdserverpb::Compare* out) {
  out->set_key(c.key);
  if (!c.range_end.empty()) out->set_range_end(c.range_end);
  out->set_result(CompareOpProto(c.op));
  switch (c.target) {
    case Compare::Target::kVersion:
      out->set_target(etcdserverpb::Compare::VERSION);
      out->set_version(c.number);
      break;
    case Compare::Target::kCreate:
      out->set_target(etcdserverpb::Compare::CREATE);
      out->set_create_revision(c.number);
      break;
    case Compare::Target::kMod:
      out->set_target(etcdserverpb::Compare::MOD);
      out->set_mod_revision(c.number);
      break;
    case Compare::Target::kValue:
      out->set_target(etcdserverpb::Compare::VALUE);
      out->set_value(c.value);
      break;
    case Compare::Target::kLease:
      out->set_target(etcdserverpb::Compare::LEASE);
      out->set_lease(c.number);
      break;
  }
}

void TxnOpProto(const TxnOp& op, etcdserverpb::RequestOp* out) {
  if (const auto* get = std::get_if<TxnOp::GetOp>(&op.op)) {
    internal::ToProto(get->key, get->options, out->mutable_request_range());
  } else if (const auto* put = std::get_if<TxnOp::PutOp>(&op.op)) {
    internal::ToProto(put->key, put->value, put->options,
                      out->mutable_request_put());
  } else if (const auto* del = std::get_if<TxnOp::DeleteOp>(&op.op)) {
    internal::ToProto(del->key, del->options,
                      out->mutable_request_delete_range());
  }
}

std::string RangeEnd(absl::string_view key, bool prefix,
                     const std::string& range_end) {
  if (prefix) return PrefixRangeEnd(key);
  return range_end;
}

}  // namespace

KeyValue FromProto(const mvccpb::KeyValue& kv) {
  KeyValue out;
  out.key = kv.key();
  out.value = kv.value();
  out.create_revision = kv.create_revision();
  out.mod_revision = kv.mod_revision();
  out.version = kv.version();
  out.lease = kv.lease();
  return out;
}

Event FromProto(const mvccpb::Event& event) {
  Event out;
  out.type = event.type() == mvccpb::Event::DELETE ? Event::Type::kDelete
                                                   : Event::Type::kPut;
  out.kv = FromProto(event.kv());
  if (event.has_prev_kv()) out.prev_kv = FromProto(event.prev_kv());
  return out;
}

void ToProto(absl::string_view key, const GetOptions& o,
             etcdserverpb::RangeRequest* out) {
  out->set_key(std::string(key));
  out->set_range_end(RangeEnd(key, o.prefix, o.range_end));
  out->set_limit(o.limit);
  out->set_revision(o.revision);
  out->set_sort_target(SortTargetProto(o.sort_target));
  out->set_sort_order(SortOrderProto(o.sort_order));
  out->set_keys_only(o.keys_only);
  out->set_count_only(o.count_only);
  out->set_min_create_revision(o.min_create_revision);
  out->set_max_create_revision(o.max_create_revision);
}

void ToProto(absl::string_view key, absl::string_view value,
             const PutOptions& o, etcdserverpb::PutRequest* out) {
  out->set_key(std::string(key));
  out->set_value(std::string(value));
  out->set_lease(o.lease);
  out->set_prev_kv(o.prev_kv);
}

void ToProto(absl::string_view key, const DeleteOptions& o,
             etcdserverpb::DeleteRangeRequest* out) {
  out->set_key(std::string(key));
  out->set_range_end(RangeEnd(key, o.prefix, o.range_end));
  out->set_prev_kv(o.prev_kv);
}

void ToProto(const TxnRequest& request, etcdserverpb::TxnRequest* out) {
  for (const Compare& c : request.compare) CompareProto(c, out->add_compare());
  for (const TxnOp& op : request.success) TxnOpProto(op, out->add_success());
  for (const TxnOp& op : request.failure) TxnOpProto(op, out->add_failure());
}

GetResult FromProto(const etcdserverpb::RangeResponse& r) {
  GetResult out;
  out.revision = r.header().revision();
  out.kvs.reserve(r.kvs_size());
  for (const mvccpb::KeyValue& kv : r.kvs()) out.kvs.push_back(FromProto(kv));
  out.more = r.more();
  out.count = r.count();
  return out;
}

PutResult FromProto(const etcdserverpb::PutResponse& r) {
  PutResult out;
  out.revision = r.header().revision();
  if (r.has_prev_kv()) out.prev_kv = FromProto(r.prev_kv());
  return out;
}

DeleteResult FromProto(const etcdserverpb::DeleteRangeResponse& r) {
  DeleteResult out;
  out.revision = r.header().revision();
  out.deleted = r.deleted();
  for (const mvccpb::KeyValue& kv : r.prev_kvs()) {
    out.prev_kvs.push_back(FromProto(kv));
  }
  return out;
}

TxnResult FromProto(const etcdserverpb::TxnResponse& r) {
  TxnResult out;
  out.succeeded = r.succeeded();
  out.revision = r.header().revision();
  for (const etcdserverpb::ResponseOp& op : r.responses()) {
    switch (op.response_case()) {
      case etcdserverpb::ResponseOp::kResponseRange: {
        GetResult g = FromProto(op.response_range());
        g.revision = out.revision;
        out.results.emplace_back(std::move(g));
        break;
      }
      case etcdserverpb::ResponseOp::kResponsePut: {
        PutResult p = FromProto(op.response_put());
        p.revision = out.revision;
        out.results.emplace_back(std::move(p));
        break;
      }
      case etcdserverpb::ResponseOp::kResponseDeleteRange: {
        DeleteResult d = FromProto(op.response_delete_range());
        d.revision = out.revision;
        out.results.emplace_back(std::move(d));
        break;
      }
      default:
        // Nested transactions are never sent by conch.
        break;
    }
  }
  return out;
}

}  // namespace conch::etcd::internal
