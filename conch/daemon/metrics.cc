#include "conch/daemon/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <utility>
#include <vector>

#include "absl/time/clock.h"

namespace conch::daemon {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// From 1 ms to 30 s: a tick's start lag and a claim's round trip both live
// in the low milliseconds when all is well and reach seconds under load.
Histogram::BucketBoundaries LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
          0.25,  0.5,    1,     2.5,  5,     10,   30};
}

}  // namespace

struct DaemonMetrics::JobSeries {
  Counter* due;
  Counter* claimed;
  Counter* won;
  Counter* lost;
  Counter* missed;
  std::map<std::string, Counter*> runs;     // by outcome, made on first use
  std::map<std::string, Counter*> skipped;  // by reason, made on first use
};

DaemonMetrics::DaemonMetrics(const std::string& daemon_id,
                             const std::string& version)
    : registry_(std::make_shared<prometheus::Registry>()) {
  prometheus::Registry& r = *registry_;
  due_ = &BuildCounter()
              .Name("conch_cron_ticks_due_total")
              .Help("Ticks of cron jobs that came due on this daemon.")
              .Register(r);
  claimed_ = &BuildCounter()
                  .Name("conch_cron_ticks_claimed_total")
                  .Help("Claim transactions this daemon sent for due ticks.")
                  .Register(r);
  won_ = &BuildCounter()
              .Name("conch_cron_ticks_won_total")
              .Help("Ticks this daemon claimed: it runs (or skips) them.")
              .Register(r);
  lost_ = &BuildCounter()
               .Name("conch_cron_ticks_lost_total")
               .Help("Ticks another daemon had claimed (or the job changed).")
               .Register(r);
  missed_ = &BuildCounter()
                 .Name("conch_cron_ticks_missed_total")
                 .Help("Due ticks older than --max-late: never claimed here.")
                 .Register(r);
  runs_ = &BuildCounter()
               .Name("conch_cron_runs_total")
               .Help(
                   "Ticks this daemon recorded a result for, by outcome "
                   "(ok, failed, signal, skipped).")
               .Register(r);
  skipped_ = &BuildCounter()
                  .Name("conch_cron_skipped_total")
                  .Help("Ticks recorded as skipped, by reason.")
                  .Register(r);
  zombies_ = &BuildGauge()
                  .Name("conch_cron_zombie_ticks")
                  .Help(
                      "Zombie ticks (claimed by a daemon that died before "
                      "writing a result) among each job's newest ticks, "
                      "as the last status read saw them.")
                  .Register(r);
  rpc_errors_ = &BuildCounter()
                     .Name("conch_etcd_rpc_errors_total")
                     .Help("Unary etcd calls that failed, by status code.")
                     .Register(r);
  start_lag_ = &BuildHistogram()
                    .Name("conch_cron_run_start_lag_seconds")
                    .Help("From a tick's instant to its child's start.")
                    .Register(r)
                    .Add({}, LatencyBuckets());
  claim_latency_ = &BuildHistogram()
                        .Name("conch_cron_claim_latency_seconds")
                        .Help("Round trip of a claim transaction.")
                        .Register(r)
                        .Add({}, LatencyBuckets());
  running_ = &BuildGauge()
                  .Name("conch_cron_runs_in_progress")
                  .Help("Runs this daemon has started and not yet recorded.")
                  .Register(r)
                  .Add({});
  jobs_ = &BuildGauge()
               .Name("conch_cron_jobs")
               .Help("Job definitions this daemon schedules.")
               .Register(r)
               .Add({});
  live_daemons_ = &BuildGauge()
                       .Name("conch_cron_live_daemons")
                       .Help("Registered daemons, as this one last read them.")
                       .Register(r)
                       .Add({});
  session_up_ = &BuildGauge()
                     .Name("conch_session_up")
                     .Help("1 while this daemon holds its etcd session.")
                     .Register(r)
                     .Add({});
  session_losses_ = &BuildCounter()
                         .Name("conch_session_losses_total")
                         .Help("Sessions lost (lease expired or revoked).")
                         .Register(r)
                         .Add({});
  watch_resyncs_ = &BuildCounter()
                        .Name("conch_watch_resyncs_total")
                        .Help(
                            "Job list re-reads after a watch ended, and "
                            "watch stream re-opens.")
                        .Register(r)
                        .Add({});
  fuse_firings_ = &BuildCounter()
                       .Name("conch_fuse_firings_total")
                       .Help(
                           "Fuses that fired: their runs were stopped by "
                           "the guard process.")
                       .Register(r)
                       .Add({});
  declined_ = &BuildCounter()
                   .Name("conch_cron_ticks_declined_total")
                   .Help(
                       "Ticks preferred by another daemon that this one "
                       "left, having no room to start them in time.")
                   .Register(r)
                   .Add({});
  start_cost_ = &BuildGauge()
                     .Name("conch_cron_start_cost_seconds")
                     .Help(
                         "Moving average of the time one start takes on a "
                         "spawner thread (admission).")
                     .Register(r)
                     .Add({});
  admission_limit_ = &BuildGauge()
                          .Name("conch_cron_admission_limit")
                          .Help(
                              "Adaptive limit on runs, queued starts and "
                              "claims in flight; -1 while unlimited.")
                          .Register(r)
                          .Add({});
  admission_committed_ = &BuildGauge()
                              .Name("conch_cron_admission_committed")
                              .Help(
                                  "Runs in progress, queued starts and claims "
                                  "in flight, as admission counts them.")
                              .Register(r)
                              .Add({});
  BuildGauge()
      .Name("conch_daemon_info")
      .Help("This daemon's id and version (the value is always 1).")
      .Register(r)
      .Add({{"id", daemon_id}, {"version", version}})
      .Set(1);
  BuildGauge()
      .Name("conch_daemon_start_time_seconds")
      .Help("When this daemon started, in Unix seconds.")
      .Register(r)
      .Add({})
      .Set(absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
}

DaemonMetrics::~DaemonMetrics() = default;

DaemonMetrics::JobSeries& DaemonMetrics::Job(const std::string& job) {
  std::unique_ptr<JobSeries>& s = by_job_[job];
  if (s == nullptr) {
    const std::map<std::string, std::string> labels = {{"cron_job", job}};
    s = std::make_unique<JobSeries>(JobSeries{&due_->Add(labels),
                                              &claimed_->Add(labels),
                                              &won_->Add(labels),
                                              &lost_->Add(labels),
                                              &missed_->Add(labels),
                                              {},
                                              {}});
  }
  return *s;
}

void DaemonMetrics::TickDue(const std::string& job, int64_t n) {
  Job(job).due->Increment(static_cast<double>(n));
}

void DaemonMetrics::TickMissed(const std::string& job, int64_t n) {
  Job(job).missed->Increment(static_cast<double>(n));
}

void DaemonMetrics::ClaimAnswered(const std::string& job, bool won,
                                  absl::Duration latency) {
  JobSeries& s = Job(job);
  s.claimed->Increment();
  (won ? s.won : s.lost)->Increment();
  claim_latency_->Observe(absl::ToDoubleSeconds(latency));
}

void DaemonMetrics::ClaimLostWithoutTxn(const std::string& job) {
  Job(job).lost->Increment();
}

void DaemonMetrics::RunRecorded(const std::string& job, bool has_exit_code,
                                int exit_code, bool has_signal,
                                const std::string& skipped) {
  JobSeries& s = Job(job);
  std::string outcome = "failed";
  if (has_exit_code && exit_code == 0) {
    outcome = "ok";
  } else if (has_signal) {
    outcome = "signal";
  } else if (!skipped.empty()) {
    outcome = "skipped";
    Counter*& reason = s.skipped[skipped];
    if (reason == nullptr) {
      reason = &skipped_->Add({{"cron_job", job}, {"reason", skipped}});
    }
    reason->Increment();
  }
  Counter*& c = s.runs[outcome];
  if (c == nullptr) c = &runs_->Add({{"cron_job", job}, {"outcome", outcome}});
  c->Increment();
}

void DaemonMetrics::RunStarted(absl::Duration lag) {
  start_lag_->Observe(absl::ToDoubleSeconds(lag));
}

void DaemonMetrics::ForgetJob(const std::string& job) {
  {
    std::lock_guard<std::mutex> lock(zombies_mu_);
    auto z = zombie_series_.find(job);
    if (z != zombie_series_.end()) {
      zombies_->Remove(z->second);
      zombie_series_.erase(z);
    }
  }
  auto it = by_job_.find(job);
  if (it == by_job_.end()) return;
  JobSeries& s = *it->second;
  due_->Remove(s.due);
  claimed_->Remove(s.claimed);
  won_->Remove(s.won);
  lost_->Remove(s.lost);
  missed_->Remove(s.missed);
  for (auto& [outcome, c] : s.runs) runs_->Remove(c);
  for (auto& [reason, c] : s.skipped) skipped_->Remove(c);
  by_job_.erase(it);
}

void DaemonMetrics::SetZombies(const std::map<std::string, int>& by_job) {
  std::lock_guard<std::mutex> lock(zombies_mu_);
  for (auto it = zombie_series_.begin(); it != zombie_series_.end();) {
    if (by_job.count(it->first) == 0) {
      zombies_->Remove(it->second);
      it = zombie_series_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [job, n] : by_job) {
    Gauge*& g = zombie_series_[job];
    if (g == nullptr) g = &zombies_->Add({{"cron_job", job}});
    g->Set(n);
  }
}

void DaemonMetrics::SetRunsInProgress(int n) { running_->Set(n); }
void DaemonMetrics::TicksDeclined(size_t n) {
  declined_->Increment(static_cast<double>(n));
}
void DaemonMetrics::SetStartCost(absl::Duration cost) {
  start_cost_->Set(absl::ToDoubleSeconds(cost));
}
void DaemonMetrics::SetAdmission(int64_t limit, int64_t committed) {
  admission_limit_->Set(static_cast<double>(limit));
  admission_committed_->Set(static_cast<double>(committed));
}
void DaemonMetrics::SetJobs(int n) { jobs_->Set(n); }
void DaemonMetrics::SetLiveDaemons(int n) { live_daemons_->Set(n); }
void DaemonMetrics::SetSessionUp(bool up) { session_up_->Set(up ? 1 : 0); }
void DaemonMetrics::SessionLost() { session_losses_->Increment(); }

void DaemonMetrics::SyncRpcErrors(const std::array<uint64_t, 17>& by_code) {
  for (size_t code = 0; code < by_code.size(); ++code) {
    if (by_code[code] <= rpc_errors_seen_[code]) continue;
    if (rpc_error_series_[code] == nullptr) {
      rpc_error_series_[code] = &rpc_errors_->Add(
          {{"code",
            absl::StatusCodeToString(static_cast<absl::StatusCode>(code))}});
    }
    rpc_error_series_[code]->Increment(
        static_cast<double>(by_code[code] - rpc_errors_seen_[code]));
    rpc_errors_seen_[code] = by_code[code];
  }
}

void DaemonMetrics::SyncWatchResyncs(uint64_t total) {
  if (total <= watch_resyncs_seen_) return;
  watch_resyncs_->Increment(static_cast<double>(total - watch_resyncs_seen_));
  watch_resyncs_seen_ = total;
}

void DaemonMetrics::SyncFuseFirings(uint64_t total) {
  if (total <= fuse_firings_seen_) return;
  fuse_firings_->Increment(static_cast<double>(total - fuse_firings_seen_));
  fuse_firings_seen_ = total;
}

std::string DaemonMetrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace conch::daemon
