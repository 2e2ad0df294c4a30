#include "conch/daemon/metrics.h"

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "testing/prometheus_text.h"

namespace conch::daemon {
namespace {

using test::MetricSample;
using test::ParseMetricSamples;

// The value of the one sample named `name` whose labels contain every
// `label="value"` in `labels`; -1 when there is none.
double Value(const std::string& text, const std::string& name,
             const std::vector<std::string>& labels = {}) {
  absl::StatusOr<std::vector<MetricSample>> samples = ParseMetricSamples(text);
  EXPECT_TRUE(samples.ok()) << samples.status();
  if (!samples.ok()) return -2;
  for (const MetricSample& s : *samples) {
    if (s.name != name) continue;
    bool all = true;
    for (const std::string& l : labels) {
      all = all && absl::StrContains(s.labels, l);
    }
    if (all) return s.value;
  }
  return -1;
}

TEST(DaemonMetricsTest, PerJobCountersMove) {
  DaemonMetrics m("node1", "1.2.3");
  m.TickDue("a");
  m.TickDue("a");
  m.TickDue("b");
  m.TickMissed("b");
  m.ClaimAnswered("a", /*won=*/true, absl::Milliseconds(3));
  m.ClaimAnswered("a", /*won=*/false, absl::Milliseconds(4));
  m.ClaimLostWithoutTxn("b");
  m.RunRecorded("a", true, 0, false, "");
  m.RunRecorded("a", true, 7, false, "");
  m.RunRecorded("a", false, 0, true, "");
  m.RunRecorded("a", false, 0, false, "overlap");
  m.RunRecorded("a", false, 0, false, "overlap");
  const std::string text = m.Serialize();
  EXPECT_EQ(Value(text, "conch_cron_ticks_due_total", {"cron_job=\"a\""}), 2);
  EXPECT_EQ(Value(text, "conch_cron_ticks_due_total", {"cron_job=\"b\""}), 1);
  EXPECT_EQ(Value(text, "conch_cron_ticks_missed_total", {"cron_job=\"b\""}),
            1);
  EXPECT_EQ(Value(text, "conch_cron_ticks_claimed_total", {"cron_job=\"a\""}),
            2);
  EXPECT_EQ(Value(text, "conch_cron_ticks_claimed_total", {"cron_job=\"b\""}),
            0);
  EXPECT_EQ(Value(text, "conch_cron_ticks_won_total", {"cron_job=\"a\""}), 1);
  EXPECT_EQ(Value(text, "conch_cron_ticks_lost_total", {"cron_job=\"a\""}), 1);
  EXPECT_EQ(Value(text, "conch_cron_ticks_lost_total", {"cron_job=\"b\""}), 1);
  for (const char* outcome : {"ok", "failed", "signal"}) {
    EXPECT_EQ(
        Value(text, "conch_cron_runs_total",
              {"cron_job=\"a\"", absl::StrCat("outcome=\"", outcome, "\"")}),
        1)
        << outcome;
  }
  EXPECT_EQ(Value(text, "conch_cron_runs_total",
                  {"cron_job=\"a\"", "outcome=\"skipped\""}),
            2);
  EXPECT_EQ(Value(text, "conch_cron_skipped_total",
                  {"cron_job=\"a\"", "reason=\"overlap\""}),
            2);
  EXPECT_EQ(Value(text, "conch_cron_claim_latency_seconds_count"), 2);
  EXPECT_NEAR(Value(text, "conch_cron_claim_latency_seconds_sum"), 0.007, 1e-9);
  EXPECT_EQ(
      Value(text, "conch_cron_claim_latency_seconds_bucket", {"le=\"0.0025\""}),
      0);
  EXPECT_EQ(
      Value(text, "conch_cron_claim_latency_seconds_bucket", {"le=\"0.005\""}),
      2);
  EXPECT_EQ(
      Value(text, "conch_daemon_info", {"id=\"node1\"", "version=\"1.2.3\""}),
      1);
}

TEST(DaemonMetricsTest, ForgetJobDropsItsSeries) {
  DaemonMetrics m("node1", "v");
  m.TickDue("gone");
  m.RunRecorded("gone", false, 0, false, "late");
  m.TickDue("kept");
  m.SetZombies({{"gone", 1}, {"kept", 0}});
  m.ForgetJob("gone");
  m.ForgetJob("never-seen");
  const std::string text = m.Serialize();
  EXPECT_FALSE(absl::StrContains(text, "cron_job=\"gone\"")) << text;
  EXPECT_EQ(Value(text, "conch_cron_ticks_due_total", {"cron_job=\"kept\""}),
            1);
  // A job that comes back starts from zero.
  m.TickDue("gone");
  EXPECT_EQ(
      Value(m.Serialize(), "conch_cron_ticks_due_total", {"cron_job=\"gone\""}),
      1);
}

TEST(DaemonMetricsTest, LevelsAndSyncedTotals) {
  DaemonMetrics m("d", "v");
  m.SetRunsInProgress(3);
  m.SetJobs(200);
  m.SetLiveDaemons(2);
  m.SetSessionUp(true);
  m.SessionLost();
  std::array<uint64_t, 17> errors{};
  errors[static_cast<int>(absl::StatusCode::kUnavailable)] = 4;
  m.SyncRpcErrors(errors);
  errors[static_cast<int>(absl::StatusCode::kUnavailable)] = 6;
  errors[static_cast<int>(absl::StatusCode::kDeadlineExceeded)] = 1;
  m.SyncRpcErrors(errors);
  m.SyncWatchResyncs(2);
  m.SyncWatchResyncs(5);
  m.SyncWatchResyncs(5);
  m.SyncFuseFirings(1);
  const std::string text = m.Serialize();
  EXPECT_EQ(Value(text, "conch_cron_runs_in_progress"), 3);
  EXPECT_EQ(Value(text, "conch_cron_jobs"), 200);
  EXPECT_EQ(Value(text, "conch_cron_live_daemons"), 2);
  EXPECT_EQ(Value(text, "conch_session_up"), 1);
  EXPECT_EQ(Value(text, "conch_session_losses_total"), 1);
  EXPECT_EQ(
      Value(text, "conch_etcd_rpc_errors_total", {"code=\"UNAVAILABLE\""}), 6);
  EXPECT_EQ(Value(text, "conch_etcd_rpc_errors_total",
                  {"code=\"DEADLINE_EXCEEDED\""}),
            1);
  EXPECT_EQ(Value(text, "conch_watch_resyncs_total"), 5);
  EXPECT_EQ(Value(text, "conch_fuse_firings_total"), 1);
  EXPECT_GT(Value(text, "conch_daemon_start_time_seconds"), 1.7e9);
}

TEST(DaemonMetricsTest, AdmissionLevels) {
  DaemonMetrics m("d", "v");
  m.TicksDeclined(3);
  m.TicksDeclined(2);
  m.SetStartCost(absl::Milliseconds(2));
  m.SetAdmission(-1, 40);
  std::string text = m.Serialize();
  EXPECT_EQ(Value(text, "conch_cron_ticks_declined_total"), 5);
  EXPECT_DOUBLE_EQ(Value(text, "conch_cron_start_cost_seconds"), 0.002);
  EXPECT_EQ(Value(text, "conch_cron_admission_limit"), -1);
  EXPECT_EQ(Value(text, "conch_cron_admission_committed"), 40);
  m.SetAdmission(700, 650);
  text = m.Serialize();
  EXPECT_EQ(Value(text, "conch_cron_admission_limit"), 700);
  EXPECT_EQ(Value(text, "conch_cron_admission_committed"), 650);
}

TEST(DaemonMetricsTest, ZombieCensusReplacesThePreviousOne) {
  DaemonMetrics m("d", "v");
  m.SetZombies({{"a", 2}, {"b", 0}});
  std::string text = m.Serialize();
  EXPECT_EQ(Value(text, "conch_cron_zombie_ticks", {"cron_job=\"a\""}), 2);
  EXPECT_EQ(Value(text, "conch_cron_zombie_ticks", {"cron_job=\"b\""}), 0);
  m.SetZombies({{"b", 1}});
  text = m.Serialize();
  EXPECT_EQ(Value(text, "conch_cron_zombie_ticks", {"cron_job=\"a\""}), -1);
  EXPECT_EQ(Value(text, "conch_cron_zombie_ticks", {"cron_job=\"b\""}), 1);
}

TEST(DaemonMetricsTest, HostileJobNamesAreEscaped) {
  DaemonMetrics m("d", "v");
  m.TickDue("a\"b\\c\nd");
  const std::string text = m.Serialize();
  EXPECT_TRUE(absl::StrContains(text, "cron_job=\"a\\\"b\\\\c\\nd\"")) << text;
  EXPECT_EQ(Value(text, "conch_cron_ticks_due_total"), 1);
}

}  // namespace
}  // namespace conch::daemon
