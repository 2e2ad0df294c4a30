#include "core/view/cluster_view.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>
#include <variant>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "core/cron/schedule.h"
#include "core/etcd/kv.h"
#include "core/etcd/types.h"
#include "core/records/names.h"

namespace conch::observe {
namespace {

using etcd::GetOptions;
using etcd::GetResult;
using etcd::KeyValue;

// The decoded name, or the encoded one in brackets when it does not decode
// (a key written by something else: shown, not hidden).
std::string NameOf(absl::string_view encoded) {
  absl::StatusOr<std::string> name = DecodeName(encoded);
  return name.ok() ? *std::move(name) : absl::StrCat("[", encoded, "]");
}

HolderView ToHolder(const KeyValue& kv) {
  HolderView h;
  h.key = kv.key;
  h.revision = kv.create_revision;
  const absl::Status parsed = records::FromJson(kv.value, &h.record);
  if (!parsed.ok()) {
    h.record.Clear();
    h.error = std::string(parsed.message());
  }
  return h;
}

std::vector<DaemonView> Daemons(const GetResult& r, absl::string_view from) {
  std::vector<DaemonView> out;
  for (const KeyValue& kv : r.kvs) {
    absl::string_view id(kv.key);
    if (!absl::ConsumePrefix(&id, from) || id.empty()) continue;
    DaemonView d;
    d.id = std::string(id);
    d.lease = etcd::LeaseHex(kv.lease);
    const absl::Status parsed = records::FromJson(kv.value, &d.record);
    if (!parsed.ok()) {
      d.record.Clear();
      d.error = std::string(parsed.message());
    }
    out.push_back(std::move(d));
  }
  return out;  // key order is id order
}

// elect/<name>/<lease>: candidates in create-revision order per name.
std::vector<OfficeView> Offices(const GetResult& r, absl::string_view from) {
  std::map<std::string, std::vector<const KeyValue*>> by_name;
  for (const KeyValue& kv : r.kvs) {
    absl::string_view rest(kv.key);
    if (!absl::ConsumePrefix(&rest, from)) continue;
    const size_t slash = rest.find('/');
    if (slash == absl::string_view::npos) continue;
    by_name[std::string(rest.substr(0, slash))].push_back(&kv);
  }
  std::vector<OfficeView> out;
  for (auto& [encoded, kvs] : by_name) {
    std::sort(kvs.begin(), kvs.end(), [](const KeyValue* a, const KeyValue* b) {
      return a->create_revision < b->create_revision;
    });
    OfficeView o;
    o.name = NameOf(encoded);
    for (const KeyValue* kv : kvs) o.candidates.push_back(ToHolder(*kv));
    out.push_back(std::move(o));
  }
  std::sort(
      out.begin(), out.end(),
      [](const OfficeView& a, const OfficeView& b) { return a.name < b.name; });
  return out;
}

// sema/<name>/<N>/slot/<k> and sema/<name>/<N>/q/<lease>: a queue key on a
// lease that holds no slot is a waiter (as Semaphore::Inspect decides).
std::vector<SemaphoreView> Semaphores(const GetResult& r,
                                      absl::string_view from) {
  struct Group {
    SemaphoreView view;
    std::set<etcd::LeaseId> holding;
    std::vector<const KeyValue*> queued;
  };
  std::map<std::pair<std::string, int64_t>, Group> groups;
  for (const KeyValue& kv : r.kvs) {
    absl::string_view rest(kv.key);
    if (!absl::ConsumePrefix(&rest, from)) continue;
    std::vector<absl::string_view> parts = absl::StrSplit(rest, '/');
    int64_t n = 0;
    if (parts.size() != 4 || !absl::SimpleAtoi(parts[1], &n)) continue;
    Group& g = groups[{std::string(parts[0]), n}];
    g.view.max = n;
    if (parts[2] == "slot") {
      int slot = 0;
      if (!absl::SimpleAtoi(parts[3], &slot)) continue;
      g.view.holders.push_back({slot, ToHolder(kv)});
      g.holding.insert(kv.lease);
    } else if (parts[2] == "q") {
      g.queued.push_back(&kv);
    }
  }
  std::vector<SemaphoreView> out;
  for (auto& [id, g] : groups) {
    std::sort(g.queued.begin(), g.queued.end(),
              [](const KeyValue* a, const KeyValue* b) {
                return a->create_revision < b->create_revision;
              });
    for (const KeyValue* kv : g.queued) {
      if (g.holding.count(kv->lease) == 0) {
        g.view.waiters.push_back(ToHolder(*kv));
      }
    }
    std::sort(g.view.holders.begin(), g.view.holders.end(),
              [](const SemaphoreView::Slot& a, const SemaphoreView::Slot& b) {
                return a.slot < b.slot;
              });
    g.view.name = NameOf(id.first);
    out.push_back(std::move(g.view));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const SemaphoreView& a, const SemaphoreView& b) {
                     return std::make_pair(a.name, a.max) <
                            std::make_pair(b.name, b.max);
                   });
  return out;
}

}  // namespace

