// Kv: etcd's key-value calls (Range, Put, DeleteRange, Txn, Compact) in
// conch's own types.
//
// Every call takes a deadline and returns absl::Status codes as described in
// core/etcd_status.h. Reads are retried on other endpoints until the
// deadline; writes are attempted once (a write that timed out may have been
// applied, so the caller re-reads and decides).
//
// Ownership: borrows a Connection that must outlive it. Thread-safe.
//
// Example:
//   Kv kv(&conn);
//   absl::Time deadline = absl::Now() + absl::Seconds(5);
//   // Create the key only if it does not exist, in one round trip.
//   absl::StatusOr<TxnResult> r = kv.Txn(
//       {.compare = {Compare::CreateRevision("/k", CompareOp::kEqual, 0)},
//        .success = {TxnOp::Put("/k", "v")},
//        .failure = {TxnOp::Get("/k")}},
//       deadline);
#ifndef CONCH_CORE_KV_H_
#define CONCH_CORE_KV_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/connection.h"
#include "core/types.h"

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

class Kv {
 public:
  explicit Kv(Connection* conn) : conn_(conn) {}

  absl::StatusOr<GetResult> Get(absl::string_view key,
                                const GetOptions& options,
                                absl::Time deadline) const;
  absl::StatusOr<PutResult> Put(absl::string_view key, absl::string_view value,
                                const PutOptions& options,
                                absl::Time deadline) const;
  absl::StatusOr<DeleteResult> Delete(absl::string_view key,
                                      const DeleteOptions& options,
                                      absl::Time deadline) const;
  absl::StatusOr<TxnResult> Txn(const TxnRequest& request,
                                absl::Time deadline) const;
  // Compacts history up to `revision` (physical: wait until it is applied).
  absl::Status Compact(int64_t revision, bool physical,
                       absl::Time deadline) const;

 private:
  Connection* const conn_;  // not owned
};

}  // namespace conch::etcd

#endif  // CONCH_CORE_KV_H_
