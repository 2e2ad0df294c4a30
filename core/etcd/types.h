// conch's own small value types for etcd data: the only shapes of etcd state
// that code outside core/ ever sees (etcdserverpb stays inside core/).
//
// All types are plain values; copy them freely. Thread-compatible.
//
// Example:
//   KeyValue kv = ...;
//   if (kv.lease != kNoLease) std::cout << LeaseHex(kv.lease);
#ifndef CONCH_CORE_ETCD_TYPES_H_
#define CONCH_CORE_ETCD_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace conch::etcd {

// An etcd lease ID. 0 means "no lease".
using LeaseId = int64_t;
inline constexpr LeaseId kNoLease = 0;

// A key with its MVCC metadata, as stored in etcd.
struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  LeaseId lease = kNoLease;
};

// One change observed by a watcher.
struct Event {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  // For kDelete, `kv.mod_revision` is the revision of the deletion and only
  // `kv.key` is meaningful.
  KeyValue kv;
  // Set when the watcher asked for previous values and etcd still had one.
  std::optional<KeyValue> prev_kv;
};

// Lease IDs are shown and stored as 16 lower-case hex digits, fixed width,
// so that keys embedding them sort and compare predictably.
std::string LeaseHex(LeaseId id);
// Parses the form written by LeaseHex (1 to 16 hex digits).
absl::StatusOr<LeaseId> ParseLeaseHex(absl::string_view text);

// The end of the key range that holds every key starting with `prefix`
// (etcd's range_end for prefix reads): the prefix with its last byte
// incremented, dropping trailing 0xff bytes; "\0" for the whole keyspace.
std::string PrefixRangeEnd(absl::string_view prefix);

}  // namespace conch::etcd

#endif  // CONCH_CORE_ETCD_TYPES_H_
