#include "core/recipes/election.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/etcd/etcd_status.h"

namespace conch::etcd {

Election::Election(Session* session, std::string office_prefix)
    : session_(session),
      prefix_(std::move(office_prefix)),
      key_(absl::StrCat(prefix_, LeaseHex(session->lease()))) {}

absl::StatusOr<std::optional<KeyValue>> Election::Leader(
    const Kv& kv, const std::string& office_prefix, absl::Time deadline) {
  GetOptions first;
  first.prefix = true;
  first.sort_target = SortTarget::kCreate;
  first.sort_order = SortOrder::kAscend;
  first.limit = 1;
  absl::StatusOr<GetResult> r = kv.Get(office_prefix, first, deadline);
  if (!r.ok()) return r.status();
  if (r->kvs.empty()) return std::optional<KeyValue>();
  return std::optional<KeyValue>(r->kvs[0]);
}

absl::StatusOr<bool> Election::Enter(const std::string& value,
                                     absl::Time deadline) {
  GetOptions first;
  first.prefix = true;
  first.sort_target = SortTarget::kCreate;
  first.sort_order = SortOrder::kAscend;
  first.limit = 1;
  TxnRequest txn;
  txn.compare = {Compare::CreateRevision(key_, CompareOp::kEqual, 0)};
  txn.success = {TxnOp::Put(key_, value, {.lease = session_->lease()}),
                 TxnOp::Get(prefix_, first)};
  txn.failure = {TxnOp::Get(key_)};
  absl::StatusOr<TxnResult> r = Kv(session_->connection()).Txn(txn, deadline);
  if (!r.ok()) return r.status();
  bool leading = false;
  if (r->succeeded) {
    revision_ = r->revision;
    const GetResult& head = std::get<GetResult>(r->results[1]);
    leading = !head.kvs.empty() && head.kvs[0].key == key_;
    dirty_ = !leading;
  } else {
    // Our lease already has a key here (a retried Enter): resume with it.
    const GetResult& mine = std::get<GetResult>(r->results[0]);
    if (mine.kvs.empty()) {
      return absl::AbortedError("candidate key vanished while entering");
    }
    revision_ = mine.kvs[0].create_revision;
    dirty_ = true;
  }
  // Holding or not, our key's deletion means the session is lost.
  absl::Status guarded = session_->Guard(key_, revision_);
  if (!guarded.ok()) return guarded;
  return leading;
}

absl::StatusOr<bool> Election::Check(const std::function<void()>& on_change,
                                     absl::Time deadline) {
  if (revision_ == 0) {
    return absl::FailedPreconditionError("Check() before Enter()");
  }
  if (!dirty_ && watcher_ != nullptr) {
    // Drain the predecessor watch without blocking.
    bool inherited = false;
    while (true) {
      absl::StatusOr<std::optional<WatchBatch>> b = watcher_->TryNext();
      if (b.ok() && !b->has_value()) break;
      if (!b.ok()) {
        // Compacted or cancelled: re-read to be sure, and watch afresh (a
        // watcher in error delivers nothing more).
        watcher_.reset();
        dirty_ = true;
        break;
      }
      for (const Event& e : (*b)->events) {
        if (e.type != Event::Type::kDelete) continue;
        dirty_ = true;
        inherited =
            inherited || (predecessor_leads_ && e.kv.key == predecessor_);
      }
    }
    if (inherited && watcher_ != nullptr) {
      // At the last read the predecessor was the only key ahead of ours,
      // and no key can join ahead (create revisions only grow): its
      // deletion makes us the leader, without reading again.
      watcher_.reset();
      predecessor_.clear();
      predecessor_leads_ = false;
      dirty_ = false;
      return true;
    }
    if (!dirty_) return false;
  }
  return Reevaluate(on_change, deadline);
}

absl::StatusOr<bool> Election::Reevaluate(
    const std::function<void()>& on_change, absl::Time deadline) {
  GetOptions before;
  before.prefix = true;
  before.max_create_revision = revision_ - 1;
  before.sort_target = SortTarget::kCreate;
  before.sort_order = SortOrder::kDescend;
  before.limit = 2;  // our predecessor, and whether anyone is ahead of it
  TxnRequest read;
  read.success = {TxnOp::Get(key_), TxnOp::Get(prefix_, before)};
  absl::StatusOr<TxnResult> r = Kv(session_->connection()).Txn(read, deadline);
  if (!r.ok()) return r.status();
  const GetResult& mine = std::get<GetResult>(r->results[0]);
  const GetResult& pred = std::get<GetResult>(r->results[1]);
  if (mine.kvs.empty() || mine.kvs[0].create_revision != revision_) {
    return MakeEtcdStatus(absl::StatusCode::kNotFound,
                          absl::StrCat("candidate key ", key_,
                                       " is gone: the session lease was lost"),
                          EtcdCondition::kLeaseNotFound);
  }
  dirty_ = false;
  if (pred.kvs.empty()) {
    watcher_.reset();
    predecessor_.clear();
    predecessor_leads_ = false;
    return true;
  }
  predecessor_leads_ = pred.kvs.size() == 1;
  if (pred.kvs[0].key != predecessor_ || watcher_ == nullptr) {
    predecessor_ = pred.kvs[0].key;
    WatchOptions options;
    // From right after our read: a deletion after it is never missed.
    options.start_revision = r->revision + 1;
    options.no_put = true;
    options.on_ready = on_change;
    watcher_.reset();
    absl::StatusOr<std::unique_ptr<Watcher>> w =
        session_->watches()->Watch(predecessor_, std::move(options), deadline);
    if (!w.ok()) {
      dirty_ = true;
      return w.status();
    }
    watcher_ = *std::move(w);
  }
  return false;
}

absl::Status Election::Leave(absl::Time deadline) {
  watcher_.reset();
  if (revision_ == 0) return absl::OkStatus();
  TxnRequest txn;
  txn.compare = {Compare::CreateRevision(key_, CompareOp::kEqual, revision_)};
  txn.success = {TxnOp::Delete(key_)};
  absl::StatusOr<TxnResult> r = Kv(session_->connection()).Txn(txn, deadline);
  return r.status();
}

}  // namespace conch::etcd
