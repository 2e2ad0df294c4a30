#include "conch/daemon/tick_claimer.h"

#include <map>
#include <optional>
#include <utility>

#include "absl/time/clock.h"
#include "conch/daemon/claim_policy.h"
#include "conch/daemon/result_writer.h"
#include "core/cron/cron_state.h"

namespace conch::daemon {

void TickClaimer::ClaimBatched(std::vector<Tick> ticks,
                               const records::Claim& claim) {
  for (std::vector<Tick>& batch :
       Batches(std::move(ticks), etcd::CronStore::kMaxBatch)) {
    done_->Expect(static_cast<int>(batch.size()));
    pool_->Submit([this, batch = std::move(batch), claim] {
      std::vector<etcd::CronStore::BatchItem> items;
      for (const Tick& t : batch) items.push_back({t.job.get(), t.instant});
      const absl::Time sent = absl::Now();
      absl::StatusOr<etcd::ClaimOutcome> all =
          store_->ClaimBatch(items, claim, sent + call_timeout_);
      const absl::Duration latency = absl::Now() - sent;
      for (const Tick& t : batch) {
        if (all.ok() && all->claimed) {
          ClaimDone c{t, *all, claim.lease()};
          c.latency = latency;
          done_->Push(std::move(c));
        } else {
          // Somebody took one of them (or the Txn failed): one by one.
          done_->Push(ClaimNow(t, claim, 0, false));
        }
      }
    });
  }
}

void TickClaimer::ClaimFallbacks(std::vector<Tick> ticks,
                                 std::vector<bool> running_here,
                                 const records::Claim& claim) {
  std::vector<std::vector<bool>> here =
      Batches(std::move(running_here), kFallbackRead);
  std::vector<std::vector<Tick>> batches =
      Batches(std::move(ticks), kFallbackRead);
  for (size_t b = 0; b < batches.size(); ++b) {
    done_->Expect(static_cast<int>(batches[b].size()));
    pool_->Submit([this, batch = std::move(batches[b]),
                   here = std::move(here[b]), claim] {
      std::vector<etcd::CronStore::BatchItem> items;
      for (const Tick& t : batch) items.push_back({t.job.get(), t.instant});
      absl::StatusOr<std::vector<bool>> taken =
          store_->Claimed(items, absl::Now() + call_timeout_);
      for (size_t k = 0; k < batch.size(); ++k) {
        if (taken.ok() && (*taken)[k]) {
          // Claimed by another daemon: not ours.
          ClaimDone c{batch[k], etcd::ClaimOutcome{}, claim.lease()};
          c.sent = false;
          done_->Push(std::move(c));
          continue;
        }
        done_->Push(ClaimNow(batch[k], claim, 0, here[k]));
      }
    });
  }
}

void TickClaimer::ClaimOne(Tick tick, const records::Claim& claim,
                           int64_t request_revision, bool running_here) {
  done_->Expect();
  pool_->Submit(
      [this, tick = std::move(tick), claim, request_revision, running_here] {
        done_->Push(ClaimNow(tick, claim, request_revision, running_here));
      });
}

void TickClaimer::ClaimOverloaded(std::vector<Tick> ticks,
                                  const records::Claim& claim) {
  for (std::vector<Tick>& batch :
       Batches(std::move(ticks), etcd::CronStore::kMaxSkipBatch)) {
    done_->Expect(static_cast<int>(batch.size()));
    pool_->Submit([this, batch = std::move(batch), claim] {
      for (ClaimDone& c : ClaimSkipped(batch, claim, "overload")) {
        done_->Push(std::move(c));
      }
    });
  }
}

std::vector<ClaimDone> TickClaimer::ClaimSkipped(const std::vector<Tick>& batch,
                                                 const records::Claim& claim,
                                                 const std::string& why) const {
  records::Result skipped;
  skipped.set_daemon(daemon_id_);
  skipped.set_started(claim.claimed_at());
  skipped.set_ended(claim.claimed_at());
  skipped.set_skipped(why);
  std::vector<ClaimDone> out;
  out.reserve(batch.size());
  std::vector<const Tick*> left;
  for (const Tick& t : batch) left.push_back(&t);
  // A batch, and once more without what others took meanwhile (their
  // fallback claims race with this one).
  for (int attempt = 0; attempt < 2 && !left.empty(); ++attempt) {
    std::vector<etcd::CronStore::BatchItem> items;
    for (const Tick* t : left) items.push_back({t->job.get(), t->instant});
    const absl::Time sent = absl::Now();
    absl::StatusOr<etcd::ClaimOutcome> all =
        store_->ClaimBatch(items, claim, sent + call_timeout_, skipped);
    const absl::Duration latency = absl::Now() - sent;
    if (!all.ok()) break;
    if (all->claimed) {
      std::vector<std::string> encoded;
      for (const Tick* t : left) encoded.push_back(t->job->encoded);
      PruneOverBound(*store_, encoded, all->history_counts, call_timeout_);
      for (const Tick* t : left) {
        ClaimDone c{*t, *all, claim.lease()};
        c.skipped = true;
        c.latency = latency;
        out.push_back(std::move(c));
      }
      return out;
    }
    absl::StatusOr<std::vector<bool>> taken =
        store_->Claimed(items, absl::Now() + call_timeout_);
    if (!taken.ok()) break;
    std::vector<const Tick*> rest;
    for (size_t k = 0; k < left.size(); ++k) {
      if (!(*taken)[k]) {
        rest.push_back(left[k]);
        continue;
      }
      ClaimDone c{*left[k], etcd::ClaimOutcome{}, claim.lease()};
      c.sent = false;  // another daemon's: not ours to record
      out.push_back(std::move(c));
    }
    left = std::move(rest);
  }
  for (const Tick* t : left) {
    ClaimDone c{*t, etcd::ClaimOutcome{}, claim.lease()};
    const absl::Time sent = absl::Now();
    c.claim = store_->Claim(*t->job, t->instant, claim, skipped, 0,
                            sent + call_timeout_);
    c.latency = absl::Now() - sent;
    c.skipped = true;
    out.push_back(std::move(c));
  }
  return out;
}

ClaimDone TickClaimer::ClaimNow(const Tick& tick, const records::Claim& claim,
                                int64_t request_revision,
                                bool running_here) const {
  ClaimDone c{tick, etcd::ClaimOutcome{}, claim.lease()};
  const absl::Time deadline = absl::Now() + call_timeout_;
  // --overlap skip: a run of this job here already means "still running";
  // otherwise ask etcd whether any daemon still runs an earlier tick.
  bool skip = false;
  if (tick.job->job.overlap() == "skip") {
    skip = running_here;
    if (!skip) {
      absl::StatusOr<std::vector<etcd::CronTick>> history =
          store_->History(tick.job->encoded, etcd::kCronHistory, deadline);
      absl::StatusOr<std::map<std::string, std::string>> live =
          store_->LiveDaemons(deadline);
      if (!history.ok() || !live.ok()) {
        c.claim = !history.ok() ? history.status() : live.status();
        return c;
      }
      for (const etcd::CronTick& t : *history) {
        if (t.instant < tick.instant && etcd::StateOfTick(t, *live).kind ==
                                            etcd::TickState::Kind::kRunning) {
          skip = true;
        }
      }
    }
  }
  std::optional<records::Result> skipped;
  if (skip) {
    records::Result r;
    r.set_daemon(daemon_id_);
    r.set_started(claim.claimed_at());
    r.set_ended(claim.claimed_at());
    r.set_skipped("overlap");
    skipped = r;
  }
  c.skipped = skip;
  const absl::Time sent = absl::Now();
  c.claim = store_->Claim(*tick.job, tick.instant, claim, skipped,
                          request_revision, deadline);
  c.latency = absl::Now() - sent;
  return c;
}

}  // namespace conch::daemon
