// ClusterView: one consistent picture of everything conch keeps under a
// --prefix, for conchd's status page and API (conch/observe/status_html.h,
// status_json.h) and for `conch status`.
//
// What it holds, read at one etcd revision where it matters:
//   - daemons: every registered (hence live) conchd with its record;
//   - jobs: every cron job with its definition, its next tick, and its
//     newest `history` ticks (claim, result, state as `cron ls` decides it:
//     ok, failed, skipped, running, zombie);
//   - offices: every `conch elect` name with its candidates in line order
//     (the first one leads; the rest are standbys);
//   - semaphores: every `conch sema` name and N with its slot holders and
//     its waiters in queue order.
// Records that cannot be read are kept with the parse error (a status page
// shows them as unreadable; it never hides a key).
//
// ReadOffice and ReadSemaphore read one name alone (one range read each).
//
// Contract: ReadClusterView makes a bounded number of range reads: three
// for daemons, offices and semaphores, one for the job list, and one per
// job for its history when `history` > 0 (at most `max_jobs_with_history`
// jobs get one; the rest show their definition only), and one more roster
// read when a tick looks like a zombie (to confirm it). Every read has the
// caller's deadline; the first error is returned (Unavailable: retry).
//
// Ownership: the view owns copies of everything; it borrows nothing.
// Thread-safety: ReadClusterView is safe from any thread (the Connection
// is thread-safe); a ClusterView is a plain value.
//
// Example:
//   absl::StatusOr<ClusterView> v = ReadClusterView(
//       conn, "/conch/", {.history = 5}, absl::Now() + absl::Seconds(2));
//   if (v.ok()) std::cout << v->jobs.size() << " jobs\n";
#ifndef CONCH_CORE_VIEW_CLUSTER_VIEW_H_
#define CONCH_CORE_VIEW_CLUSTER_VIEW_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/cron/cron.h"
#include "core/cron/cron_state.h"
#include "core/etcd/connection.h"
#include "core/records/records.h"

namespace conch::observe {

// One registered conchd (cron/daemon/<id>).
struct DaemonView {
  std::string id;
  records::Daemon record;  // empty when unreadable
  std::string lease;       // 16 hex digits
  std::string error;       // why the record could not be read
};

// One tick of a job, with the state `cron ls` would show.
struct TickView {
  etcd::CronTick tick;
  etcd::TickState state;
};

// One cron job (cron/job/<name>).
struct JobView {
  std::string name;  // decoded
  records::Job job;
  // The next tick after the read, in UTC; unset when the schedule or zone
  // cannot be evaluated (then `schedule_error` says why).
  std::optional<absl::Time> next;
  std::string schedule_error;
  std::vector<TickView> ticks;  // newest first; empty without history
};

// A candidate of an office or a contender of a semaphore.
struct HolderView {
  std::string key;
  int64_t revision = 0;  // create revision: the fencing token (CONCH_REV)
  records::Holder record;
  std::string error;  // why the record could not be read
};

// One `conch elect` name (elect/<name>/…).
struct OfficeView {
  std::string name;                    // decoded
  std::vector<HolderView> candidates;  // line order: [0] leads
};

// One `conch sema` name at one N (sema/<name>/<N>/…).
struct SemaphoreView {
  std::string name;  // decoded
  int64_t max = 0;
  struct Slot {
    int slot = 0;
    HolderView holder;
  };
  std::vector<Slot> holders;        // by slot
  std::vector<HolderView> waiters;  // queue order
};

struct ClusterView {
  std::string prefix;
  absl::Time read_at;
  int64_t revision = 0;             // the store revision of the job list read
  std::vector<DaemonView> daemons;  // by id
  std::vector<JobView> jobs;        // in key order (encoded name)
  std::vector<etcd::BadCronJob> bad_jobs;
  std::vector<OfficeView> offices;        // by name
  std::vector<SemaphoreView> semaphores;  // by name, then N
};

struct ClusterViewOptions {
  // Ticks of history per job (0: none, no per-job reads).
  int history = 5;
  // Jobs beyond this many (in name order) get no history read.
  int max_jobs_with_history = 500;
  // Non-empty: `jobs` holds this job alone (or nothing), for a job's page.
  std::string only_job;
};

absl::StatusOr<ClusterView> ReadClusterView(etcd::Connection* conn,
                                            const std::string& prefix,
                                            const ClusterViewOptions& options,
                                            absl::Time deadline);

// One name alone, for `--who` and a waiter's place in line: one range read
// of <prefix>elect/<encoded>/ (or sema/<encoded>/), parsed as
// ReadClusterView parses it. A vacant office has no candidates (its name is
// still set); a semaphore name nobody uses has no groups, and one in use
// has one group per N. `*revision`, when given, gets the store revision of
// the read (a watch from revision + 1 misses nothing).
absl::StatusOr<OfficeView> ReadOffice(etcd::Connection* conn,
                                      const std::string& prefix,
                                      const std::string& encoded_name,
                                      absl::Time deadline,
                                      int64_t* revision = nullptr);
absl::StatusOr<std::vector<SemaphoreView>> ReadSemaphore(
    etcd::Connection* conn, const std::string& prefix,
    const std::string& encoded_name, absl::Time deadline,
    int64_t* revision = nullptr);

}  // namespace conch::observe

#endif  // CONCH_CORE_VIEW_CLUSTER_VIEW_H_
