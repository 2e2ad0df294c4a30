// The semaphore's ranking rule as pure functions (spec 03), so that the
// "no thundering herd" and "no stalled line" properties can be read and
// tested without etcd.
//
// Contenders queue as keys under `q/`, ordered by create revision. A
// contender's rank r is the number of queue keys created before its own.
//   r <  N  → it may hold: claim a free slot;
//   r >= N  → watch the deletions of the N queue keys nearest ahead of it
//             (the N created last before its own).
// It may hold exactly when fewer than N keys are ahead of it. Keys are only
// ever added behind it, so that can become true only after one of those N
// keys is deleted: the waiter is woken by the deletion itself, never by
// another contender's reaction to it. A frozen, cut-off or slow contender
// ahead therefore cannot stall the ones behind it (the predecessor-only
// chain of spec 03's suggested shape could, until the frozen one thawed or
// its lease expired). A deletion reaches at most the N waiters behind the
// deleted key, whatever the queue length; with N = 1 that is one event per
// release, and claims (which rewrite a key) wake nobody.
//
// Pure; thread-safe.
//
// Example:
//   SemaPlan p = PlanFor(/*rank=*/5, /*max=*/2);  // kWatchAhead
//   int64_t n = WatchedAhead(5, 2);               // 2 keys
#ifndef CONCH_CORE_RECIPES_SEMA_PLAN_H_
#define CONCH_CORE_RECIPES_SEMA_PLAN_H_

#include <cstdint>

namespace conch {

enum class SemaPlan {
  kHold,        // rank < N: claim a slot
  kWatchAhead,  // rank >= N: deletions of the N keys nearest ahead
};

inline bool MayHold(int64_t rank, int64_t max) { return rank < max; }

inline SemaPlan PlanFor(int64_t rank, int64_t max) {
  return MayHold(rank, max) ? SemaPlan::kHold : SemaPlan::kWatchAhead;
}

// How many of the keys nearest ahead a contender of `rank` watches.
inline int64_t WatchedAhead(int64_t rank, int64_t max) {
  return MayHold(rank, max) ? 0 : max;
}

}  // namespace conch

#endif  // CONCH_CORE_RECIPES_SEMA_PLAN_H_
