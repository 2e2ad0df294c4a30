// Leases: etcd's unary lease calls (grant, revoke, time-to-live).
//
// Keeping a lease alive is KeepAlive's job (core/etcd/keepalive.h); a Session
// combines both. TTLs are absl::Duration rounded up to whole seconds, the
// unit etcd grants in.
//
// Ownership: borrows a Connection that must outlive it. Thread-safe.
//
// Example:
//   Leases leases(&conn);
//   absl::StatusOr<LeaseGrant> g =
//       leases.Grant(absl::Seconds(10), absl::Now() + absl::Seconds(5));
//   ...
//   leases.Revoke(g->id, absl::Now() + absl::Seconds(5));
#ifndef CONCH_CORE_ETCD_LEASE_H_
#define CONCH_CORE_ETCD_LEASE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/base/mono_time.h"
#include "core/etcd/connection.h"
#include "core/etcd/types.h"

namespace conch::etcd {

struct LeaseGrant {
  LeaseId id = kNoLease;
  absl::Duration ttl;  // as granted by etcd
  // CLOCK_MONOTONIC instant at which the grant request was sent: the lease
  // cannot expire on the server before sent_at + ttl.
  MonoTime sent_at;
};

struct LeaseInfo {
  absl::Duration remaining;  // negative once expired or revoked
  absl::Duration granted;
  std::vector<std::string> keys;  // only when asked for
};

class Leases {
 public:
  explicit Leases(Connection* conn) : conn_(conn) {}

  // Grants a lease of at least `ttl` (rounded up to whole seconds, ≥ 1 s).
  absl::StatusOr<LeaseGrant> Grant(absl::Duration ttl,
                                   absl::Time deadline) const;
  // Revokes `id`, deleting every key attached to it. NotFound when the lease
  // no longer exists.
  absl::Status Revoke(LeaseId id, absl::Time deadline) const;
  // Remaining and granted TTL; NotFound when the lease no longer exists.
  absl::StatusOr<LeaseInfo> TimeToLive(LeaseId id, bool with_keys,
                                       absl::Time deadline) const;

 private:
  Connection* const conn_;  // not owned
};

}  // namespace conch::etcd

#endif  // CONCH_CORE_ETCD_LEASE_H_
