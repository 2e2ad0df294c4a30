#include "conch/status_cmd.h"

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "conch/exit_codes.h"
#include "conch/json_writer.h"
#include "conch/output.h"
#include "core/etcd/connection.h"
#include "core/etcd/maintenance.h"
#include "core/view/cluster_view.h"

namespace conch {
namespace {

struct ConchCounts {
  int64_t sema_holders = 0;
  int64_t sema_waiters = 0;
};

ConchCounts Count(const observe::ClusterView& view) {
  ConchCounts c;
  for (const observe::SemaphoreView& s : view.semaphores) {
    c.sema_holders += static_cast<int64_t>(s.holders.size());
    c.sema_waiters += static_cast<int64_t>(s.waiters.size());
  }
  return c;
}

}  // namespace

CLI::App* SetupStatus(CLI::App& root, StatusArgs* /*args*/) {
  CLI::App* sub = root.add_subcommand(
      "status",
      "show the etcd member conch talks to (version, leader, revision) "
      "and what conch keeps under --prefix (live daemons; counts of jobs, "
      "offices, semaphores)");
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
  // What conch keeps under the prefix: one read-only Txn, no history.
  absl::StatusOr<observe::ClusterView> view =
      observe::ReadClusterView(conn->get(), options->prefix, {.history = 0},
                               absl::Now() + options->connection.dial_timeout);
  // A user whose role may not read the whole prefix still gets etcd's
  // part; conch's part says why it is missing. Anything else fails.
  std::string unreadable;
  if (!view.ok()) {
    if (!absl::IsPermissionDenied(view.status())) {
      std::cerr << "conch: status: reading " << OneLine(options->prefix) << ": "
                << OneLine(view.status().message()) << "\n";
      return ExitCodeFor(view.status());
    }
    unreadable = std::string(view.status().message());
    view = observe::ClusterView{};
    view->prefix = options->prefix;
  }
  const ConchCounts counts = Count(*view);
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
    w.Key("conch").BeginObject();
    w.Field("prefix", view->prefix);
    if (!unreadable.empty()) {
      w.Field("error", unreadable);
    } else {
      w.Key("daemons").BeginArray();
      for (const observe::DaemonView& d : view->daemons) {
        w.BeginObject().Field("id", d.id);
        if (d.error.empty()) {
          w.Field("host", d.record.host())
              .Field("pid", int64_t{d.record.pid()})
              .Field("version", d.record.version())
              .Field("since", StoredTimestamp(d.record.since()));
        } else {
          w.Field("error", d.error);
        }
        w.Field("lease", d.lease).EndObject();
      }
      w.EndArray();
      w.Field("jobs", static_cast<int64_t>(view->jobs.size()));
      w.Field("unreadable_jobs", static_cast<int64_t>(view->bad_jobs.size()));
      w.Field("offices", static_cast<int64_t>(view->offices.size()));
      w.Field("semaphores", static_cast<int64_t>(view->semaphores.size()));
      w.Field("sema_holders", counts.sema_holders);
      w.Field("sema_waiters", counts.sema_waiters);
    }
    w.EndObject();
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
    std::vector<std::string> ids;
    for (const observe::DaemonView& d : view->daemons) {
      ids.push_back(OneLine(d.id));
    }
    std::cout << "prefix:    " << OneLine(view->prefix) << "\n";
    if (!unreadable.empty()) {
      std::cout << "conch:     not readable (" << OneLine(unreadable) << ")\n";
      return kExitOk;
    }
    std::cout << "daemons:   " << view->daemons.size() << " live"
              << (ids.empty()
                      ? ""
                      : absl::StrCat(" (", absl::StrJoin(ids, ", "), ")"))
              << "\n"
              << "jobs:      " << view->jobs.size();
    if (!view->bad_jobs.empty()) {
      std::cout << " (+" << view->bad_jobs.size() << " unreadable)";
    }
    std::cout << "\n"
              << "offices:   " << view->offices.size() << "\n"
              << "semaphores: " << view->semaphores.size() << " ("
              << counts.sema_holders << " holding, " << counts.sema_waiters
              << " waiting)\n";
  }
  return kExitOk;
}

}  // namespace conch