absl::StatusOr<ClusterView> ReadClusterView(etcd::Connection* conn,
                                            const std::string& prefix,
                                            const ClusterViewOptions& options,
                                            absl::Time deadline) {
  const etcd::Kv kv(conn);
  const etcd::CronStore store(conn, prefix);
  const std::string daemons_from = absl::StrCat(prefix, "cron/daemon/");
  const std::string elect_from = absl::StrCat(prefix, "elect/");
  const std::string sema_from = absl::StrCat(prefix, "sema/");
  // One read-only Txn: daemons, jobs, offices and semaphores at one
  // revision, so a tick's runner and the roster agree.
  etcd::TxnRequest txn;
  const GetOptions all{.prefix = true};
  txn.success = {etcd::TxnOp::Get(daemons_from, all),
                 etcd::TxnOp::Get(store.JobPrefix(), all),
                 etcd::TxnOp::Get(elect_from, all),
                 etcd::TxnOp::Get(sema_from, all)};
  absl::StatusOr<etcd::TxnResult> read = kv.Txn(txn, deadline);
  if (!read.ok()) return read.status();
  if (read->results.size() != 4) {
    return absl::InternalError("status read: unexpected Txn answer");
  }
  const GetResult* parts[4];
  for (int i = 0; i < 4; ++i) {
    parts[i] = std::get_if<GetResult>(&read->results[i]);
    if (parts[i] == nullptr) {
      return absl::InternalError("status read: unexpected Txn answer");
    }
  }
  ClusterView view;
  view.prefix = prefix;
  view.read_at = absl::Now();
  view.revision = read->revision;
  view.daemons = Daemons(*parts[0], daemons_from);
  view.offices = Offices(*parts[2], elect_from);
  view.semaphores = Semaphores(*parts[3], sema_from);

  std::map<std::string, std::string> live;  // id → lease, for tick states
  for (const DaemonView& d : view.daemons) live[d.id] = d.lease;
  int with_history = 0;
  for (const KeyValue& entry : parts[1]->kvs) {
    absl::StatusOr<etcd::CronJob> job = store.ParseJob(entry);
    if (!job.ok()) {
      view.bad_jobs.push_back({entry.key, std::string(job.status().message())});
      continue;
    }
    if (!options.only_job.empty() && job->name != options.only_job) continue;
    JobView j;
    j.name = job->name;
    j.job = job->job;
    absl::StatusOr<Schedule> schedule =
        Schedule::Parse(j.job.schedule(), j.job.tz());
    if (schedule.ok()) {
      j.next = schedule->Next(view.read_at);
    } else {
      j.schedule_error = std::string(schedule.status().message());
    }
    if (options.history > 0 && with_history < options.max_jobs_with_history) {
      ++with_history;
      absl::StatusOr<std::vector<etcd::CronTick>> ticks =
          store.History(job->encoded, options.history, deadline);
      if (!ticks.ok()) return ticks.status();
      for (etcd::CronTick& t : *ticks) {
        etcd::TickState state = etcd::StateOfTick(t, live);
        j.ticks.push_back({std::move(t), std::move(state)});
      }
    }
    view.jobs.push_back(std::move(j));
  }
  // The histories were read after the roster: a daemon that registered in
  // between would make its fresh claims look like zombies. A zombie is
  // only reported if a second roster read, after the histories, agrees.
  const bool any_zombie =
      std::any_of(view.jobs.begin(), view.jobs.end(), [](const JobView& j) {
        return std::any_of(
            j.ticks.begin(), j.ticks.end(), [](const TickView& t) {
              return t.state.kind == etcd::TickState::Kind::kZombie;
            });
      });
  if (any_zombie) {
    absl::StatusOr<std::map<std::string, std::string>> again =
        store.LiveDaemons(deadline);
    if (!again.ok()) return again.status();
    for (JobView& j : view.jobs) {
      for (TickView& t : j.ticks) {
        if (t.state.kind == etcd::TickState::Kind::kZombie) {
          t.state = etcd::StateOfTick(t.tick, *again);
        }
      }
    }
  }
  return view;
}

namespace {

// One prefix read of a name's keys.
absl::StatusOr<GetResult> ReadName(etcd::Connection* conn,
                                   const std::string& prefix,
                                   absl::string_view kind,
                                   const std::string& encoded_name,
                                   absl::Time deadline, int64_t* revision) {
  const etcd::Kv kv(conn);
  absl::StatusOr<GetResult> got =
      kv.Get(NameKeyPrefix(prefix, kind, encoded_name),
             GetOptions{.prefix = true}, deadline);
  if (got.ok() && revision != nullptr) *revision = got->revision;
  return got;
}

}  // namespace

absl::StatusOr<OfficeView> ReadOffice(etcd::Connection* conn,
                                      const std::string& prefix,
                                      const std::string& encoded_name,
                                      absl::Time deadline, int64_t* revision) {
  absl::StatusOr<GetResult> got =
      ReadName(conn, prefix, "elect", encoded_name, deadline, revision);
  if (!got.ok()) return got.status();
  std::vector<OfficeView> offices =
      Offices(*got, absl::StrCat(prefix, "elect/"));
  if (!offices.empty()) return std::move(offices[0]);
  OfficeView vacant;
  vacant.name = NameOf(encoded_name);
  return vacant;
}

absl::StatusOr<std::vector<SemaphoreView>> ReadSemaphore(
    etcd::Connection* conn, const std::string& prefix,
    const std::string& encoded_name, absl::Time deadline, int64_t* revision) {
  absl::StatusOr<GetResult> got =
      ReadName(conn, prefix, "sema", encoded_name, deadline, revision);
  if (!got.ok()) return got.status();
  return Semaphores(*got, absl::StrCat(prefix, "sema/"));
}

}  // namespace conch::observe
