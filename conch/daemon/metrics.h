// DaemonMetrics: what conchd counts about itself, served on /metrics in
// the Prometheus text format (prometheus-cpp's registry and serializer).
//
// The series (docs/observability.md lists them with their meaning):
//   conch_cron_ticks_due_total{cron_job}       ticks that came due here
//   conch_cron_ticks_claimed_total{cron_job}   claim Txns sent for them
//   conch_cron_ticks_won_total{cron_job}       claims this daemon won
//   conch_cron_ticks_lost_total{cron_job}      claims another daemon had won
//   conch_cron_ticks_missed_total{cron_job}    due ticks older than --max-late
//   conch_cron_runs_total{cron_job,outcome}    recorded ticks: ok, failed,
//                                         signal, skipped
//   conch_cron_skipped_total{cron_job,reason}  skipped ticks by reason
//   conch_cron_zombie_ticks{cron_job}          zombies among the newest ticks
//   conch_cron_run_start_lag_seconds      tick instant → child started
//   conch_cron_claim_latency_seconds      claim Txn round trip
//   conch_cron_runs_in_progress, conch_cron_jobs, conch_cron_live_daemons
//   conch_session_up, conch_session_losses_total
//   conch_etcd_rpc_errors_total{code}     failed unary etcd calls
//   conch_watch_resyncs_total             job list re-reads + watch stream
//                                         re-opens
//   conch_fuse_firings_total              fuses that stopped runs
//   conch_daemon_info{id,version}, conch_daemon_start_time_seconds
//
// The job's label is `cron_job`, not `job`: Prometheus gives every scraped
// series the target's own `job` label, and would rename ours.
//
// Contract: the recording calls are cheap (atomic adds; a job's series are
// found in a map on the loop thread) and never block on the HTTP side.
// Every per-job series is dropped by ForgetJob, so a removed job does not
// stay in the exposition for ever. Totals that other pieces already count
// (RPC errors, watch re-opens, fuse firings) are brought in with Sync*
// calls, which add the difference since the last call.
//
// Thread-safety: the per-job recording calls (TickDue … ForgetJob) and the
// Set*/Sync* calls are for one thread (conchd's loop), except where marked;
// Serialize may be called from any thread at any time (the HTTP side).
//
// Example:
//   DaemonMetrics metrics("node1", "0.9.0");
//   metrics.TickDue("nightly");
//   metrics.ClaimAnswered("nightly", /*won=*/true, absl::Milliseconds(3));
//   std::string text = metrics.Serialize();  // from an HTTP thread
#ifndef CONCH_CONCH_DAEMON_METRICS_H_
#define CONCH_CONCH_DAEMON_METRICS_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace conch::daemon {

// conch_cron_zombie_ticks counts the zombies among each job's newest
// kZombieWindow ticks.
inline constexpr int kZombieWindow = 5;

class DaemonMetrics {
 public:
  DaemonMetrics(const std::string& daemon_id, const std::string& version);
  ~DaemonMetrics();
  DaemonMetrics(const DaemonMetrics&) = delete;
  DaemonMetrics& operator=(const DaemonMetrics&) = delete;

  // --- Per job (`job` is the decoded name). Loop thread. ---
  void TickDue(const std::string& job, int64_t n = 1);
  void TickMissed(const std::string& job, int64_t n = 1);
  // A claim Txn answered: won, or found taken by another daemon. A tick a
  // fallback read found taken counts as lost without a Txn (no latency).
  void ClaimAnswered(const std::string& job, bool won, absl::Duration latency);
  void ClaimLostWithoutTxn(const std::string& job);
  // What a recorded tick became: exit 0 → ok, other codes → failed, a
  // signal → signal, `skipped` non-empty → skipped with that reason.
  void RunRecorded(const std::string& job, bool has_exit_code, int exit_code,
                   bool has_signal, const std::string& skipped);
  void RunStarted(absl::Duration lag);
  // The job left the table: its series go.
  void ForgetJob(const std::string& job);
  // Zombie ticks among each job's newest ticks, as the last status read
  // saw them (any thread; replaces the previous census).
  void SetZombies(const std::map<std::string, int>& by_job);

  // --- Levels and totals. ---
  void SetRunsInProgress(int n);
  void SetJobs(int n);
  void SetLiveDaemons(int n);
  void SetSessionUp(bool up);
  void SessionLost();
  // code → failed calls so far (absl::StatusCode as int); adds what is new.
  void SyncRpcErrors(const std::array<uint64_t, 17>& by_code);
  void SyncWatchResyncs(uint64_t total);
  void SyncFuseFirings(uint64_t total);
  // Admission (admission.h): ticks preferred by another daemon that this
  // one had no room for, and its measured cost of one start.
  void TicksDeclined(size_t n);
  void SetStartCost(absl::Duration cost);
  // What admission compares: the adaptive limit (-1 while unlimited) and
  // the runs + queued starts + claims in flight it is compared with.
  void SetAdmission(int64_t limit, int64_t committed);

  // The exposition, text format 0.0.4. Any thread.
  std::string Serialize() const;

 private:
  struct JobSeries;
  JobSeries& Job(const std::string& job);

  // Constant after construction.
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* due_;
  prometheus::Family<prometheus::Counter>* claimed_;
  prometheus::Family<prometheus::Counter>* won_;
  prometheus::Family<prometheus::Counter>* lost_;
  prometheus::Family<prometheus::Counter>* missed_;
  prometheus::Family<prometheus::Counter>* runs_;
  prometheus::Family<prometheus::Counter>* skipped_;
  prometheus::Family<prometheus::Gauge>* zombies_;
  prometheus::Family<prometheus::Counter>* rpc_errors_;
  prometheus::Histogram* start_lag_;
  prometheus::Histogram* claim_latency_;
  prometheus::Gauge* running_;
  prometheus::Gauge* jobs_;
  prometheus::Gauge* live_daemons_;
  prometheus::Gauge* session_up_;
  prometheus::Counter* session_losses_;
  prometheus::Counter* watch_resyncs_;
  prometheus::Counter* fuse_firings_;
  prometheus::Counter* declined_;
  prometheus::Gauge* start_cost_;
  prometheus::Gauge* admission_limit_;
  prometheus::Gauge* admission_committed_;

  // Loop thread only.
  std::map<std::string, std::unique_ptr<JobSeries>> by_job_;
  std::array<uint64_t, 17> rpc_errors_seen_{};
  std::array<prometheus::Counter*, 17> rpc_error_series_{};
  uint64_t watch_resyncs_seen_ = 0;
  uint64_t fuse_firings_seen_ = 0;

  std::mutex zombies_mu_;
  std::map<std::string, prometheus::Gauge*> zombie_series_;  // by zombies_mu_
};

}  // namespace conch::daemon

#endif  // CONCH_CONCH_DAEMON_METRICS_H_
