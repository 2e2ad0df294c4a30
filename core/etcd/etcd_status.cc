#include "core/etcd/etcd_status.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace conch::etcd {
namespace {

constexpr absl::string_view kPayloadUrl = "type.conch.dev/etcd-condition";

struct Rule {
  absl::string_view needle;
  absl::StatusCode code;
  EtcdCondition condition;
};

// etcd's error strings (server/etcdserver/api/v3rpc/rpctypes and mvcc), the
// part after the "etcdserver: " / "mvcc: " prefix, matched as substrings.
constexpr Rule kRules[] = {
    {"required revision has been compacted", absl::StatusCode::kOutOfRange,
     EtcdCondition::kCompacted},
    {"required revision is a future revision", absl::StatusCode::kOutOfRange,
     EtcdCondition::kFutureRevision},
    {"requested lease not found", absl::StatusCode::kNotFound,
     EtcdCondition::kLeaseNotFound},
    {"invalid auth token", absl::StatusCode::kUnauthenticated,
     EtcdCondition::kInvalidAuthToken},
    {"no leader", absl::StatusCode::kUnavailable, EtcdCondition::kNoLeader},
    {"leader changed", absl::StatusCode::kUnavailable, EtcdCondition::kNone},
    {"request timed out", absl::StatusCode::kUnavailable, EtcdCondition::kNone},
    {"too many requests", absl::StatusCode::kUnavailable, EtcdCondition::kNone},
    {"server stopped", absl::StatusCode::kUnavailable, EtcdCondition::kNone},
    {"not capable", absl::StatusCode::kUnavailable, EtcdCondition::kNone},
    {"permission denied", absl::StatusCode::kPermissionDenied,
     EtcdCondition::kNone},
    {"authentication failed", absl::StatusCode::kUnauthenticated,
     EtcdCondition::kNone},
    {"user name not found", absl::StatusCode::kUnauthenticated,
     EtcdCondition::kNone},
    {"user name is empty", absl::StatusCode::kUnauthenticated,
     EtcdCondition::kNone},
    {"authentication is not enabled", absl::StatusCode::kUnauthenticated,
     EtcdCondition::kNone},
};

}  // namespace

absl::Status MakeEtcdStatus(absl::StatusCode code, absl::string_view message,
                            EtcdCondition condition) {
  absl::Status status(code, message);
  if (condition != EtcdCondition::kNone) {
    status.SetPayload(kPayloadUrl,
                      absl::Cord(std::to_string(static_cast<int>(condition))));
  }
  return status;
}

EtcdCondition ConditionOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kPayloadUrl);
  if (!payload.has_value()) return EtcdCondition::kNone;
  const std::string text(*payload);
  if (text.empty() || text.size() > 2) return EtcdCondition::kNone;
  return static_cast<EtcdCondition>(std::stoi(text));
}

absl::Status FromEtcdError(int grpc_code, absl::string_view message) {
  if (grpc_code == 0) return absl::OkStatus();
  for (const Rule& rule : kRules) {
    if (absl::StrContains(message, rule.needle)) {
      return MakeEtcdStatus(rule.code, message, rule.condition);
    }
  }
  // gRPC's own codes coincide with absl's numbering.
  if (grpc_code < 0 || grpc_code > 16) {
    return absl::UnknownError(
        absl::StrCat("etcd: unexpected status ", grpc_code, ": ", message));
  }
  return absl::Status(static_cast<absl::StatusCode>(grpc_code), message);
}

}  // namespace conch::etcd
