// The semaphore's ranking rule as pure functions (spec 03), so that the
// "no thundering herd" property can be read and tested without etcd.
//
// Contenders queue as keys under `q/`, ordered by create revision. A
// contender's rank r is the number of queue keys created before its own.
//   r <  N  → it may hold: claim a free slot;
//   r == N  → head of the line: watch every deletion under `q/` (each one
//             may lower its rank);
//   r >  N  → watch only the immediate predecessor (the queue key created
//             just before its own): its deletion, or its rewrite to state
//             "holding", is the one event after which the rank can matter.
// One release thus wakes the head (one event) and the head's promotion
// wakes its successor (one event); nobody else does any work.
//
// Pure; thread-safe.
//
// Example:
//   SemaPlan p = PlanFor(/*rank=*/5, /*max=*/2);  // kWatchPredecessor
#ifndef CONCH_CORE_RECIPES_SEMA_PLAN_H_
#define CONCH_CORE_RECIPES_SEMA_PLAN_H_

#include <cstdint>

namespace conch {

enum class SemaPlan {
  kHold,              // rank < N: claim a slot
  kWatchQueue,        // rank == N: deletions under q/
  kWatchPredecessor,  // rank > N: the key just ahead
};

inline bool MayHold(int64_t rank, int64_t max) { return rank < max; }

inline SemaPlan PlanFor(int64_t rank, int64_t max) {
  if (rank < max) return SemaPlan::kHold;
  if (rank == max) return SemaPlan::kWatchQueue;
  return SemaPlan::kWatchPredecessor;
}

}  // namespace conch

#endif  // CONCH_CORE_RECIPES_SEMA_PLAN_H_
