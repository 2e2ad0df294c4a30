// A real Prometheus server (Debian's `prometheus`) scrapes a real conchd
// every second while it runs jobs; queries through Prometheus' HTTP API
// return conchd's series. Also: promtool accepts the exposition at every
// stage (no jobs yet, jobs run, a job removed).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "conch/listening_daemon.h"
#include "conch/test_util.h"
#include "gtest/gtest.h"
#include "testing/etcd_env.h"
#include "testing/prometheus_server.h"

namespace conch {
namespace {

absl::Time In(absl::Duration d) { return absl::Now() + d; }

std::string Body(ListeningDaemon& d, const std::string& path) {
  absl::StatusOr<test::HttpResponse> r = d.Get(path);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? r->body : "";
}

TEST(ConchdPrometheusTest, APrometheusServerScrapesConchd) {
  const std::string prefix = test::UniquePrefix();
  std::unique_ptr<ListeningDaemon> d =
      ListeningDaemon::Start("scraped", prefix, test::SharedEtcd().endpoint());
  ASSERT_NE(d, nullptr);
  // Before any job: the exposition is valid already.
  const std::string empty = Body(*d, "/metrics");
  EXPECT_TRUE(test::PromtoolCheckMetrics(empty).ok())
      << test::PromtoolCheckMetrics(empty) << "\n"
      << empty;

  for (const char* job : {"ok-job", "failing-job"}) {
    test::CommandResult r =
        RunConch({"cron", "add", job, "--schedule", "@every 1s", "--", "sh",
                  "-c", std::string(job) == "ok-job" ? "echo fine" : "exit 4"},
                 prefix, test::SharedEtcd());
    ASSERT_EQ(r.exit_code, 0) << r.DebugString();
  }
  test::PrometheusServerOptions po;
  po.targets = {absl::StrCat("127.0.0.1:", d->port())};
  absl::StatusOr<std::unique_ptr<test::PrometheusServer>> prom =
      test::PrometheusServer::Start(po);
  ASSERT_TRUE(prom.ok()) << prom.status();
  absl::StatusOr<std::vector<test::ScrapeTarget>> targets =
      (*prom)->WaitForScrapes(In(absl::Seconds(30)));
  ASSERT_TRUE(targets.ok()) << targets.status();
  ASSERT_EQ(targets->size(), 1u);
  EXPECT_EQ((*targets)[0].health, "up") << (*targets)[0].last_error;

  // Runs counted by outcome, through PromQL.
  absl::StatusOr<std::vector<test::PromSample>> ok = (*prom)->WaitForSeries(
      "sum by (cron_job) (conch_cron_runs_total{outcome=\"ok\"})",
      [](const std::vector<test::PromSample>& s) {
        return s.size() == 1 && s[0].value >= 3;
      },
      In(absl::Seconds(40)));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*ok)[0].labels.at("cron_job"), "ok-job");
  absl::StatusOr<std::vector<test::PromSample>> failed = (*prom)->WaitForSeries(
      "conch_cron_runs_total{outcome=\"failed\"}",
      [](const std::vector<test::PromSample>& s) {
        return s.size() == 1 && s[0].value >= 3;
      },
      In(absl::Seconds(20)));
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ((*failed)[0].labels.at("cron_job"), "failing-job");
  // The target's own label is untouched.
  EXPECT_EQ((*failed)[0].labels.at("job"), "conch");
  // Levels and the histogram.
  absl::StatusOr<std::vector<test::PromSample>> up =
      (*prom)->Query("conch_session_up", In(absl::Seconds(5)));
  ASSERT_TRUE(up.ok()) << up.status();
  ASSERT_EQ(up->size(), 1u);
  EXPECT_EQ((*up)[0].value, 1);
  absl::StatusOr<std::vector<test::PromSample>> jobs =
      (*prom)->Query("conch_cron_jobs", In(absl::Seconds(5)));
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].value, 2);
  absl::StatusOr<std::vector<test::PromSample>> p99 = (*prom)->Query(
      "histogram_quantile(0.99, conch_cron_run_start_lag_seconds_bucket)",
      In(absl::Seconds(5)));
  ASSERT_TRUE(p99.ok()) << p99.status();
  ASSERT_EQ(p99->size(), 1u);
  EXPECT_GT((*p99)[0].value, 0);
  // A lag under a second on an idle host (slower under a sanitizer).
  EXPECT_LT((*p99)[0].value, absl::ToDoubleSeconds(Scaled(absl::Seconds(1))));

  const std::string busy = Body(*d, "/metrics");
  EXPECT_TRUE(test::PromtoolCheckMetrics(busy).ok())
      << test::PromtoolCheckMetrics(busy) << "\n"
      << busy;
  test::CommandResult rm =
      RunConch({"cron", "rm", "failing-job"}, prefix, test::SharedEtcd());
  ASSERT_EQ(rm.exit_code, 0) << rm.DebugString();
  const std::string after = Body(*d, "/metrics");
  EXPECT_TRUE(test::PromtoolCheckMetrics(after).ok())
      << test::PromtoolCheckMetrics(after) << "\n"
      << after;
}

}  // namespace
}  // namespace conch
