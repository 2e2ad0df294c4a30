// Contenders: who holds a `conch elect` office or a `conch sema` name and
// who waits for it, in one shape for both. `--who` prints it (a table or
// one JSON document), `--who --watch` prints it again on every change, and
// a waiting conch finds its own place in it for the line
//   waiting for NAME: position K of M (held by HOST pid P since T)
//
// Positions: a waiter's position is its place in line, 1 for the next to
// hold; for a semaphore it is counted within its N (contenders that
// disagree about N never share a count). Holders have no position; a
// semaphore's holders have a slot. `since` is when the contender began to
// campaign (its record is written once, when it queues).
//
// JSON (the same keys for both kinds; a key that has no value for a
// contender is left out, never printed empty):
//   {"kind":"office"|"semaphore","name":…,"revision":R,
//    "holders":[{"slot":0,"max":2,"host":…,"pid":…,"user":…,"since":…,
//                "lease":…,"argv":[…],"rev":…,"key":…}],
//    "waiters":[{"position":1,…}]}
// A vacant name has empty arrays. An unreadable record shows "error".
//
// Thread-compatible value types; ReadContenders is one range read with the
// caller's deadline (Unavailable: retry).
//
// Example:
//   absl::StatusOr<Contenders> c = ReadContenders(
//       conn, "/conch/", Contenders::Kind::kOffice, "backup", 0, deadline);
//   if (c.ok()) std::cout << ContendersJson(*c) << "\n";
#ifndef CONCH_CONCH_CONTENDERS_H_
#define CONCH_CONCH_CONTENDERS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "conch/output.h"
#include "core/etcd/connection.h"
#include "core/view/cluster_view.h"

namespace conch {

struct Contender {
  observe::HolderView holder;
  int position = 0;  // waiters: 1 is next in line
  int slot = -1;     // semaphore holders: 0…N-1
  int64_t max = 0;   // semaphores: the N of its group
};

struct Contenders {
  enum class Kind { kOffice, kSemaphore };
  Kind kind = Kind::kOffice;
  std::string name;                // decoded
  int64_t revision = 0;            // the store revision read
  std::vector<Contender> holders;  // elect: the leader alone; sema: by N, slot
  std::vector<Contender> waiters;  // in line order (by N for a semaphore)
};

// Reads `encoded_name` of `kind` under `prefix`. `max` > 0 keeps only that
// N of a semaphore (0: every N in use; ignored for an office).
absl::StatusOr<Contenders> ReadContenders(etcd::Connection* conn,
                                          const std::string& prefix,
                                          Contenders::Kind kind,
                                          const std::string& encoded_name,
                                          int64_t max, absl::Time deadline);

// "office" or "semaphore".
const char* KindName(Contenders::Kind kind);

// The JSON document described above (one line, no newline).
std::string ContendersJson(const Contenders& c);

// ROLE (leader/standby, holder/waiter), POSITION, [MAX, SLOT,] HOST, PID,
// SINCE, REV; `wide` adds USER, LEASE and COMMAND.
Table ContendersTable(const Contenders& c, bool wide);

// Where the waiting contender whose key is `key` stands: its position, how
// many wait in its line (M), and who holds what it waits for. nullopt when
// `key` is not among the waiters (it holds, or it is gone).
struct Place {
  int position = 0;
  int of = 0;
  std::vector<const Contender*> holders;  // into the Contenders
};
std::optional<Place> FindPlace(const Contenders& c, const std::string& key);

// The waiting line of the contender whose key is `key`:
//   "waiting for NAME: position K of M (held by HOST pid P since T)"
// ("and N more" after the first of several holders; "nobody holds it
// yet" while a handover is under way). Empty when `key` is not waiting.
std::string PlaceLine(const Contenders& c, const std::string& key);

}  // namespace conch

#endif  // CONCH_CONCH_CONTENDERS_H_
