// Election: leader election for one office, on a borrowed Session.
//
// Each candidate puts `<office>/<lease-hex>` (its holder record) attached to
// its session lease, in one Txn guarded by create_revision == 0 that also
// reads the office's first-created key: on a vacant office that single
// round trip makes the candidate the leader. The candidate with the lowest
// create revision leads; every other candidate watches only its immediate
// predecessor (the key with the highest create revision below its own) for
// deletion, so one departure wakes one candidate. CONCH_REV is the create
// revision of the leader's key: a later leader always has a larger one.
//
// The API is step-wise so that the caller's event loop can also handle
// signals, timeouts and session loss while waiting:
//   Enter()  → puts the key; returns whether we lead already;
//   Check()  → re-checks (only after the predecessor watch fired); when we
//              do not lead, (re)arms the predecessor watch, whose events
//              call `on_change`. When the last read showed the predecessor
//              alone ahead of us, its deletion is the handover itself and
//              Check() answers true without reading again (one round trip
//              less between a leader's release and its successor's child);
//   Leave()  → deletes our key (resign or give up waiting).
// If our own key has disappeared, Check() returns NotFound: the session was
// lost and the caller must not run the child.
//
// Ownership: borrows the Session (and its connection and watch stream),
// which must outlive it. Thread-compatible: one thread drives it.
//
// Example:
//   Election e(session.get(), "/conch/elect/db/");
//   absl::StatusOr<bool> leading = e.Enter(record_json, deadline);
//   while (leading.ok() && !*leading) {
//     wait for wake.fd() ...;
//     leading = e.Check([&] { wake.Notify(); }, deadline);
//   }
#ifndef CONCH_CORE_RECIPES_ELECTION_H_
#define CONCH_CORE_RECIPES_ELECTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/etcd/connection.h"
#include "core/etcd/kv.h"
#include "core/etcd/types.h"
#include "core/etcd/watch.h"
#include "core/recipes/session.h"

namespace conch::etcd {

class Election {
 public:
  // `office_prefix` ends in '/' and holds nothing but this office's keys.
  Election(Session* session, std::string office_prefix);

  // Puts our candidate key with `value`. Returns true when we lead at once.
  absl::StatusOr<bool> Enter(const std::string& value, absl::Time deadline);

  // Whether we lead now. Cheap (no RPC) while the predecessor watch has
  // reported nothing. `on_change` is called from a gRPC thread when the
  // predecessor's key is deleted.
  absl::StatusOr<bool> Check(const std::function<void()>& on_change,
                             absl::Time deadline);

  // Deletes our key if it is still ours (a no-op when already gone).
  absl::Status Leave(absl::Time deadline);

  // Makes the next Check read etcd again instead of trusting the watch.
  void Invalidate() { dirty_ = true; }

  const std::string& key() const { return key_; }
  // Create revision of our key: CONCH_REV once we lead.
  int64_t revision() const { return revision_; }
  // The key we wait for ("" when leading or before Enter).
  const std::string& predecessor() const { return predecessor_; }

  // The current leader of the office at `office_prefix`: the key with the
  // lowest create revision, or nullopt when the office is vacant.
  static absl::StatusOr<std::optional<KeyValue>> Leader(
      const Kv& kv, const std::string& office_prefix, absl::Time deadline);

 private:
  // Reads our key and our predecessor in one round trip; arms the watch.
  absl::StatusOr<bool> Reevaluate(const std::function<void()>& on_change,
                                  absl::Time deadline);

  // Constant after construction.
  Session* const session_;  // not owned
  const std::string prefix_;
  const std::string key_;

  int64_t revision_ = 0;
  std::string predecessor_;
  // At the last read the predecessor was the only key ahead of ours: its
  // deletion alone makes us the leader.
  bool predecessor_leads_ = false;
  std::unique_ptr<Watcher> watcher_;
  bool dirty_ = true;  // must re-read before answering
};

}  // namespace conch::etcd

#endif  // CONCH_CORE_RECIPES_ELECTION_H_
