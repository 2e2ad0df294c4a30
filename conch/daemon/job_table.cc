#include "conch/daemon/job_table.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace conch::daemon {

absl::Status JobTable::Upsert(etcd::CronJob job, absl::Time now) {
  absl::StatusOr<Schedule> schedule =
      Schedule::Parse(job.job.schedule(), job.job.tz());
  if (!schedule.ok()) {
    jobs_.erase(job.encoded);
    return absl::InvalidArgumentError(absl::StrCat(
        "job ", job.name, " not scheduled: ", schedule.status().message()));
  }
  // Never a tick before this daemon started; for a changed definition,
  // the ticks from now on.
  const absl::Time from = std::max(start_, now);
  const absl::Time next = schedule->Next(from - absl::Nanoseconds(1));
  next_due_ = std::min(next_due_, next);
  std::string key = job.encoded;
  jobs_.insert_or_assign(
      std::move(key),
      Scheduled{std::make_shared<const etcd::CronJob>(std::move(job)),
                *std::move(schedule), next});
  return absl::OkStatus();
}

void JobTable::Erase(const std::string& encoded) { jobs_.erase(encoded); }

std::vector<std::string> JobTable::Names() const {
  std::vector<std::string> out;
  out.reserve(jobs_.size());
  for (const auto& [encoded, scheduled] : jobs_) out.push_back(encoded);
  return out;
}

void JobTable::Clear() {
  jobs_.clear();
  next_due_ = absl::InfiniteFuture();
}

JobRef JobTable::Find(const std::string& encoded) const {
  auto it = jobs_.find(encoded);
  return it == jobs_.end() ? nullptr : it->second.job;
}

std::vector<Tick> JobTable::TakeDue(absl::Time now) {
  std::vector<Tick> due;
  if (now < next_due_) return due;  // nothing due: no scan of every job
  next_due_ = absl::InfiniteFuture();
  for (auto& [key, s] : jobs_) {
    while (s.next <= now) {
      due.push_back(Tick{s.job, s.next});
      s.next = s.schedule.Next(s.next);
    }
    next_due_ = std::min(next_due_, s.next);
  }
  return due;
}

}  // namespace conch::daemon
