#include "testing/prometheus_server.h"

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/etcd_fixture_util.h"
#include "testing/etcd_server.h"
#include "testing/http_get.h"

namespace conch::test {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// Generous: the first scrape alone comes ~5 s after Start.
constexpr absl::Duration kWait = absl::Seconds(60);

using Samples = std::vector<PromSample>;

// One etcd for the suite: its /metrics is the exposition Prometheus scrapes
// and promtool checks.
class PrometheusServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<EtcdServer>> etcd = EtcdServer::Start();
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    etcd_ = *std::move(etcd);
  }
  static void TearDownTestSuite() { etcd_.reset(); }

  void SetUp() override { ASSERT_NE(etcd_, nullptr) << "etcd did not start"; }

  static std::string EtcdMetricsTarget() {
    return absl::StrCat("127.0.0.1:", etcd_->metrics_port());
  }

  static std::unique_ptr<EtcdServer> etcd_;
};

std::unique_ptr<EtcdServer> PrometheusServerTest::etcd_;

const ScrapeTarget* FindTarget(const std::vector<ScrapeTarget>& targets,
                               const std::string& instance) {
  for (const ScrapeTarget& t : targets) {
    auto it = t.labels.find("instance");
    if (it != t.labels.end() && it->second == instance) return &t;
  }
  return nullptr;
}

TEST_F(PrometheusServerTest, ScrapesEtcdAndAnswersQueries) {
  absl::StatusOr<std::vector<int>> free_port = internal::PickFreePorts(1);
  ASSERT_TRUE(free_port.ok()) << free_port.status();
  const std::string dead = absl::StrCat("127.0.0.1:", (*free_port)[0]);
  const std::string live = EtcdMetricsTarget();

  PrometheusServerOptions options;
  options.targets = {live, dead};
  absl::StatusOr<std::unique_ptr<PrometheusServer>> prom =
      PrometheusServer::Start(options);
  ASSERT_TRUE(prom.ok()) << prom.status();
  const absl::Time deadline = absl::Now() + kWait;

  absl::StatusOr<std::vector<ScrapeTarget>> targets =
      (*prom)->WaitForScrapes(deadline);
  ASSERT_TRUE(targets.ok()) << targets.status();
  ASSERT_EQ(targets->size(), 2u);
  const ScrapeTarget* etcd_target = FindTarget(*targets, live);
  ASSERT_NE(etcd_target, nullptr);
  EXPECT_EQ(etcd_target->health, "up") << etcd_target->last_error;
  EXPECT_THAT(etcd_target->last_error, IsEmpty());
  EXPECT_EQ(etcd_target->scrape_url, absl::StrCat("http://", live, "/metrics"));
  EXPECT_EQ(etcd_target->labels.at("job"), "conch");
  const ScrapeTarget* dead_target = FindTarget(*targets, dead);
  ASSERT_NE(dead_target, nullptr);
  EXPECT_EQ(dead_target->health, "down");
  EXPECT_THAT(dead_target->last_error, HasSubstr("connection refused"));

  // The number etcd serves arrives in Prometheus with the target's labels.
  absl::StatusOr<Samples> leader = (*prom)->WaitForSeries(
      "etcd_server_has_leader",
      [](const Samples& s) { return s.size() == 1 && s[0].value == 1; },
      deadline);
  ASSERT_TRUE(leader.ok()) << leader.status();
  EXPECT_THAT(
      (*leader)[0].labels,
      UnorderedElementsAre(Pair("__name__", "etcd_server_has_leader"),
                           Pair("instance", live), Pair("job", "conch")));
  EXPECT_LE(absl::AbsDuration((*leader)[0].time - absl::Now()),
            absl::Minutes(1));

  absl::StatusOr<Samples> up = (*prom)->Query("up", deadline);
  ASSERT_TRUE(up.ok()) << up.status();
  std::map<std::string, double> up_by_instance;
  for (const PromSample& s : *up)
    up_by_instance[s.labels.at("instance")] = s.value;
  EXPECT_THAT(up_by_instance,
              UnorderedElementsAre(Pair(live, 1), Pair(dead, 0)));

  // Fresh scrapes keep coming: five puts show up within a few intervals.
  absl::StatusOr<Samples> before =
      (*prom)->Query("etcd_mvcc_put_total", deadline);
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ(before->size(), 1u);
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<CommandResult> put =
        etcd_->Etcdctl({"put", absl::StrCat("/prom-test/", i), "v"});
    ASSERT_TRUE(put.ok() && put->Succeeded())
        << (put.ok() ? put->DebugString() : put.status().ToString());
  }
  const double target_puts = (*before)[0].value + 5;
  absl::StatusOr<Samples> after = (*prom)->WaitForSeries(
      "etcd_mvcc_put_total",
      [&](const Samples& s) {
        return s.size() == 1 && s[0].value >= target_puts;
      },
      absl::Now() + absl::Seconds(20));
  EXPECT_TRUE(after.ok()) << after.status();
}

