#include "testing/prometheus_text.h"

#include <cmath>

#include "gtest/gtest.h"

namespace conch::test {
namespace {

constexpr char kExposition[] =
    R"(# HELP etcd_debugging_mvcc_events_total Total number of events sent by this member.
# TYPE etcd_debugging_mvcc_events_total counter
etcd_debugging_mvcc_events_total 42
# TYPE grpc_server_handled_total counter
grpc_server_handled_total{grpc_code="OK",grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"} 7
grpc_server_handled_total{grpc_code="OK",grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"} 3 1700000000000
weird_total{path="/a b}{\"c\"",x=""} 1.5e3

etcd_disk_wal_fsync_duration_seconds_sum 0.25
etcd_disk_wal_fsync_duration_seconds_count 4
go_gc_duration_seconds{quantile="1"} NaN
process_max_fds +Inf
)";

TEST(PrometheusTextTest, SumsOneUnlabeledSample) {
  absl::StatusOr<double> v =
      SumMetricSamples(kExposition, "etcd_debugging_mvcc_events_total");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, 42);
}

TEST(PrometheusTextTest, SumsLabeledSamplesAndIgnoresTimestamps) {
  absl::StatusOr<double> v =
      SumMetricSamples(kExposition, "grpc_server_handled_total");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, 10);
}

TEST(PrometheusTextTest, LabelValuesMayContainBracesQuotesAndSpaces) {
  absl::StatusOr<double> v = SumMetricSamples(kExposition, "weird_total");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, 1500);
  absl::StatusOr<std::vector<MetricSample>> samples =
      ParseMetricSamples(kExposition);
  ASSERT_TRUE(samples.ok()) << samples.status();
  ASSERT_EQ(samples->size(), 8u);
  EXPECT_EQ((*samples)[3].labels, R"(path="/a b}{\"c\"",x="")");
}

TEST(PrometheusTextTest, NameMustMatchExactly) {
  EXPECT_EQ(
      SumMetricSamples(kExposition, "etcd_disk_wal_fsync_duration_seconds")
          .status()
          .code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(SumMetricSamples(kExposition, "etcd_debugging_mvcc_events")
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<double> count = SumMetricSamples(
      kExposition, "etcd_disk_wal_fsync_duration_seconds_count");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 4);
}

TEST(PrometheusTextTest, SpecialValues) {
  absl::StatusOr<double> nan =
      SumMetricSamples(kExposition, "go_gc_duration_seconds");
  ASSERT_TRUE(nan.ok()) << nan.status();
  EXPECT_TRUE(std::isnan(*nan));
  absl::StatusOr<double> inf = SumMetricSamples(kExposition, "process_max_fds");
  ASSERT_TRUE(inf.ok()) << inf.status();
  EXPECT_TRUE(std::isinf(*inf));
}

TEST(PrometheusTextTest, MalformedLinesAreErrors) {
  EXPECT_EQ(ParseMetricSamples("x{a=\"1\" 3\n").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMetricSamples("x abc\n").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMetricSamples("x\n").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMetricSamples("{a=\"b\"} 1\n").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMetricSamples("x 1 2 3\n").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace conch::test
