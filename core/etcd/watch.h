// WatchStream and Watcher: etcd watches, many on one gRPC stream.
//
// A WatchStream runs one Watch bidirectional stream (a gRPC callback
// reactor: no thread per stream or per watcher) that carries any number of
// watchers. Each watcher remembers the next revision it has to see; when the
// stream breaks (etcd restarted, endpoint lost, member lost its leader) the
// stream is re-opened and every watcher is re-created from that revision, so
// no event is lost and none is delivered twice. A start revision that etcd
// has compacted away ends the watcher with an error for which
// IsCompacted(status) holds: the caller re-reads, then watches again.
// Fragmented responses are merged before delivery.
//
// Watcher::Next blocks until a batch of events (all events of one or more
// revisions, in order) or the deadline. A terminal error (compaction,
// permission denied) is returned by every later call.
//
// Ownership: the caller owns both; the WatchStream borrows the Connection
// and must outlive its Watchers. Destroying a Watcher cancels it on the
// server. Thread-safe; one thread at a time should call a Watcher's Next.
//
// Example:
//   WatchStream stream(&conn);
//   absl::StatusOr<std::unique_ptr<Watcher>> w = stream.Watch(
//       "/conch/elect/x/", {.prefix = true, .start_revision = rev + 1},
//       absl::Now() + absl::Seconds(5));
//   absl::StatusOr<WatchBatch> batch = (*w)->Next(absl::Now() + timeout);
#ifndef CONCH_CORE_ETCD_WATCH_H_
#define CONCH_CORE_ETCD_WATCH_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/etcd/connection.h"
#include "core/etcd/types.h"

namespace grpc {
class Alarm;
}  // namespace grpc
namespace etcdserverpb {
class WatchResponse;
}  // namespace etcdserverpb

namespace conch::etcd {

struct WatchOptions {
  // Watch every key starting with the key (overrides range_end).
  bool prefix = false;
  // Watch [key, range_end); empty watches the key alone.
  std::string range_end;
  // First revision to report; 0 means "changes after now".
  int64_t start_revision = 0;
  bool prev_kv = false;
  // Ask etcd for periodic progress notifications (delivered as batches
  // with no events and progress == true).
  bool progress_notify = false;
  bool no_put = false;
  bool no_delete = false;
  // false: Watch() returns as soon as the create request is queued instead
  // of waiting for etcd's confirmation; a refusal arrives later as the
  // watcher's terminal error. Needs start_revision > 0, so that the events
  // in between cannot be missed (saves a round trip on a hot path).
  bool await_created = true;
  // Called from a gRPC thread, with the stream's lock held, whenever a
  // batch or a terminal error becomes ready. It must only hand the news on
  // (signal a condition variable); calling into the WatchStream or Watcher
  // from it deadlocks.
  std::function<void()> on_ready;
};

struct WatchBatch {
  std::vector<Event> events;
  // The store revision when etcd sent the batch: every change up to it has
  // been delivered.
  int64_t revision = 0;
  bool progress = false;  // a progress notification without events
};

class WatchStream;

class Watcher {
 public:
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;
  ~Watcher();

  // The next batch; DeadlineExceeded when none arrived by `deadline` (the
  // watcher stays usable), or the watcher's terminal error.
  absl::StatusOr<WatchBatch> Next(absl::Time deadline);

  // Never blocks: the next batch if one is ready, nullopt if none is, or
  // the watcher's terminal error.
  absl::StatusOr<std::optional<WatchBatch>> TryNext();

  // The revision of the next event this watcher will deliver.
  int64_t next_revision() const;

  // Cancels the watch and waits (until `deadline`) for etcd to confirm it,
  // so that no event after this call is sent for it. The destructor cancels
  // without waiting.
  void Cancel(absl::Time deadline);

 private:
  friend class WatchStream;
  struct State;
  Watcher(WatchStream* stream, std::shared_ptr<State> state)
      : stream_(stream), state_(std::move(state)) {}

  WatchStream* const stream_;  // not owned
  const std::shared_ptr<State> state_;
};

class WatchStream {
 public:
  explicit WatchStream(Connection* conn);
  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;
  ~WatchStream();

  // Creates a watcher and waits until etcd confirms it (or the deadline:
  // DeadlineExceeded, or Unavailable while etcd cannot be reached). With
  // options.await_created == false it does not wait (InvalidArgument
  // without a start revision).
  absl::StatusOr<std::unique_ptr<Watcher>> Watch(std::string key,
                                                 WatchOptions options,
                                                 absl::Time deadline)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Asks etcd to send a progress notification to every watcher.
  void RequestProgress() ABSL_LOCKS_EXCLUDED(mu_);

  // How many times the stream was re-opened after breaking.
  int64_t reconnects() const ABSL_LOCKS_EXCLUDED(mu_);
  // How many times the open stream broke (counted when it breaks, before
  // the re-open): while it is broken no watcher hears anything, and the
  // events of that time come after the re-open.
  int64_t interruptions() const ABSL_LOCKS_EXCLUDED(mu_);
  // Whether the stream is open and etcd confirmed every watcher on it.
  bool open() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class Watcher;
  class Call;

  void OpenCallLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SendCreateLocked(Watcher::State& state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ScheduleReopenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnAlarm() ABSL_LOCKS_EXCLUDED(mu_);
  void CancelWatcher(const std::shared_ptr<Watcher::State>& state)
      ABSL_LOCKS_EXCLUDED(mu_);
  void CancelWatcherLocked(const std::shared_ptr<Watcher::State>& state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Called by Call.
  void OnResponse(Call* call, const etcdserverpb::WatchResponse& response)
      ABSL_LOCKS_EXCLUDED(mu_);
  void OnCallDone(Call* call) ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  Connection* const conn_;  // not owned

  mutable absl::Mutex mu_;
  absl::CondVar changed_;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t reconnects_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t interruptions_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration reopen_delay_ ABSL_GUARDED_BY(mu_);
  bool alarm_armed_ ABSL_GUARDED_BY(mu_) = false;
  std::unique_ptr<grpc::Alarm> alarm_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, std::shared_ptr<Watcher::State>> watchers_
      ABSL_GUARDED_BY(mu_);
  // Watch IDs whose create request went out on `current_`, oldest first,
  // not yet answered.
  std::deque<int64_t> unanswered_creates_ ABSL_GUARDED_BY(mu_);
  // Cancel sent, confirmation from etcd not yet received.
  std::map<int64_t, std::shared_ptr<Watcher::State>> cancelling_
      ABSL_GUARDED_BY(mu_);
  // Every call not yet done; `current_` carries the watchers, if any.
  std::vector<std::shared_ptr<Call>> calls_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<Call> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace conch::etcd

#endif  // CONCH_CORE_ETCD_WATCH_H_