TEST_F(PrometheusServerTest, UsesMetricsPath) {
  PrometheusServerOptions options;
  options.targets = {EtcdMetricsTarget()};
  options.metrics_path = "/no-such-path";
  options.job_name = "custom";
  absl::StatusOr<std::unique_ptr<PrometheusServer>> prom =
      PrometheusServer::Start(options);
  ASSERT_TRUE(prom.ok()) << prom.status();
  absl::StatusOr<std::vector<ScrapeTarget>> targets =
      (*prom)->WaitForScrapes(absl::Now() + kWait);
  ASSERT_TRUE(targets.ok()) << targets.status();
  ASSERT_EQ(targets->size(), 1u);
  const ScrapeTarget& target = (*targets)[0];
  EXPECT_THAT(
      target.scrape_url,
      EndsWith(":" + std::to_string(etcd_->metrics_port()) + "/no-such-path"));
  EXPECT_EQ(target.labels.at("job"), "custom");
  EXPECT_EQ(target.health, "down");
  EXPECT_THAT(target.last_error, HasSubstr("404"));
}

TEST(PrometheusServerQueryTest, DecodesResultsAndErrors) {
  absl::StatusOr<std::unique_ptr<PrometheusServer>> prom =
      PrometheusServer::Start({});
  ASSERT_TRUE(prom.ok()) << prom.status();
  const absl::Time deadline = absl::Now() + kWait;

  absl::StatusOr<Samples> scalar = (*prom)->Query("1 + 1", deadline);
  ASSERT_TRUE(scalar.ok()) << scalar.status();
  ASSERT_EQ(scalar->size(), 1u);
  EXPECT_EQ((*scalar)[0].value, 2);
  EXPECT_THAT((*scalar)[0].labels, IsEmpty());

  // Characters that mean something in a URL survive the trip.
  absl::StatusOr<Samples> labeled = (*prom)->Query(
      R"(label_replace(vector(7), "v", "a b&c=d+e%/?#", "", ""))", deadline);
  ASSERT_TRUE(labeled.ok()) << labeled.status();
  ASSERT_EQ(labeled->size(), 1u);
  EXPECT_THAT((*labeled)[0].labels,
              UnorderedElementsAre(Pair("v", "a b&c=d+e%/?#")));
  EXPECT_EQ((*labeled)[0].value, 7);
  EXPECT_EQ((*labeled)[0].DebugString(), R"({v="a b&c=d+e%/?#"} 7)");

  // Prometheus writes these values as strings.
  absl::StatusOr<Samples> special =
      (*prom)->Query(R"(label_replace(vector(1/0), "k", "inf", "", "") or )"
                     R"(label_replace(vector(-1/0), "k", "minf", "", "") or )"
                     R"(label_replace(vector(0/0), "k", "nan", "", ""))",
                     deadline);
  ASSERT_TRUE(special.ok()) << special.status();
  ASSERT_EQ(special->size(), 3u);
  // Sorted by labels: inf, minf, nan.
  EXPECT_TRUE(std::isinf((*special)[0].value) && (*special)[0].value > 0);
  EXPECT_TRUE(std::isinf((*special)[1].value) && (*special)[1].value < 0);
  EXPECT_TRUE(std::isnan((*special)[2].value));

  absl::StatusOr<Samples> bad = (*prom)->Query("rate(up[", deadline);
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status())) << bad.status();
  EXPECT_THAT(bad.status().message(), HasSubstr("bad_data"));
  absl::StatusOr<Samples> range = (*prom)->Query("up[1m]", deadline);
  EXPECT_TRUE(absl::IsInvalidArgument(range.status())) << range.status();
  EXPECT_THAT(range.status().message(), HasSubstr("matrix"));

  // A bad query ends the wait at once instead of at the deadline.
  const absl::Time wait_start = absl::Now();
  absl::StatusOr<Samples> waited = (*prom)->WaitForSeries(
      "sum(", [](const Samples&) { return true; }, deadline);
  EXPECT_TRUE(absl::IsInvalidArgument(waited.status())) << waited.status();
  EXPECT_LT(absl::Now() - wait_start, absl::Seconds(10));

  // A predicate that never holds: DeadlineExceeded naming the last answer.
  absl::StatusOr<Samples> never = (*prom)->WaitForSeries(
      "vector(5)", [](const Samples& s) { return s.empty(); },
      absl::Now() + absl::Milliseconds(500));
  EXPECT_TRUE(absl::IsDeadlineExceeded(never.status())) << never.status();
  EXPECT_THAT(never.status().message(), HasSubstr("{} 5"));

  absl::StatusOr<std::vector<ScrapeTarget>> none =
      (*prom)->WaitForScrapes(deadline);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_THAT(*none, IsEmpty());

  // Stop really ends it.
  const int port = (*prom)->port();
  EXPECT_TRUE((*prom)->Running());
  ASSERT_TRUE((*prom)->Stop().ok());
  EXPECT_FALSE((*prom)->Running());
  EXPECT_EQ((*prom)->pid(), 0);
  absl::StatusOr<HttpResponse> gone =
      HttpGet("127.0.0.1", port, "/-/ready", absl::Now() + absl::Seconds(2));
  EXPECT_FALSE(gone.ok());
  EXPECT_TRUE((*prom)->Stop().ok());
}

