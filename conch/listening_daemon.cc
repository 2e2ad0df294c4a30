#include "conch/listening_daemon.h"

#include <signal.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "testing/poll.h"
#include "testing/prometheus_text.h"

namespace conch {

std::unique_ptr<ListeningDaemon> ListeningDaemon::Start(
    const std::string& id, const std::string& prefix,
    const std::string& endpoints, std::vector<std::string> flags) {
  std::vector<std::string> args = {
      "--id",         id,      "--ttl",    "2s",
      "--kill-after", "500ms", "--listen", "127.0.0.1:0"};
  args.insert(args.end(), flags.begin(), flags.end());
  std::unique_ptr<ListeningDaemon> d(new ListeningDaemon());
  d->process_ = ConchProcess::Start(args, prefix, endpoints, {}, kConchdBinary);
  // "serving http://127.0.0.1:PORT/ (...)" in its log.
  const std::string kServing = "serving http://127.0.0.1:";
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  const absl::Status logged = test::PollUntil(
      [&] {
        const std::string err = d->process_->Stderr();
        const size_t at = err.find(kServing);
        if (at == std::string::npos) return false;
        const size_t from = at + kServing.size();
        const size_t to = err.find('/', from);
        return to != std::string::npos &&
               absl::SimpleAtoi(err.substr(from, to - from), &d->port_);
      },
      deadline);
  if (!logged.ok()) {
    ADD_FAILURE() << "conchd " << id
                  << " did not log its address: " << d->process_->Stderr();
    return nullptr;
  }
  const absl::Status ready = test::PollUntil(
      [&] {
        absl::StatusOr<test::HttpResponse> r =
            d->Get("/readyz", absl::Seconds(2));
        return r.ok() && r->status_code == 200;
      },
      deadline);
  if (!ready.ok()) {
    ADD_FAILURE() << "conchd " << id
                  << " did not become ready: " << d->process_->Stderr();
    return nullptr;
  }
  return d;
}

ListeningDaemon::~ListeningDaemon() {
  if (process_ != nullptr && process_->Running()) {
    process_->Signal(SIGKILL).IgnoreError();
    process_->ExitCode(absl::Now() + absl::Seconds(10));
  }
}

std::string ListeningDaemon::url() const {
  return absl::StrCat("http://127.0.0.1:", port_);
}

absl::StatusOr<test::HttpResponse> ListeningDaemon::Get(
    const std::string& path, absl::Duration timeout) {
  return test::HttpGet("127.0.0.1", port_, path, absl::Now() + timeout);
}

double MetricSum(absl::string_view exposition, absl::string_view name,
                 const std::vector<std::string>& labels) {
  absl::StatusOr<std::vector<test::MetricSample>> samples =
      test::ParseMetricSamples(exposition);
  EXPECT_TRUE(samples.ok()) << samples.status();
  if (!samples.ok()) return 0;
  double sum = 0;
  for (const test::MetricSample& s : *samples) {
    if (s.name != name) continue;
    bool all = true;
    for (const std::string& l : labels) {
      all = all && absl::StrContains(s.labels, l);
    }
    if (all) sum += s.value;
  }
  return sum;
}

}  // namespace conch
