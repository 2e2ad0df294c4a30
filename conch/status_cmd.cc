#include "conch/status_cmd.h"

#include <cstdio>
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "conch/exit_codes.h"
#include "conch/json_writer.h"
#include "core/etcd/connection.h"
#include "core/etcd/maintenance.h"

namespace conch {

CLI::App* SetupStatus(CLI::App& root, StatusArgs* /*args*/) {
  CLI::App* sub = root.add_subcommand(
      "status",
      "show the etcd member conch talks to (version, leader, revision)");
  sub->footer(
      "Examples:\n"
      "  conch status\n"
      "  conch status --endpoints https://etcd1:2379,https://etcd2:2379 "
      "--cacert ca.pem\n"
      "  CONCH_ENDPOINTS=10.0.0.5:2379 conch status --json");
  return sub;
}

int RunStatus(const StatusArgs& /*args*/, const CommonFlags& common) {
  absl::StatusOr<CommonOptions> options = Resolve(common);
  if (!options.ok()) {
    std::cerr << "conch: " << OneLine(options.status().message()) << "\n";
    return ExitCodeFor(options.status());
  }
  absl::StatusOr<std::unique_ptr<etcd::Connection>> conn =
      etcd::Connection::Dial(options->connection);
  if (!conn.ok()) {
    std::cerr << "conch: " << OneLine(conn.status().message()) << "\n";
    return ExitCodeFor(conn.status());
  }
  absl::StatusOr<etcd::MemberStatus> status =
      etcd::Maintenance(conn->get())
          .Status(absl::Now() + options->connection.dial_timeout);
  if (!status.ok()) {
    std::cerr << "conch: status: " << OneLine(status.status().message())
              << "\n";
    return ExitCodeFor(status.status());
  }
  if (options->json) {
    JsonWriter w;
    w.BeginObject();
    w.Field("endpoint", status->endpoint);
    w.Field("version", status->version);
    w.Field("cluster_id", absl::StrFormat("%016x", status->cluster_id));
    w.Field("member_id", absl::StrFormat("%016x", status->member_id));
    w.Field("leader", absl::StrFormat("%016x", status->leader));
    w.Field("raft_term", static_cast<int64_t>(status->raft_term));
    w.Field("revision", status->revision);
    w.Field("db_size", status->db_size);
    w.EndObject();
    std::cout << w.Finish() << "\n";
  } else {
    std::cout << "endpoint:  " << status->endpoint << "\n"
              << "version:   " << status->version << "\n"
              << "cluster:   " << absl::StrFormat("%016x", status->cluster_id)
              << "\n"
              << "member:    " << absl::StrFormat("%016x", status->member_id)
              << "\n"
              << "leader:    "
              << (status->leader == 0
                      ? std::string("none")
                      : absl::StrFormat("%016x", status->leader))
              << "\n"
              << "raft term: " << status->raft_term << "\n"
              << "revision:  " << status->revision << "\n";
    if (!status->errors.empty()) {
      std::cout << "alarms:    " << absl::StrJoin(status->errors, "; ") << "\n";
    }
  }
  return kExitOk;
}

}  // namespace conch
