// Reading numbers out of a Prometheus text exposition (what etcd serves on
// /metrics), so tests can assert on server-side counters such as
// etcd_debugging_mvcc_events_total.
//
// Contract: ParseMetricSamples understands the text format 0.0.4: comment
// and blank lines are skipped; each other line is
// `name[{labels}] value [timestamp]`. Label values may contain escaped
// quotes, spaces and braces. Values are parsed as doubles ("+Inf", "NaN"
// included). A malformed line is an InvalidArgument error naming it.
// SumMetricSamples adds up every sample whose name equals `name` exactly
// (so "x" does not match "x_sum" or "x_bucket"); NotFound if there is none.
//
// Ownership and thread-safety: pure functions over the given text.
//
// Example:
//   absl::StatusOr<double> events = conch::test::SumMetricSamples(
//       metrics_text, "etcd_debugging_mvcc_events_total");
//   ASSERT_TRUE(events.ok()) << events.status();
#ifndef CONCH_TESTING_PROMETHEUS_TEXT_H_
#define CONCH_TESTING_PROMETHEUS_TEXT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace conch::test {

struct MetricSample {
  std::string name;
  // The raw label block without braces, e.g. `method="GET",code="200"`.
  std::string labels;
  double value = 0;
};

absl::StatusOr<std::vector<MetricSample>> ParseMetricSamples(
    absl::string_view text);

absl::StatusOr<double> SumMetricSamples(absl::string_view text,
                                        absl::string_view name);

}  // namespace conch::test

#endif  // CONCH_TESTING_PROMETHEUS_TEXT_H_
