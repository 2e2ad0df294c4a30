#include "conch/daemon/result_writer.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/base/backoff.h"
#include "core/base/log.h"

namespace conch::daemon {

absl::Status WriteResultBatch(const etcd::CronStore& store,
                              const std::vector<RunOutcome>& batch,
                              absl::Duration retry_for,
                              absl::Duration call_timeout) {
  std::vector<etcd::CronStore::ResultItem> items;
  items.reserve(batch.size());
  for (const RunOutcome& o : batch) {
    items.push_back({o.tick.job->encoded, o.tick.instant, o.result});
  }
  const absl::Time give_up = absl::Now() + retry_for;
  Backoff retry(BackoffPolicy{.initial = absl::Milliseconds(100),
                              .max = absl::Seconds(2)},
                static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())));
  absl::StatusOr<std::vector<int64_t>> counts;
  while (true) {
    counts = store.WriteResults(items, absl::Now() + call_timeout);
    if (counts.ok() || absl::Now() >= give_up ||
        !(absl::IsUnavailable(counts.status()) ||
          absl::IsDeadlineExceeded(counts.status()))) {
      break;
    }
    absl::SleepFor(retry.Next());
  }
  if (!counts.ok()) return counts.status();
  std::vector<std::string> encoded;
  encoded.reserve(batch.size());
  for (const RunOutcome& o : batch) encoded.push_back(o.tick.job->encoded);
  PruneOverBound(store, encoded, *counts, call_timeout);
  return absl::OkStatus();
}

void PruneOverBound(const etcd::CronStore& store,
                    const std::vector<std::string>& encoded,
                    const std::vector<int64_t>& counts,
                    absl::Duration call_timeout) {
  // The jobs now over the history bound, pruned together.
  std::vector<std::string> over;
  for (size_t k = 0; k < encoded.size() && k < counts.size(); ++k) {
    if (counts[k] > etcd::kCronHistory + etcd::kCronHistorySlack &&
        std::find(over.begin(), over.end(), encoded[k]) == over.end()) {
      over.push_back(encoded[k]);
    }
  }
  if (over.empty()) return;
  absl::StatusOr<int64_t> pruned =
      store.Prune(over, etcd::kCronHistory, absl::Now() + call_timeout);
  if (!pruned.ok()) {
    Log(LogLevel::kWarn, absl::StrCat("pruning ", over.size(),
                                      " job(s): ", pruned.status().message()));
  }
}

}  // namespace conch::daemon
