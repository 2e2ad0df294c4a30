#include "conch/daemon/tick_claimer.h"

#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "conch/daemon/claim_policy.h"
#include "core/base/log.h"
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

void TickClaimer::ClaimOverloaded(std::vector<Tick> ticks, absl::Time now) {
  for (Tick& t : ticks) spans_.Add(std::move(t), now);
}

void TickClaimer::FlushOverloaded(absl::Time now, bool all) {
  std::vector<SkipSpanBuffer::Span> due = spans_.TakeDue(now, all);
  for (std::vector<SkipSpanBuffer::Span>& batch :
       Batches(std::move(due), etcd::CronStore::kMaxSpanBatch)) {
    int ticks = 0;
    std::vector<std::string> prune;
    for (const SkipSpanBuffer::Span& s : batch) {
      ticks += static_cast<int>(s.ticks.size());
      int& written = spans_since_prune_[s.job->encoded];
      if (++written < etcd::kCronHistorySlack) continue;
      spans_since_prune_.erase(s.job->encoded);
      prune.push_back(s.job->encoded);
    }
    done_->Expect(ticks);
    pool_->Submit([this, batch = std::move(batch), prune = std::move(prune)] {
      WriteSpans(batch, prune);
    });
  }
}

void TickClaimer::WriteSpans(const std::vector<SkipSpanBuffer::Span>& batch,
                             const std::vector<std::string>& prune) const {
  std::vector<etcd::CronStore::SpanItem> items;
  for (const SkipSpanBuffer::Span& s : batch) {
    etcd::CronStore::SpanItem item{s.job->encoded, {}};
    for (const Tick& t : s.ticks) item.instants.push_back(t.instant);
    items.push_back(std::move(item));
  }
  const absl::Time sent = absl::Now();
  absl::StatusOr<std::vector<std::vector<absl::Time>>> written =
      store_->WriteSkipSpans(items, daemon_id_, "overload",
                             sent + call_timeout_);
  const absl::Duration latency = absl::Now() - sent;
  int recorded = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    size_t w = 0;  // written[i] is a subsequence of the span's instants
    for (const Tick& t : batch[i].ticks) {
      ClaimDone c{t, etcd::ClaimOutcome{}, ""};
      c.skipped = true;
      c.latency = latency;
      if (!written.ok()) {
        c.claim = written.status();
      } else if (w < (*written)[i].size() && (*written)[i][w] == t.instant) {
        ++w;
        ++recorded;
        c.claim->claimed = true;
      } else {
        c.sent = false;  // claimed by another daemon meanwhile
      }
      done_->Push(std::move(c));
    }
  }
  if (recorded > 0) {
    Log(LogLevel::kInfo,
        absl::StrCat(recorded, " tick(s) of ", batch.size(),
                     " job(s) skipped (overload): no daemon had room"));
  }
  for (std::vector<std::string>& jobs :
       Batches(prune, etcd::CronStore::kMaxBatch)) {
    absl::StatusOr<int64_t> pruned = store_->PruneSpans(
        jobs, etcd::kCronSpanHistory, absl::Now() + call_timeout_);
    if (!pruned.ok()) {
      Log(LogLevel::kWarn,
          absl::StrCat("pruning skip spans: ", pruned.status().message()));
    }
  }
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
          store_->History(tick.job->encoded, etcd::kCronHistory, deadline,
                          /*spans=*/false);  // runs are claims
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