TEST(PrometheusServerStartTest, ReportsEveryFailedAttempt) {
  PrometheusServerOptions options;
  options.extra_flags = {"--no-such-flag"};
  options.max_start_attempts = 2;
  absl::StatusOr<std::unique_ptr<PrometheusServer>> prom =
      PrometheusServer::Start(options);
  ASSERT_FALSE(prom.ok());
  EXPECT_TRUE(absl::IsUnavailable(prom.status())) << prom.status();
  EXPECT_THAT(prom.status().message(), HasSubstr("attempt 2"));
  EXPECT_THAT(prom.status().message(), HasSubstr("no-such-flag"));
}

TEST(PrometheusServerStartTest, RejectsBadOptions) {
  PrometheusServerOptions quote;
  quote.targets = {"127.0.0.1:1\"x"};
  EXPECT_TRUE(absl::IsInvalidArgument(PrometheusServer::Start(quote).status()));
  PrometheusServerOptions url;
  url.targets = {"http://127.0.0.1:1"};
  EXPECT_TRUE(absl::IsInvalidArgument(PrometheusServer::Start(url).status()));
  PrometheusServerOptions interval;
  interval.scrape_interval = absl::ZeroDuration();
  EXPECT_TRUE(
      absl::IsInvalidArgument(PrometheusServer::Start(interval).status()));
  PrometheusServerOptions path;
  path.metrics_path = "metrics";
  EXPECT_TRUE(absl::IsInvalidArgument(PrometheusServer::Start(path).status()));
}

TEST(PromtoolCheckMetricsTest, AcceptsACleanExposition) {
  EXPECT_TRUE(PromtoolCheckMetrics("").ok());
  const absl::Status s = PromtoolCheckMetrics(
      "# HELP conch_runs_total Runs started.\n"
      "# TYPE conch_runs_total counter\n"
      "conch_runs_total{job=\"backup\"} 3\n"
      "# HELP conch_run_duration_seconds How long runs took.\n"
      "# TYPE conch_run_duration_seconds histogram\n"
      "conch_run_duration_seconds_bucket{le=\"1\"} 1\n"
      "conch_run_duration_seconds_bucket{le=\"+Inf\"} 2\n"
      "conch_run_duration_seconds_sum 4.5\n"
      "conch_run_duration_seconds_count 2\n");
  EXPECT_TRUE(s.ok()) << s;
}

TEST(PromtoolCheckMetricsTest, LintProblemsAreFailedPrecondition) {
  const absl::Status s = PromtoolCheckMetrics(
      "# HELP conch_runs Runs started.\n"
      "# TYPE conch_runs counter\n"
      "conch_runs 3\n");
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("conch_runs"));
  EXPECT_THAT(s.message(), HasSubstr("_total"));
}

TEST(PromtoolCheckMetricsTest, MalformedTextIsInvalidArgument) {
  const absl::Status twice = PromtoolCheckMetrics(
      "# HELP conch_up One.\n"
      "# HELP conch_up Two.\n"
      "conch_up 1\n");
  EXPECT_TRUE(absl::IsInvalidArgument(twice)) << twice;
  EXPECT_THAT(twice.message(), HasSubstr("second HELP"));

  const absl::Status unclosed = PromtoolCheckMetrics("conch_up{job=\"a\" 1\n");
  EXPECT_TRUE(absl::IsInvalidArgument(unclosed)) << unclosed;
  EXPECT_THAT(unclosed.message(), HasSubstr("line 1"));

  const absl::Status not_a_number = PromtoolCheckMetrics("conch_up one\n");
  EXPECT_TRUE(absl::IsInvalidArgument(not_a_number)) << not_a_number;
}

TEST_F(PrometheusServerTest, PromtoolParsesEtcdsExposition) {
  absl::StatusOr<std::string> metrics = etcd_->HttpGet("/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  ASSERT_THAT(*metrics, HasSubstr("etcd_server_has_leader"));
  // etcd 3.4 breaks some naming rules (counters without _total), so the
  // linter objects; but the text parses.
  const absl::Status s = PromtoolCheckMetrics(*metrics);
  EXPECT_TRUE(s.ok() || absl::IsFailedPrecondition(s)) << s;

  // The same text with one line broken no longer parses.
  const absl::Status broken =
      PromtoolCheckMetrics(absl::StrCat(*metrics, "etcd_broken{ 1\n"));
  EXPECT_TRUE(absl::IsInvalidArgument(broken)) << broken;
}

}  // namespace
}  // namespace conch::test
