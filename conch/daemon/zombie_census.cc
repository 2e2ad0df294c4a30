#include "conch/daemon/zombie_census.h"

#include <map>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "core/cron/cron_state.h"

namespace conch::daemon {

void ZombieCensus::MaybeStart(MonoTime now, const JobTable& table,
                              WorkPool& pool) {
  if (running_ || now < next_) return;
  running_ = true;
  next_ = now + kEvery;
  std::vector<JobRef> jobs;
  for (const std::string& encoded : table.Names()) {
    if (JobRef j = table.Find(encoded); j != nullptr) jobs.push_back(j);
  }
  pool.Submit([this, jobs = std::move(jobs)] {
    std::map<std::string, int> zombies;
    absl::StatusOr<std::map<std::string, std::string>> live =
        store_->LiveDaemons(absl::Now() + call_timeout_);
    for (const JobRef& job : jobs) {
      if (abort_ || !live.ok()) break;
      // Claims only: a skip span never holds a zombie.
      absl::StatusOr<std::vector<etcd::CronTick>> ticks =
          store_->History(job->encoded, kZombieWindow,
                          absl::Now() + call_timeout_, /*spans=*/false);
      if (!ticks.ok()) break;
      int n = 0;
      for (const etcd::CronTick& t : *ticks) {
        n += etcd::StateOfTick(t, *live).kind == etcd::TickState::Kind::kZombie;
      }
      zombies[job->name] = n;
      absl::SleepFor(absl::Milliseconds(20));
    }
    if (!abort_ && live.ok() && zombies.size() == jobs.size()) {
      metrics_->SetZombies(zombies);
    }
    running_ = false;
  });
}

}  // namespace conch::daemon
