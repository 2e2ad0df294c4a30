#include "core/recipes/semaphore.h"

#include <iterator>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/etcd/etcd_status.h"

namespace conch::etcd {

Semaphore::Semaphore(Session* session, std::string group_prefix, int64_t max)
    : session_(session),
      prefix_(std::move(group_prefix)),
      max_(max),
      queue_key_(absl::StrCat(prefix_, "q/", LeaseHex(session->lease()))) {}

std::set<int> Semaphore::SlotsOf(const GetResult& slots) const {
  std::set<int> taken;
  const std::string slot_prefix = absl::StrCat(prefix_, "slot/");
  for (const KeyValue& kv : slots.kvs) {
    absl::string_view k(kv.key);
    int slot;
    if (absl::ConsumePrefix(&k, slot_prefix) && absl::SimpleAtoi(k, &slot)) {
      taken.insert(slot);
    }
  }
  return taken;
}

absl::StatusOr<bool> Semaphore::Enter(ValueFn value, absl::Time deadline) {
  value_ = std::move(value);
  const std::string queue = absl::StrCat(prefix_, "q/");
  const std::string slot0 = absl::StrCat(prefix_, "slot/0");
  // One Txn either way. Uncontended (nobody queued, slot 0 free): the queue
  // key and slot 0 are written together and we hold. Otherwise the queue
  // key is written and the same Txn reads what ranking needs. A lease's
  // queue key is new here (every campaign has its own session), but its
  // create revision is read back rather than assumed.
  Compare nobody_queued = Compare::CreateRevision(queue, CompareOp::kEqual, 0);
  nobody_queued.range_end = PrefixRangeEnd(queue);
  GetOptions first_n;
  first_n.prefix = true;
  first_n.sort_target = SortTarget::kCreate;
  first_n.sort_order = SortOrder::kAscend;
  first_n.limit = max_;
  first_n.keys_only = true;
  GetOptions slots;
  slots.prefix = true;
  slots.keys_only = true;
  TxnRequest txn;
  txn.compare = {nobody_queued,
                 Compare::CreateRevision(slot0, CompareOp::kEqual, 0)};
  txn.success = {
      TxnOp::Put(slot0, value_("holding", 0), {.lease = session_->lease()}),
      TxnOp::Put(queue_key_, value_("holding", 0),
                 {.lease = session_->lease()})};
  txn.failure = {TxnOp::Put(queue_key_, value_("waiting", -1),
                            {.lease = session_->lease()}),
                 TxnOp::Get(queue_key_), TxnOp::Get(queue, first_n),
                 TxnOp::Get(absl::StrCat(prefix_, "slot/"), slots)};
  absl::StatusOr<TxnResult> r = Kv(session_->connection()).Txn(txn, deadline);
  if (!r.ok()) return r.status();
  if (r->succeeded) {
    queue_revision_ = r->revision;
    slot_ = 0;
    slot_revision_ = r->revision;
    dirty_ = false;
    absl::Status guarded = session_->Guard(queue_key_, queue_revision_);
    if (!guarded.ok()) return guarded;
    return true;
  }
  const GetResult& mine = std::get<GetResult>(r->results[1]);
  if (mine.kvs.empty()) {
    return absl::AbortedError("queue key vanished while entering");
  }
  queue_revision_ = mine.kvs[0].create_revision;
  absl::Status guarded = session_->Guard(queue_key_, queue_revision_);
  if (!guarded.ok()) return guarded;
  dirty_ = true;
  bool within = false;
  for (const KeyValue& kv : std::get<GetResult>(r->results[2]).kvs) {
    within = within || kv.key == queue_key_;
  }
  if (!within) return false;
  absl::StatusOr<bool> claimed =
      Claim(SlotsOf(std::get<GetResult>(r->results[3])), deadline);
  if (!claimed.ok() || *claimed) return claimed;
  return false;
}

absl::StatusOr<bool> Semaphore::Claim(std::set<int> taken,
                                      absl::Time deadline) {
  for (int k = 0; k < max_; ++k) {
    if (taken.count(k) != 0) continue;
    const std::string slot_key = absl::StrCat(prefix_, "slot/", k);
    GetOptions slots;
    slots.prefix = true;
    slots.keys_only = true;
    TxnRequest txn;
    txn.compare = {Compare::CreateRevision(slot_key, CompareOp::kEqual, 0),
                   Compare::CreateRevision(queue_key_, CompareOp::kEqual,
                                           queue_revision_)};
    txn.success = {TxnOp::Put(slot_key, value_("holding", k),
                              {.lease = session_->lease()}),
                   TxnOp::Put(queue_key_, value_("holding", k),
                              {.lease = session_->lease()})};
    txn.failure = {TxnOp::Get(queue_key_),
                   TxnOp::Get(absl::StrCat(prefix_, "slot/"), slots)};
    absl::StatusOr<TxnResult> r = Kv(session_->connection()).Txn(txn, deadline);
    if (!r.ok()) return r.status();
    if (r->succeeded) {
      slot_ = k;
      slot_revision_ = r->revision;
      watchers_.clear();
      dirty_ = false;
      return true;
    }
    if (std::get<GetResult>(r->results[0]).kvs.empty()) {
      return MakeEtcdStatus(
          absl::StatusCode::kNotFound,
          absl::StrCat("queue key ", queue_key_,
                       " is gone: the session lease was lost"),
          EtcdCondition::kLeaseNotFound);
    }
    taken = SlotsOf(std::get<GetResult>(r->results[1]));
    k = -1;  // someone took a slot meanwhile: start over from the lowest
    if (static_cast<int64_t>(taken.size()) >= max_) break;
  }
  return false;
}

absl::Status Semaphore::WatchDeletions(const std::map<std::string, bool>& keys,
                                       int64_t start_revision,
                                       const std::function<void()>& on_change,
                                       absl::Time deadline) {
  for (auto it = watchers_.begin(); it != watchers_.end();) {
    it = keys.count(it->first) == 0 ? watchers_.erase(it) : std::next(it);
  }
  for (const auto& [key, prefix] : keys) {
    if (watchers_.count(key) != 0) continue;  // kept: it saw all until now
    WatchOptions options;
    options.prefix = prefix;
    options.start_revision = start_revision;
    options.no_put = true;
    options.on_ready = on_change;
    absl::StatusOr<std::unique_ptr<Watcher>> w =
        session_->watches()->Watch(key, std::move(options), deadline);
    if (!w.ok()) {
      dirty_ = true;
      return w.status();
    }
    watchers_[key] = *std::move(w);
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> Semaphore::Check(const std::function<void()>& on_change,
                                      absl::Time deadline) {
  if (queue_revision_ == 0) {
    return absl::FailedPreconditionError("Check() before Enter()");
  }
  if (slot_ >= 0) return true;
  if (!dirty_ && !watchers_.empty()) {
    // Queue keys ahead of ours that the watches saw deleted.
    std::set<std::string> gone;
    bool failed_any = false;
    for (auto it = watchers_.begin(); it != watchers_.end();) {
      bool failed = false;
      while (true) {
        absl::StatusOr<std::optional<WatchBatch>> b = it->second->TryNext();
        if (b.ok() && !b->has_value()) break;
        if (!b.ok()) {
          failed = true;  // in error it delivers nothing more: watch afresh
          break;
        }
        for (const Event& e : (*b)->events) {
          dirty_ = true;
          if (e.type == Event::Type::kDelete && e.kv.key == it->first) {
            gone.insert(e.kv.key);
          }
        }
      }
      failed_any = failed_any || failed;
      it = failed ? watchers_.erase(it) : std::next(it);
    }
    if (failed_any) dirty_ = true;
    if (!dirty_) return false;
    // Every watched queue key is ahead of ours, and no key joins ahead: the
    // rank is now at most rank_ - gone. Below N we may claim at once,
    // without reading the line again (one round trip less per handover).
    const int64_t at_most = rank_ - static_cast<int64_t>(gone.size());
    if (!failed_any && !gone.empty() && MayHold(at_most, max_)) {
      rank_ = at_most;
      absl::StatusOr<bool> claimed = Claim({}, deadline);
      if (!claimed.ok() || *claimed) return claimed;
    }
  }
  return Reevaluate(on_change, deadline);
}

absl::StatusOr<bool> Semaphore::Reevaluate(
    const std::function<void()>& on_change, absl::Time deadline) {
  const std::string queue = absl::StrCat(prefix_, "q/");
  // etcd applies the create-revision bounds after counting, so `count`
  // would be the whole queue: count the keys ahead instead (keys only).
  GetOptions ahead;
  ahead.prefix = true;
  ahead.max_create_revision = queue_revision_ - 1;
  ahead.keys_only = true;
  GetOptions nearest = ahead;  // the N keys nearest ahead, nearest first
  nearest.sort_target = SortTarget::kCreate;
  nearest.sort_order = SortOrder::kDescend;
  nearest.limit = max_;
  GetOptions slots;
  slots.prefix = true;
  slots.keys_only = true;
  TxnRequest read;
  read.success = {TxnOp::Get(queue_key_), TxnOp::Get(queue, ahead),
                  TxnOp::Get(queue, nearest),
                  TxnOp::Get(absl::StrCat(prefix_, "slot/"), slots)};
  absl::StatusOr<TxnResult> r = Kv(session_->connection()).Txn(read, deadline);
  if (!r.ok()) return r.status();
  const GetResult& mine = std::get<GetResult>(r->results[0]);
  if (mine.kvs.empty() || mine.kvs[0].create_revision != queue_revision_) {
    return MakeEtcdStatus(absl::StatusCode::kNotFound,
                          absl::StrCat("queue key ", queue_key_,
                                       " is gone: the session lease was lost"),
                          EtcdCondition::kLeaseNotFound);
  }
  rank_ = static_cast<int64_t>(std::get<GetResult>(r->results[1]).kvs.size());
  dirty_ = false;
  const int64_t from = r->revision + 1;
  switch (PlanFor(rank_, max_)) {
    case SemaPlan::kHold: {
      absl::StatusOr<bool> claimed =
          Claim(SlotsOf(std::get<GetResult>(r->results[3])), deadline);
      if (!claimed.ok() || *claimed) return claimed;
      // Every slot is taken (a holder left its slot key behind): wait for
      // a slot key to go.
      absl::Status s = WatchDeletions({{absl::StrCat(prefix_, "slot/"), true}},
                                      from, on_change, deadline);
      if (!s.ok()) return s;
      return false;
    }
    case SemaPlan::kWatchAhead: {
      const GetResult& nearest_keys = std::get<GetResult>(r->results[2]);
      const int64_t want = WatchedAhead(rank_, max_);
      if (static_cast<int64_t>(nearest_keys.kvs.size()) < want) {
        dirty_ = true;  // cannot happen within one revision; re-read later
        return false;
      }
      std::map<std::string, bool> keys;
      for (int64_t i = 0; i < want; ++i) {
        keys[nearest_keys.kvs[i].key] = false;
      }
      absl::Status s = WatchDeletions(keys, from, on_change, deadline);
      if (!s.ok()) return s;
      return false;
    }
  }
  return false;
}

absl::Status Semaphore::Leave(absl::Time deadline) {
  watchers_.clear();
  if (queue_revision_ == 0) return absl::OkStatus();
  TxnRequest txn;
  txn.compare = {
      Compare::CreateRevision(queue_key_, CompareOp::kEqual, queue_revision_)};
  txn.success = {TxnOp::Delete(queue_key_)};
  if (slot_ >= 0) {
    txn.success.push_back(TxnOp::Delete(absl::StrCat(prefix_, "slot/", slot_)));
  }
  return Kv(session_->connection()).Txn(txn, deadline).status();
}

absl::StatusOr<std::vector<SemaGroup>> Semaphore::Inspect(
    const Kv& kv, const std::string& name_prefix, int64_t max,
    absl::Time deadline) {
  const std::string from =
      max > 0 ? absl::StrCat(name_prefix, max, "/") : name_prefix;
  GetOptions all;
  all.prefix = true;
  all.sort_target = SortTarget::kCreate;
  all.sort_order = SortOrder::kAscend;
  absl::StatusOr<GetResult> r = kv.Get(from, all, deadline);
  if (!r.ok()) return r.status();
  std::map<int64_t, SemaGroup> groups;
  // A holder's queue key and slot key are on its lease: the queue keys on
  // a lease that holds no slot are the waiters.
  std::map<int64_t, std::set<LeaseId>> holding;  // by group
  std::map<int64_t, std::vector<KeyValue>> queued;
  for (const KeyValue& entry : r->kvs) {
    absl::string_view rest(entry.key);
    if (!absl::ConsumePrefix(&rest, name_prefix)) continue;
    std::vector<absl::string_view> parts = absl::StrSplit(rest, '/');
    int64_t n;
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &n)) continue;
    SemaGroup& g = groups[n];
    g.max = n;
    if (parts[1] == "slot") {
      int slot;
      if (!absl::SimpleAtoi(parts[2], &slot)) continue;
      g.holders.push_back(SemaGroup::Holder{slot, entry.create_revision,
                                            entry.key, entry.value});
      holding[n].insert(entry.lease);
    } else if (parts[1] == "q") {
      queued[n].push_back(entry);
    }
  }
  for (auto& [n, entries] : queued) {
    for (KeyValue& entry : entries) {
      if (holding[n].count(entry.lease) == 0) {
        groups[n].waiters.push_back(std::move(entry));
      }
    }
  }
  std::vector<SemaGroup> out;
  for (auto& [n, g] : groups) {
    std::sort(g.holders.begin(), g.holders.end(),
              [](const SemaGroup::Holder& a, const SemaGroup::Holder& b) {
                return a.slot < b.slot;
              });
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace conch::etcd
