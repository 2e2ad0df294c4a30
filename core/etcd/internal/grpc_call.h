// Internal to core/: runs one unary etcd RPC with conch's call policy and
// converts its gRPC status to absl::Status.
//
// Policy:
//   - the context gets the caller's deadline, `hasleader=true` and the token;
//   - "invalid auth token" → re-authenticate once, then retry;
//   - Unavailable → the connection retires the channel (a fresh TCP
//     connection next time) and moves to the next endpoint; idempotent
//     calls (reads) are retried there until the deadline, mutations are not
//     (a write that timed out may have been applied: the caller decides);
//   - DeadlineExceeded → the channel is retired too (a connection that
//     stopped answering is not used again), and the error returned.
//
// Every failed attempt is counted (CountError).
//
// CallUnary is a template over the connection (anything with channel(),
// PrepareContext, Reauthenticate, ReportUnavailable and CountError, i.e.
// Connection),
// so that Connection itself can use it without a dependency cycle.
//
// Thread-safe (Connection is).
#ifndef CONCH_CORE_ETCD_INTERNAL_GRPC_CALL_H_
#define CONCH_CORE_ETCD_INTERNAL_GRPC_CALL_H_

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/etcd/etcd_status.h"

namespace conch::etcd::internal {

enum class Idempotency { kIdempotent, kMutation };

inline absl::Status FromGrpc(const grpc::Status& status) {
  return FromEtcdError(static_cast<int>(status.error_code()),
                       status.error_message());
}

// `rpc` is called as rpc(grpc::ClientContext*, std::shared_ptr<Channel>)
// and returns grpc::Status.
template <typename Conn, typename Rpc>
absl::Status CallUnary(Conn& conn, absl::Time deadline, Idempotency idempotency,
                       Rpc rpc) {
  bool reauthenticated = false;
  absl::Duration pause = absl::Milliseconds(20);
  while (true) {
    grpc::ClientContext context;
    std::shared_ptr<grpc::Channel> channel = conn.channel();
    const std::string token = conn.PrepareContext(&context, deadline);
    absl::Status status = FromGrpc(rpc(&context, channel));
    if (status.ok()) return status;
    conn.CountError(status.code());
    if (IsInvalidAuthToken(status) && !reauthenticated) {
      reauthenticated = true;
      absl::Status reauth = conn.Reauthenticate(token, deadline);
      if (!reauth.ok()) return reauth;
      continue;
    }
    if (absl::IsDeadlineExceeded(status)) conn.ReportUnavailable(channel);
    if (absl::IsUnavailable(status)) {
      conn.ReportUnavailable(channel);
      if (idempotency == Idempotency::kIdempotent &&
          absl::Now() + pause < deadline) {
        absl::SleepFor(pause);  // Back off between endpoints, not a sync.
        pause = std::min(pause * 2, absl::Milliseconds(500));
        continue;
      }
    }
    return status;
  }
}

}  // namespace conch::etcd::internal

#endif  // CONCH_CORE_ETCD_INTERNAL_GRPC_CALL_H_
