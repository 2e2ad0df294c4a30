// The plain types of etcd's key-value calls, in conch's own terms: get,
// put and delete options and results, compares, Txn operations and
// requests. Kv (core/etcd/kv.h) takes and returns them; internal/convert maps
// them to and from the protos.
//
// Value types; thread-compatible.
//
// Example:
//   TxnRequest txn{
//       .compare = {Compare::CreateRevision("/k", CompareOp::kEqual, 0)},
//       .success = {TxnOp::Put("/k", "v")},
//       .failure = {TxnOp::Get("/k")}};
#ifndef CONCH_CORE_ETCD_KV_TYPES_H_
#define CONCH_CORE_ETCD_KV_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/etcd/types.h"

namespace conch::etcd {

enum class SortTarget { kKey, kVersion, kCreate, kMod, kValue };
enum class SortOrder { kNone, kAscend, kDescend };

struct GetOptions {
  // Read every key starting with the key (overrides range_end).
  bool prefix = false;
  // Read [key, range_end); empty reads the key alone.
  std::string range_end;
  int64_t limit = 0;     // 0: no limit
  int64_t revision = 0;  // 0: latest
  SortTarget sort_target = SortTarget::kKey;
  SortOrder sort_order = SortOrder::kNone;
  bool keys_only = false;
  bool count_only = false;
  // 0 means unbounded. etcd applies these bounds to the returned keys
  // only: GetResult::count (and count_only) still counts the whole range.
  int64_t min_create_revision = 0;
  int64_t max_create_revision = 0;
};

struct GetResult {
  int64_t revision = 0;  // store revision the read saw
  std::vector<KeyValue> kvs;
  bool more = false;  // limit cut the result short
  int64_t count = 0;  // keys in the range, regardless of limit
};

struct PutOptions {
  LeaseId lease = kNoLease;
  bool prev_kv = false;
};

struct PutResult {
  int64_t revision = 0;
  std::optional<KeyValue> prev_kv;
};

struct DeleteOptions {
  bool prefix = false;
  std::string range_end;
  bool prev_kv = false;
};

struct DeleteResult {
  int64_t revision = 0;
  int64_t deleted = 0;
  std::vector<KeyValue> prev_kvs;
};

enum class CompareOp { kEqual, kGreater, kLess, kNotEqual };

// One guard of a Txn: compares a property of `key` with a value.
// A missing key has create/mod revision, version and lease 0.
// With `range_end` set, every key in [key, range_end) must pass, and an
// empty range compares as one missing key: CreateRevision(prefix,
// kEqual, 0) with range_end = PrefixRangeEnd(prefix) holds exactly when no
// key starts with the prefix.
struct Compare {
  enum class Target { kVersion, kCreate, kMod, kValue, kLease };

  static Compare CreateRevision(std::string key, CompareOp op, int64_t rev);
  static Compare ModRevision(std::string key, CompareOp op, int64_t rev);
  static Compare Version(std::string key, CompareOp op, int64_t version);
  static Compare Value(std::string key, CompareOp op, std::string value);
  static Compare Lease(std::string key, CompareOp op, LeaseId lease);

  Target target = Target::kVersion;
  CompareOp op = CompareOp::kEqual;
  std::string key;
  std::string range_end;  // empty: the key alone
  int64_t number = 0;     // every target but kValue
  std::string value;      // kValue
};

// One operation inside a Txn branch.
struct TxnOp {
  struct GetOp {
    std::string key;
    GetOptions options;
  };
  struct PutOp {
    std::string key;
    std::string value;
    PutOptions options;
  };
  struct DeleteOp {
    std::string key;
    DeleteOptions options;
  };

  static TxnOp Get(std::string key, GetOptions options = {});
  static TxnOp Put(std::string key, std::string value, PutOptions options = {});
  static TxnOp Delete(std::string key, DeleteOptions options = {});

  std::variant<GetOp, PutOp, DeleteOp> op;
};

struct TxnRequest {
  std::vector<Compare> compare;
  std::vector<TxnOp> success;
  std::vector<TxnOp> failure;
};

struct TxnResult {
  bool succeeded = false;
  int64_t revision = 0;
  // One entry per op of the branch that ran, in order.
  std::vector<std::variant<GetResult, PutResult, DeleteResult>> results;
};

}  // namespace conch::etcd

#endif  // CONCH_CORE_ETCD_KV_TYPES_H_
