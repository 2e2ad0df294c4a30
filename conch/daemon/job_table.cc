#include "conch/daemon/job_table.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/records/records.h"

namespace conch::daemon {

absl::Status JobTable::Upsert(etcd::CronJob job, absl::Time now) {
  absl::StatusOr<Schedule> schedule =
      Schedule::Parse(job.job.schedule(), job.job.tz());
  if (!schedule.ok()) {
    Erase(job.encoded);
    return absl::InvalidArgumentError(absl::StrCat(
        "job ", job.name, " not scheduled: ", schedule.status().message()));
  }
  // Never a tick before this daemon started; for a changed definition,
  // the ticks from now on.
  const absl::Time from = std::max(start_, now);
  const absl::Time next = schedule->Next(from - absl::Nanoseconds(1));
  Erase(job.encoded);
  std::string key = job.encoded;
  queue_.emplace(next, key);
  jobs_.emplace(std::move(key),
                Scheduled{std::make_shared<const etcd::CronJob>(std::move(job)),
                          *std::move(schedule), next});
  return absl::OkStatus();
}

void JobTable::Erase(const std::string& encoded) {
  auto it = jobs_.find(encoded);
  if (it == jobs_.end()) return;
  queue_.erase({it->second.next, encoded});
  jobs_.erase(it);
}

std::vector<std::string> JobTable::Names() const {
  std::vector<std::string> out;
  out.reserve(jobs_.size());
  for (const auto& [encoded, scheduled] : jobs_) out.push_back(encoded);
  return out;
}

void JobTable::Clear() {
  jobs_.clear();
  queue_.clear();
}

JobRef JobTable::Find(const std::string& encoded) const {
  auto it = jobs_.find(encoded);
  return it == jobs_.end() ? nullptr : it->second.job;
}

std::string MissedTicks::Text() const {
  return absl::StrCat("job ", job->name, ": ", count, " tick(s) from ",
                      records::FormatRfc3339(first), " to ",
                      records::FormatRfc3339(last),
                      " missed (too late), not run");
}

JobTable::Due JobTable::TakeDue(absl::Time now, absl::Time oldest) {
  Due out;
  while (!queue_.empty() && queue_.begin()->first <= now) {
    auto node = queue_.extract(queue_.begin());
    Scheduled& s = jobs_.at(node.value().second);
    if (s.next < oldest) {
      MissedTicks m{s.job, s.next, s.next, 0};
      for (; s.next < oldest && s.next <= now;
           s.next = s.schedule.Next(s.next)) {
        m.last = s.next;
        ++m.count;
      }
      out.missed.push_back(std::move(m));
    } else {
      out.due.push_back(Tick{s.job, s.next});
      s.next = s.schedule.Next(s.next);
    }
    node.value().first = s.next;
    queue_.insert(std::move(node));
  }
  return out;
}

}  // namespace conch::daemon
