// Who claims a tick, and when: the pure policy behind conchd's claims.
//
// Every tick has a preferred claimer among the live daemons, chosen by a
// hash of the job name that every daemon computes alike (Roster). The
// preferred claimer claims its ticks at the instant, many per Txn; the
// others put the tick in a FallbackQueue and, a short delay later, claim
// only what is still unclaimed (the preferred one may be dead or slow).
// PlanClaims sorts the due ticks into those paths.
//
// No etcd, no clock of its own: time comes in as arguments. Thread-
// compatible (conchd's loop thread).
//
// Example:
//   Roster roster("host1");
//   roster.Set({"host1", "host2"}, /*registered=*/true);
//   ClaimPlan plan = PlanClaims(table.TakeDue(now, now - max_late).due,
//                               roster);
//   for (Tick& t : plan.fallback) fallback.Add(std::move(t));
#ifndef CONCH_CONCH_DAEMON_CLAIM_POLICY_H_
#define CONCH_CONCH_DAEMON_CLAIM_POLICY_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "conch/daemon/job_table.h"

namespace conch::daemon {

// FNV-1a's scheme with the offset basis 1469598103934665603 (one digit
// short of the published one, as conchd has always had it): a hash every
// daemon computes alike, whatever its build. Changing it would make
// daemons of two versions disagree on who claims first.
uint64_t StableHash(absl::string_view s);

// The live daemons, as this one last read them.
class Roster {
 public:
  explicit Roster(std::string self) : self_(std::move(self)) {}

  // Replaces the list; this daemon is added when it is `registered` (its
  // own key may not be in a read made just before it registered).
  void Set(std::vector<std::string> live, bool registered);
  const std::vector<std::string>& live() const { return live_; }

  // The preferred claimer of a job's ticks (this daemon while the list
  // is empty).
  const std::string& PreferredClaimer(absl::string_view encoded) const;
  bool Prefers(absl::string_view encoded) const {
    return PreferredClaimer(encoded) == self_;
  }

 private:
  // Constant after construction.
  const std::string self_;

  std::vector<std::string> live_;  // sorted, unique
};

// Ticks preferred by other daemons, each claimed `delay` after its instant
// if nobody has by then.
class FallbackQueue {
 public:
  explicit FallbackQueue(absl::Duration delay) : delay_(delay) {}

  void Add(Tick tick);
  // The ticks whose delay has passed at `now`, in the order added.
  std::vector<Tick> TakeDue(absl::Time now);
  void Clear();
  bool empty() const { return ticks_.empty(); }
  // When the earliest tick becomes due (InfiniteFuture when empty).
  absl::Time next() const { return next_; }
  absl::Duration delay() const { return delay_; }

 private:
  // Constant after construction.
  const absl::Duration delay_;

  std::vector<Tick> ticks_;
  absl::Time next_ = absl::InfiniteFuture();
};

// The due ticks of one loop turn, by the path each takes.
struct ClaimPlan {
  std::vector<Tick> batched;   // preferred here: claimed many per Txn
  std::vector<Tick> single;    // preferred here, --overlap skip: one by one
  std::vector<Tick> fallback;  // preferred elsewhere: FallbackQueue
};
// Ticks more than --max-late old never get here: JobTable::TakeDue reports
// them as missed.
ClaimPlan PlanClaims(std::vector<Tick> due, const Roster& roster);

// `items` cut into consecutive batches of at most `size`.
template <typename T>
std::vector<std::vector<T>> Batches(std::vector<T> items, size_t size) {
  std::vector<std::vector<T>> out;
  for (size_t i = 0; i < items.size(); i += size) {
    const size_t end = std::min(items.size(), i + size);
    out.emplace_back(std::make_move_iterator(items.begin() + i),
                     std::make_move_iterator(items.begin() + end));
  }
  return out;
}

}  // namespace conch::daemon

#endif  // CONCH_CONCH_DAEMON_CLAIM_POLICY_H_
