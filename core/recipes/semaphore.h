// Semaphore: a FIFO counting semaphore for one name and one N, on a
// borrowed Session (spec 03).
//
// Keys under the group prefix `<prefix>sema/<NAME>/<N>/` (N is part of the
// path, so contenders that disagree about N never share a count):
//   q/<lease-hex>   the contender's holder record, state "waiting" or
//                   "holding", attached to its lease; its create revision
//                   is its place in line;
//   slot/<k>        k in 0…N-1, created (create_revision == 0) by a holder
//                   on its own lease. At most N slot keys can exist, so at
//                   most N contenders hold, whatever else happens.
// A contender whose rank (queue keys created before its own) is below N
// claims the lowest free slot and rewrites its queue key to "holding" in the
// same Txn. Waiting follows core/recipes/sema_plan.h: a waiter watches the
// deletions of the N queue keys nearest ahead of it, so a release wakes at
// most N waiters and no contender ahead can stall the line by not reacting.
// CONCH_SLOT is k and CONCH_REV the create revision of slot/<k>: it
// strictly increases per slot across successions.
//
// Uncontended (no queue key, slot 0 free), Enter() is one Txn that writes
// the queue key and slot 0 together; otherwise one Txn queues and reads the
// line, and a contender within N claims with a second.
//
// Step-wise like Election: Enter() queues (and claims at once when it can),
// Check() re-evaluates after a watch event, Leave() removes the keys.
//
// Ownership: borrows the Session (and its connection and watch stream),
// which must outlive it. Thread-compatible: one thread drives it.
//
// Example:
//   Semaphore sem(session.get(), group_prefix, 3);
//   absl::StatusOr<bool> holding = sem.Enter(
//       [&](absl::string_view state, int slot) { return Record(state, slot); },
//       deadline);
//   while (holding.ok() && !*holding) {
//     wait ...; holding = sem.Check([&] { wake.Notify(); }, deadline);
//   }
//   // sem.slot(), sem.revision()
#ifndef CONCH_CORE_RECIPES_SEMAPHORE_H_
#define CONCH_CORE_RECIPES_SEMAPHORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/etcd/connection.h"
#include "core/etcd/kv.h"
#include "core/etcd/types.h"
#include "core/etcd/watch.h"
#include "core/recipes/sema_plan.h"
#include "core/recipes/session.h"

namespace conch::etcd {

// What --who shows of one group.
struct SemaGroup {
  int64_t max = 0;
  struct Holder {
    int slot = 0;
    int64_t revision = 0;  // create revision of the slot key (CONCH_REV)
    std::string key;
    std::string value;  // the stored record
  };
  std::vector<Holder> holders;  // by slot
  // Queue keys of contenders that hold no slot (by lease), in order.
  std::vector<KeyValue> waiters;
};

class Semaphore {
 public:
  // The value of our keys for a state ("waiting" or "holding") and a slot
  // (-1 while waiting): what `--who` shows of a contender.
  using ValueFn = std::function<std::string(absl::string_view state, int slot)>;

  Semaphore(Session* session, std::string group_prefix, int64_t max);

  // Queues (our keys' values come from `value`). Returns true when a slot
  // was claimed at once.
  absl::StatusOr<bool> Enter(ValueFn value, absl::Time deadline);
  // Whether we hold a slot now; cheap while the watch reported nothing.
  absl::StatusOr<bool> Check(const std::function<void()>& on_change,
                             absl::Time deadline);
  // Deletes our queue and slot keys if still ours.
  absl::Status Leave(absl::Time deadline);

  // Makes the next Check read etcd again instead of trusting the watch.
  void Invalidate() { dirty_ = true; }

  int slot() const { return slot_; }
  int64_t revision() const { return slot_revision_; }
  int64_t rank() const { return rank_; }
  const std::string& queue_key() const { return queue_key_; }

  // Every group of the name under `name_prefix` (`<prefix>sema/<NAME>/`),
  // or just the group of `max` when max > 0.
  static absl::StatusOr<std::vector<SemaGroup>> Inspect(
      const Kv& kv, const std::string& name_prefix, int64_t max,
      absl::Time deadline);

 private:
  absl::StatusOr<bool> Reevaluate(const std::function<void()>& on_change,
                                  absl::Time deadline);
  // Claims the lowest free slot not in `taken`. False when none is free.
  absl::StatusOr<bool> Claim(std::set<int> taken, absl::Time deadline);
  // Watches the deletions of exactly `keys` (key → whether it is a
  // prefix): watches on keys that stay are kept, new ones start at
  // `start_revision`.
  absl::Status WatchDeletions(const std::map<std::string, bool>& keys,
                              int64_t start_revision,
                              const std::function<void()>& on_change,
                              absl::Time deadline);
  std::set<int> SlotsOf(const GetResult& slots) const;

  // Constant after construction.
  Session* const session_;    // not owned
  const std::string prefix_;  // group prefix, ends in '/'
  const int64_t max_;
  const std::string queue_key_;

  ValueFn value_;
  int64_t queue_revision_ = 0;
  int64_t rank_ = -1;
  int slot_ = -1;
  int64_t slot_revision_ = 0;
  std::map<std::string, std::unique_ptr<Watcher>> watchers_;  // by key
  bool dirty_ = true;
};

}  // namespace conch::etcd

#endif  // CONCH_CORE_RECIPES_SEMAPHORE_H_
