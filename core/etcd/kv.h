// Kv: etcd's key-value calls (Range, Put, DeleteRange, Txn, Compact) in
// conch's own types.
//
// Every call takes a deadline and returns absl::Status codes as described in
// core/etcd/etcd_status.h. Reads are retried on other endpoints until the
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
#ifndef CONCH_CORE_ETCD_KV_H_
#define CONCH_CORE_ETCD_KV_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/etcd/connection.h"
#include "core/etcd/kv_types.h"

namespace conch::etcd {

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

#endif  // CONCH_CORE_ETCD_KV_H_
