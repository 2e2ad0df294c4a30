// How etcd's errors look once they leave the client layer.
//
// gRPC statuses are converted to absl::Status exactly once, at the edge of
// core/, with codes chosen by what the caller should do:
//   Unavailable        retry (no leader, leader changed, request timed out,
//                      transport down); the client has moved to the next
//                      endpoint already
//   NotFound           the lease is gone (revoked or expired)
//   OutOfRange         a watch or read asked for a compacted (or future)
//                      revision: re-read and re-watch
//   PermissionDenied   the user may not touch that key range (exit 77)
//   Unauthenticated    credentials refused or token invalid (exit 77)
//   DeadlineExceeded   the caller's deadline passed
//   InvalidArgument    the request was malformed (a bug or bad input)
// The predicates below recognise the specific etcd conditions regardless of
// the message text, through a payload attached at conversion.
//
// Thread-safe pure functions.
//
// Example:
//   absl::StatusOr<Watcher> w = ...;
//   if (IsCompacted(w.status())) { /* re-read, then watch again */ }
#ifndef CONCH_CORE_ETCD_ETCD_STATUS_H_
#define CONCH_CORE_ETCD_ETCD_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace conch::etcd {

// The etcd conditions a caller may need to tell apart.
enum class EtcdCondition {
  kNone,
  kCompacted,         // requested revision has been compacted
  kFutureRevision,    // requested revision is in the future
  kLeaseNotFound,     // requested lease not found
  kInvalidAuthToken,  // token expired or unknown: re-authenticate
  kNoLeader,          // member cut off from quorum
};

// Builds the status for `condition` with `code` and `message`.
absl::Status MakeEtcdStatus(absl::StatusCode code, absl::string_view message,
                            EtcdCondition condition);

// The condition recorded in `status` (kNone when there is none).
EtcdCondition ConditionOf(const absl::Status& status);

inline bool IsCompacted(const absl::Status& s) {
  return ConditionOf(s) == EtcdCondition::kCompacted;
}
inline bool IsLeaseNotFound(const absl::Status& s) {
  return ConditionOf(s) == EtcdCondition::kLeaseNotFound;
}
inline bool IsInvalidAuthToken(const absl::Status& s) {
  return ConditionOf(s) == EtcdCondition::kInvalidAuthToken;
}

// Maps a gRPC status code and message as etcd sends them (for example
// code 14 "etcdserver: no leader") to conch's absl::Status. Exposed with
// plain types so that it can be tested without a server.
absl::Status FromEtcdError(int grpc_code, absl::string_view message);

}  // namespace conch::etcd

#endif  // CONCH_CORE_ETCD_ETCD_STATUS_H_
