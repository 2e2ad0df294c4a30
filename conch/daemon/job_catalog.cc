#include "conch/daemon/job_catalog.h"

#include <optional>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/base/log.h"

namespace conch::daemon {

absl::Status JobCatalog::Load() {
  absl::StatusOr<etcd::CronJobList> list =
      store_->ListJobs(absl::Now() + call_timeout_);
  if (!list.ok()) return list.status();
  if (on_erase_) {
    // Definitions that are gone from the new list leave the table.
    std::set<std::string> kept;
    for (const etcd::CronJob& job : list->jobs) kept.insert(job.encoded);
    for (const std::string& enc : table_->Names()) {
      if (kept.count(enc) == 0) on_erase_(enc);
    }
  }
  table_->Clear();
  for (const etcd::BadCronJob& bad : list->bad) {
    Log(LogLevel::kWarn,
        absl::StrCat("ignoring job key ", bad.key, ": ", bad.error));
  }
  const absl::Time now = absl::Now();
  for (etcd::CronJob& job : list->jobs) {
    if (absl::Status s = table_->Upsert(std::move(job), now); !s.ok()) {
      Log(LogLevel::kWarn, std::string(s.message()));
    }
  }
  etcd::WatchOptions wo;
  wo.prefix = true;
  wo.start_revision = list->revision + 1;
  wo.on_ready = [wake = wake_] { wake->Notify(); };
  absl::StatusOr<std::unique_ptr<etcd::Watcher>> w =
      watches_->Watch(store_->JobPrefix(), wo, absl::Now() + call_timeout_);
  if (!w.ok()) return w.status();
  job_watcher_ = *std::move(w);
  return WatchRuns(list->revision + 1);
}

absl::Status JobCatalog::WatchRuns(int64_t from_revision) {
  etcd::WatchOptions wo;
  wo.prefix = true;
  wo.start_revision = from_revision;
  wo.no_delete = true;
  wo.on_ready = [wake = wake_] { wake->Notify(); };
  absl::StatusOr<std::unique_ptr<etcd::Watcher>> w =
      watches_->Watch(store_->RunPrefix(), wo, absl::Now() + call_timeout_);
  if (!w.ok()) return w.status();
  run_watcher_ = *std::move(w);
  return absl::OkStatus();
}

void JobCatalog::Erase(const std::string& encoded) {
  table_->Erase(encoded);
  if (on_erase_) on_erase_(encoded);
}

void JobCatalog::Drain(const RequestHandler& on_request) {
  if (job_watcher_ == nullptr && MonoNow() >= next_reload_) {
    ++resyncs_;
    if (absl::Status s = Load(); !s.ok()) {
      job_watcher_.reset();
      run_watcher_.reset();
      next_reload_ = MonoNow() + absl::Seconds(1);
      Log(LogLevel::kWarn, absl::StrCat("re-reading jobs: ", s.message()));
      return;
    }
  }
  if (!DrainJobs()) return;  // the next wake-up drains the new watchers
  DrainRuns(on_request);
}

bool JobCatalog::DrainJobs() {
  while (job_watcher_ != nullptr) {
    absl::StatusOr<std::optional<etcd::WatchBatch>> b = job_watcher_->TryNext();
    if (b.ok() && !b->has_value()) break;
    if (!b.ok()) {
      Log(LogLevel::kWarn, absl::StrCat("job watch ended (",
                                        b.status().message(), "); re-reading"));
      job_watcher_.reset();
      run_watcher_.reset();
      ++resyncs_;
      if (absl::Status s = Load(); !s.ok()) {
        job_watcher_.reset();  // Load may have failed after watching jobs
        run_watcher_.reset();
        next_reload_ = MonoNow() + absl::Seconds(1);
        Log(LogLevel::kWarn, absl::StrCat("re-reading jobs: ", s.message()));
      }
      return false;
    }
    for (const etcd::Event& ev : (*b)->events) {
      if (ev.type == etcd::Event::Type::kDelete) {
        const std::string enc = store_->JobOfKey(ev.kv.key);
        Erase(enc);
        Log(LogLevel::kInfo, absl::StrCat("job ", enc, " removed"));
        continue;
      }
      absl::StatusOr<etcd::CronJob> job = store_->ParseJob(ev.kv);
      if (!job.ok()) {
        Log(LogLevel::kWarn, absl::StrCat("ignoring job key ", ev.kv.key, ": ",
                                          job.status().message()));
        Erase(store_->JobOfKey(ev.kv.key));
        continue;
      }
      Log(LogLevel::kInfo,
          absl::StrCat("job ", job->name, " defined: ", job->job.schedule()));
      if (absl::Status s = table_->Upsert(*std::move(job), absl::Now());
          !s.ok()) {
        Log(LogLevel::kWarn, std::string(s.message()));
      }
    }
  }
  return true;
}

void JobCatalog::DrainRuns(const RequestHandler& on_request) {
  while (run_watcher_ != nullptr) {
    absl::StatusOr<std::optional<etcd::WatchBatch>> b = run_watcher_->TryNext();
    if (b.ok() && !b->has_value()) break;
    if (!b.ok()) {
      run_watcher_.reset();
      if (absl::Status s = WatchRuns(0); !s.ok()) {
        Log(LogLevel::kWarn, absl::StrCat("run watch: ", s.message()));
      }
      return;
    }
    for (const etcd::Event& ev : (*b)->events) {
      absl::StatusOr<std::pair<std::string, absl::Time>> run =
          store_->ParseRunKey(ev.kv.key);
      if (!run.ok()) continue;
      JobRef job = table_->Find(run->first);
      if (job == nullptr) continue;
      on_request(job, run->second, ev.kv.mod_revision);
    }
  }
}

}  // namespace conch::daemon
