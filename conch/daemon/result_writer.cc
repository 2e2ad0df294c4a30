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
  // The jobs now over the history bound, pruned together.
  std::vector<std::string> over;
  for (size_t k = 0; k < batch.size(); ++k) {
    const std::string& encoded = batch[k].tick.job->encoded;
    if ((*counts)[k] > etcd::kCronHistory &&
        std::find(over.begin(), over.end(), encoded) == over.end()) {
      over.push_back(encoded);
    }
  }
  if (!over.empty()) {
    absl::StatusOr<int64_t> pruned =
        store.Prune(over, etcd::kCronHistory, absl::Now() + call_timeout);
    if (!pruned.ok()) {
      Log(LogLevel::kWarn, absl::StrCat("pruning ", over.size(), " job(s): ",
                                        pruned.status().message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace conch::daemon
