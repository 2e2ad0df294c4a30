// Maintenance: the etcd member's status (version, revision, leader), as
// shown by `conch status`.
//
// Ownership: borrows a Connection that must outlive it. Thread-safe.
//
// Example:
//   absl::StatusOr<MemberStatus> s =
//       Maintenance(&conn).Status(absl::Now() + absl::Seconds(5));
//   if (s.ok()) std::cout << s->version << " rev " << s->revision;
#ifndef CONCH_CORE_ETCD_MAINTENANCE_H_
#define CONCH_CORE_ETCD_MAINTENANCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/etcd/connection.h"

namespace conch::etcd {

struct MemberStatus {
  std::string endpoint;  // the endpoint that answered
  std::string version;   // etcd server version, e.g. "3.4.23"
  int64_t revision = 0;  // current store revision
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  uint64_t leader = 0;  // member ID of the leader; 0 when none is known
  uint64_t raft_term = 0;
  int64_t db_size = 0;
  std::vector<std::string> errors;  // alarms reported by the member
};

class Maintenance {
 public:
  explicit Maintenance(Connection* conn) : conn_(conn) {}

  absl::StatusOr<MemberStatus> Status(absl::Time deadline) const;

 private:
  Connection* const conn_;  // not owned
};

}  // namespace conch::etcd

#endif  // CONCH_CORE_ETCD_MAINTENANCE_H_
