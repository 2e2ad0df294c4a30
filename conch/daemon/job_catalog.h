// JobCatalog: keeps a JobTable in step with the job definitions in etcd,
// and hears `conch cron run` requests.
//
// Load() reads every definition into the table (keys that cannot be read
// are logged and ignored) and watches the job prefix and the run-request
// prefix from the revision after the read. Drain() applies what the
// watches delivered, without blocking: a definition put is upserted
// (its ticks from now on), a deleted or unreadable one leaves the table;
// each run request goes to `on_request`. A job watch that ends (compacted,
// cancelled) is re-read from scratch (a read that fails is tried again on
// the next Drain, at most once a second; meanwhile synced() is false and
// the table keeps the definitions it had); a run watch that ends resumes
// from now (requests are claimed only while fresh anyway).
//
// Ownership: owns its watchers; borrows the store, the watch stream and
// the table, which must outlive it. Thread-compatible (conchd's loop
// thread).
//
// Example:
//   JobCatalog catalog(&store, &watches, &table, &wake, call_timeout);
//   RETURN_IF_ERROR(catalog.Load());
//   ... after each wake-up:
//   catalog.Drain([&](JobRef job, absl::Time instant, int64_t rev) {...});
#ifndef CONCH_CONCH_DAEMON_JOB_CATALOG_H_
#define CONCH_CONCH_DAEMON_JOB_CATALOG_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "conch/daemon/job_table.h"
#include "core/base/mono_time.h"
#include "core/base/notifier.h"
#include "core/cron/cron.h"
#include "core/etcd/watch.h"

namespace conch::daemon {

class JobCatalog {
 public:
  // A run request for `job`'s extra tick at `instant`, put at `revision`.
  using RequestHandler = std::function<void(
      const JobRef& job, absl::Time instant, int64_t revision)>;

  JobCatalog(const etcd::CronStore* store, etcd::WatchStream* watches,
             JobTable* table, const Notifier* wake, absl::Duration call_timeout)
      : store_(store),
        watches_(watches),
        table_(table),
        wake_(wake),
        call_timeout_(call_timeout) {}

  absl::Status Load();
  void Drain(const RequestHandler& on_request);

  // Whether the job list is read and its watch running (for /readyz).
  bool synced() const { return job_watcher_ != nullptr; }
  // How many times the job list was read again after its watch ended.
  uint64_t resyncs() const { return resyncs_; }
  // Called with the encoded name of each job that leaves the table.
  void OnErase(std::function<void(const std::string& encoded)> f) {
    on_erase_ = std::move(f);
  }

 private:
  absl::Status WatchRuns(int64_t from_revision);
  // false when the job watch ended (and was re-read).
  bool DrainJobs();
  void DrainRuns(const RequestHandler& on_request);

  // Constant after construction.
  const etcd::CronStore* const store_;
  etcd::WatchStream* const watches_;
  JobTable* const table_;
  const Notifier* const wake_;
  const absl::Duration call_timeout_;

  // Erases a job from the table and tells on_erase_.
  void Erase(const std::string& encoded);

  std::unique_ptr<etcd::Watcher> job_watcher_;
  std::unique_ptr<etcd::Watcher> run_watcher_;
  uint64_t resyncs_ = 0;
  // A failed re-read is tried again from Drain, at most this often.
  MonoTime next_reload_;
  std::function<void(const std::string&)> on_erase_;
};

}  // namespace conch::daemon

#endif  // CONCH_CONCH_DAEMON_JOB_CATALOG_H_
