#include "core/cron/cron.h"

#include <algorithm>
#include <set>
#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "core/base/status_macros.h"
#include "core/records/names.h"

namespace conch::etcd {
namespace {

constexpr size_t kInstantDigits = 20;

absl::StatusOr<std::string> Encode(absl::string_view name) {
  absl::StatusOr<std::string> enc = EncodeName(name);
  if (!enc.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid job name: ", enc.status().message()));
  }
  return enc;
}

// The part of `key` after `prefix`.
absl::string_view Suffix(absl::string_view key, absl::string_view prefix) {
  key.remove_prefix(std::min(prefix.size(), key.size()));
  return key;
}

}  // namespace

std::string FormatInstant(absl::Time t) {
  const int64_t ns = std::max<int64_t>(0, absl::ToUnixNanos(t));
  return absl::StrFormat("%020d", ns);
}

absl::StatusOr<absl::Time> ParseInstant(absl::string_view text) {
  int64_t ns = 0;
  if (text.size() != kInstantDigits ||
      !std::all_of(text.begin(), text.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(text, &ns)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad tick instant \"", text, "\": want 20 digits"));
  }
  return absl::FromUnixNanos(ns);
}

std::string CronStore::JobPrefix() const {
  return absl::StrCat(prefix_, "cron/job/");
}
std::string CronStore::RunPrefix() const {
  return absl::StrCat(prefix_, "cron/run/");
}
std::string CronStore::DaemonKey(absl::string_view id) const {
  return absl::StrCat(prefix_, "cron/daemon/", id);
}
std::string CronStore::TickKey(absl::string_view encoded,
                               absl::Time instant) const {
  return NameKeyPrefix(prefix_, "cron/tick", encoded) + FormatInstant(instant);
}
std::string CronStore::ResultKey(absl::string_view encoded,
                                 absl::Time instant) const {
  return NameKeyPrefix(prefix_, "cron/result", encoded) +
         FormatInstant(instant);
}
std::string CronStore::RunKey(absl::string_view encoded,
                              absl::Time instant) const {
  return NameKeyPrefix(prefix_, "cron/run", encoded) + FormatInstant(instant);
}

std::string CronStore::SkipKey(absl::string_view encoded,
                               absl::Time first) const {
  return NameKeyPrefix(prefix_, "cron/skip", encoded) + FormatInstant(first);
}

std::string CronStore::JobOfKey(absl::string_view job_key) const {
  return std::string(Suffix(job_key, JobPrefix()));
}

absl::StatusOr<std::pair<std::string, absl::Time>> CronStore::ParseRunKey(
    absl::string_view run_key) const {
  const std::string runs = RunPrefix();
  if (!absl::StartsWith(run_key, runs)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a run request key: ", run_key));
  }
  const absl::string_view rest = Suffix(run_key, runs);
  const size_t slash = rest.rfind('/');
  if (slash == absl::string_view::npos || slash == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a run request key: ", run_key));
  }
  absl::StatusOr<absl::Time> instant = ParseInstant(rest.substr(slash + 1));
  if (!instant.ok()) return instant.status();
  return std::make_pair(std::string(rest.substr(0, slash)), *instant);
}

// The Txn ops that delete everything a job's name has left behind: its
// claims, results, run requests and skip spans.
std::vector<TxnOp> CronStore::HistoryDeletes(absl::string_view encoded) const {
  std::vector<TxnOp> ops;
  for (const char* kind :
       {"cron/tick", "cron/result", "cron/run", "cron/skip"}) {
    ops.push_back(
        TxnOp::Delete(NameKeyPrefix(prefix_, kind, encoded), {.prefix = true}));
  }
  return ops;
}

absl::Status CronStore::AddJob(absl::string_view name, const records::Job& job,
                               bool replace, absl::Time deadline,
                               bool* replaced) const {
  absl::StatusOr<std::string> encoded_or = Encode(name);
  if (!encoded_or.ok()) return encoded_or.status();
  const std::string encoded = *std::move(encoded_or);
  absl::StatusOr<std::string> value_or = records::ToJson(job);
  if (!value_or.ok()) return value_or.status();
  const std::string value = *std::move(value_or);
  const std::string key = NameKey(prefix_, "cron/job", encoded);
  // A new incarnation of the name starts with an empty history: what an
  // earlier job of that name left (after a plain rm) goes in the same Txn.
  // Replacing a job that exists keeps its history.
  TxnRequest txn;
  txn.compare = {Compare::CreateRevision(key, CompareOp::kEqual, 0)};
  txn.success = HistoryDeletes(encoded);
  txn.success.push_back(TxnOp::Put(key, value));
  if (replace) txn.failure = {TxnOp::Put(key, value)};
  absl::StatusOr<TxnResult> r_or = kv_.Txn(txn, deadline);
  if (!r_or.ok()) return r_or.status();
  if (!r_or->succeeded && !replace) {
    return absl::AlreadyExistsError(absl::StrCat(
        "job \"", name, "\" already exists (use --replace to change it)"));
  }
  if (replaced != nullptr) *replaced = !r_or->succeeded;
  return absl::OkStatus();
}

absl::Status CronStore::RemoveJob(absl::string_view name, absl::Time deadline,
                                  bool purge, int64_t* deleted) const {
  absl::StatusOr<std::string> encoded = Encode(name);
  if (!encoded.ok()) return encoded.status();
  const std::string job_key = NameKey(prefix_, "cron/job", *encoded);
  TxnRequest txn;
  txn.compare = {Compare::CreateRevision(job_key, CompareOp::kGreater, 0)};
  txn.success = {TxnOp::Delete(job_key)};
  if (purge) {
    for (TxnOp& op : HistoryDeletes(*encoded)) {
      txn.success.push_back(op);
      txn.failure.push_back(std::move(op));  // the history of a removed job
    }
  }
  absl::StatusOr<TxnResult> r = kv_.Txn(txn, deadline);
  if (!r.ok()) return r.status();
  int64_t purged = 0;
  for (const auto& result : r->results) {
    if (const DeleteResult* d = std::get_if<DeleteResult>(&result)) {
      purged += d->deleted;
    }
  }
  if (deleted != nullptr) *deleted = purged;
  if (r->succeeded || purged > 0) return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat(
      "no job \"", name, "\"", purge ? " and no history of one" : ""));
}

absl::StatusOr<CronJob> CronStore::ParseJob(const KeyValue& kv) const {
  CronJob job;
  job.encoded = std::string(Suffix(kv.key, JobPrefix()));
  absl::StatusOr<std::string> name = DecodeName(job.encoded);
  if (!name.ok()) return name.status();
  job.name = *std::move(name);
  RETURN_IF_ERROR(records::FromJson(kv.value, &job.job));
  if (job.job.argv().empty()) {
    return absl::InvalidArgumentError("bad Job record: empty argv");
  }
  job.mod_revision = kv.mod_revision;
  return job;
}

absl::StatusOr<CronJobList> CronStore::ListJobs(absl::Time deadline,
                                                int64_t page) const {
  CronJobList list;
  std::string from = JobPrefix();
  const std::string end = PrefixRangeEnd(JobPrefix());
  while (true) {
    absl::StatusOr<GetResult> r_or =
        kv_.Get(from,
                {.range_end = end,
                 .limit = std::max<int64_t>(1, page),
                 .revision = list.revision},
                deadline);
    if (!r_or.ok()) return r_or.status();
    GetResult r = *std::move(r_or);
    if (list.revision == 0) list.revision = r.revision;
    for (const KeyValue& kv : r.kvs) {
      absl::StatusOr<CronJob> job = ParseJob(kv);
      if (job.ok()) {
        list.jobs.push_back(*std::move(job));
      } else {
        list.bad.push_back({kv.key, std::string(job.status().message())});
      }
    }
    if (!r.more || r.kvs.empty()) return list;
    // The next page starts just after the last key read.
    from = r.kvs.back().key;
    from.push_back('\0');
  }
}

absl::StatusOr<ClaimOutcome> CronStore::Claim(
    const CronJob& job, absl::Time instant, const records::Claim& claim,
    const std::optional<records::Result>& skipped, int64_t request_revision,
    absl::Time deadline) const {
  const std::string job_key = NameKey(prefix_, "cron/job", job.encoded);
  const std::string tick_key = TickKey(job.encoded, instant);
  absl::StatusOr<std::string> claim_json_or = records::ToJson(claim);
  if (!claim_json_or.ok()) return claim_json_or.status();
  const std::string claim_json = *std::move(claim_json_or);
  TxnRequest txn;
  txn.compare = {
      Compare::CreateRevision(tick_key, CompareOp::kEqual, 0),
      Compare::ModRevision(job_key, CompareOp::kEqual, job.mod_revision)};
  txn.success = {TxnOp::Put(tick_key, claim_json)};
  if (skipped.has_value()) {
    absl::StatusOr<std::string> result_json_or = records::ToJson(*skipped);
    if (!result_json_or.ok()) return result_json_or.status();
    const std::string result_json = *std::move(result_json_or);
    txn.success.push_back(
        TxnOp::Put(ResultKey(job.encoded, instant), result_json));
  }
  if (request_revision > 0) {
    const std::string run_key = RunKey(job.encoded, instant);
    txn.compare.push_back(
        Compare::ModRevision(run_key, CompareOp::kEqual, request_revision));
    txn.success.push_back(TxnOp::Delete(run_key));
  }
  txn.failure = {TxnOp::Get(job_key, {.keys_only = true})};
  absl::StatusOr<TxnResult> r_or = kv_.Txn(txn, deadline);
  if (!r_or.ok()) return r_or.status();
  TxnResult r = *std::move(r_or);
  ClaimOutcome out;
  if (r.succeeded) {
    out.claimed = true;
    out.revision = r.revision;
    return out;
  }
  const auto* got = std::get_if<GetResult>(&r.results[0]);
  out.job_changed = got == nullptr || got->kvs.empty() ||
                    got->kvs[0].mod_revision != job.mod_revision;
  return out;
}

absl::StatusOr<ClaimOutcome> CronStore::ClaimBatch(
    const std::vector<BatchItem>& items, const records::Claim& claim,
    absl::Time deadline) const {
  if (items.empty() || items.size() > static_cast<size_t>(kMaxBatch)) {
    return absl::InvalidArgumentError(
        absl::StrCat("claim batch must hold 1 to ", kMaxBatch, " ticks"));
  }
  absl::StatusOr<std::string> claim_json = records::ToJson(claim);
  if (!claim_json.ok()) return claim_json.status();
  TxnRequest txn;
  for (const BatchItem& item : items) {
    const std::string tick_key = TickKey(item.job->encoded, item.instant);
    txn.compare.push_back(
        Compare::CreateRevision(tick_key, CompareOp::kEqual, 0));
    txn.compare.push_back(
        Compare::ModRevision(NameKey(prefix_, "cron/job", item.job->encoded),
                             CompareOp::kEqual, item.job->mod_revision));
    txn.success.push_back(TxnOp::Put(tick_key, *claim_json));
  }
  absl::StatusOr<TxnResult> r = kv_.Txn(txn, deadline);
  if (!r.ok()) return r.status();
  ClaimOutcome out;
  out.claimed = r->succeeded;
  if (r->succeeded) out.revision = r->revision;
  return out;
}

absl::StatusOr<std::vector<bool>> CronStore::Claimed(
    const std::vector<BatchItem>& items, absl::Time deadline) const {
  if (items.size() > 128) {
    return absl::InvalidArgumentError("at most 128 ticks per read");
  }
  std::vector<bool> out;
  if (items.empty()) return out;
  TxnRequest txn;
  for (const BatchItem& item : items) {
    txn.success.push_back(TxnOp::Get(TickKey(item.job->encoded, item.instant),
                                     {.keys_only = true}));
  }
  absl::StatusOr<TxnResult> r = kv_.Txn(txn, deadline);
  if (!r.ok()) return r.status();
  for (const auto& result : r->results) {
    const auto* got = std::get_if<GetResult>(&result);
    out.push_back(got != nullptr && !got->kvs.empty());
  }
  return out;
}

absl::Status CronStore::WriteResult(absl::string_view encoded,
                                    absl::Time instant,
                                    const records::Result& result,
                                    absl::Time deadline) const {
  absl::StatusOr<std::string> value_or = records::ToJson(result);
  if (!value_or.ok()) return value_or.status();
  const std::string value = *std::move(value_or);
  return kv_.Put(ResultKey(encoded, instant), value, {}, deadline).status();
}

absl::StatusOr<std::vector<int64_t>> CronStore::WriteResults(
    const std::vector<ResultItem>& items, absl::Time deadline) const {
  if (items.empty() || items.size() > static_cast<size_t>(kMaxBatch)) {
    return absl::InvalidArgumentError("result batch must hold 1 to 64");
  }
  TxnRequest txn;
  for (const ResultItem& item : items) {
    absl::StatusOr<std::string> value = records::ToJson(item.result);
    if (!value.ok()) return value.status();
    txn.success.push_back(
        TxnOp::Put(ResultKey(item.encoded, item.instant), *value));
  }
  for (const ResultItem& item : items) {
    txn.success.push_back(
        TxnOp::Get(NameKeyPrefix(prefix_, "cron/tick", item.encoded),
                   {.prefix = true, .count_only = true}));
  }
  absl::StatusOr<TxnResult> r = kv_.Txn(txn, deadline);
  if (!r.ok()) return r.status();
  std::vector<int64_t> counts;
  for (size_t i = items.size(); i < r->results.size(); ++i) {
    const auto* got = std::get_if<GetResult>(&r->results[i]);
    counts.push_back(got != nullptr ? got->count : 0);
  }
  return counts;
}

absl::StatusOr<int64_t> CronStore::Prune(absl::string_view encoded, int keep,
                                         absl::Time deadline) const {
  return Prune(std::vector<std::string>{std::string(encoded)}, keep, deadline);
}

absl::StatusOr<int64_t> CronStore::Prune(
    const std::vector<std::string>& encoded, int keep,
    absl::Time deadline) const {
  return PruneOlder(encoded, keep, "cron/tick", {"cron/tick", "cron/result"},
                    deadline);
}

absl::StatusOr<int64_t> CronStore::PruneSpans(
    const std::vector<std::string>& encoded, int keep,
    absl::Time deadline) const {
  return PruneOlder(encoded, keep, "cron/skip", {"cron/skip"}, deadline);
}

absl::StatusOr<int64_t> CronStore::PruneOlder(
    const std::vector<std::string>& encoded, int keep, const std::string& kind,
    const std::vector<std::string>& kinds, absl::Time deadline) const {
  if (encoded.size() > static_cast<size_t>(kMaxBatch)) {
    return absl::InvalidArgumentError("prune at most 64 jobs at once");
  }
  if (encoded.empty()) return 0;
  // The newest keep+1 keys of each job: the last of them, if there are
  // that many, is the newest to delete.
  TxnRequest read;
  for (const std::string& e : encoded) {
    read.success.push_back(TxnOp::Get(NameKeyPrefix(prefix_, kind, e),
                                      {.prefix = true,
                                       .limit = keep + 1,
                                       .sort_target = SortTarget::kKey,
                                       .sort_order = SortOrder::kDescend,
                                       .keys_only = true}));
  }
  absl::StatusOr<TxnResult> listed = kv_.Txn(read, deadline);
  if (!listed.ok()) return listed.status();
  // Delete [first, last] under each of `kinds`, for all jobs in one Txn.
  TxnRequest del;
  for (size_t i = 0; i < encoded.size() && i < listed->results.size(); ++i) {
    const auto* got = std::get_if<GetResult>(&listed->results[i]);
    if (got == nullptr || got->kvs.size() <= static_cast<size_t>(keep)) {
      continue;
    }
    const std::string listed_prefix = NameKeyPrefix(prefix_, kind, encoded[i]);
    const std::string past_last = absl::StrCat(
        Suffix(got->kvs.back().key, listed_prefix), std::string(1, '\0'));
    for (const std::string& k : kinds) {
      const std::string from = NameKeyPrefix(prefix_, k, encoded[i]);
      del.success.push_back(
          TxnOp::Delete(from, {.range_end = absl::StrCat(from, past_last)}));
    }
  }
  if (del.success.empty()) return 0;
  absl::StatusOr<TxnResult> deleted = kv_.Txn(del, deadline);
  if (!deleted.ok()) return deleted.status();
  // What the first kind lost: one per tick (or span).
  int64_t count = 0;
  for (size_t i = 0; i < deleted->results.size(); i += kinds.size()) {
    const auto* d = std::get_if<DeleteResult>(&deleted->results[i]);
    if (d != nullptr) count += d->deleted;
  }
  return count;
}

absl::StatusOr<std::vector<std::vector<absl::Time>>> CronStore::WriteSkipSpans(
    const std::vector<SpanItem>& items, absl::string_view daemon,
    absl::string_view reason, absl::Time deadline) const {
  if (items.empty() || items.size() > static_cast<size_t>(kMaxSpanBatch)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "skip span batch must hold 1 to ", kMaxSpanBatch, " jobs"));
  }
  for (const SpanItem& item : items) {
    if (item.instants.empty() ||
        !std::is_sorted(item.instants.begin(), item.instants.end())) {
      return absl::InvalidArgumentError(
          "a skip span's instants must be ascending and non-empty");
    }
  }
  // Which of the instants are claimed: one range of tick keys per job.
  TxnRequest read;
  for (const SpanItem& item : items) {
    const std::string first = TickKey(item.encoded, item.instants.front());
    const std::string last = TickKey(item.encoded, item.instants.back());
    read.success.push_back(TxnOp::Get(
        first, {.range_end = absl::StrCat(last, std::string(1, '\0')),
                .keys_only = true}));
  }
  absl::StatusOr<TxnResult> claimed = kv_.Txn(read, deadline);
  if (!claimed.ok()) return claimed.status();
  std::vector<std::vector<absl::Time>> written(items.size());
  TxnRequest write;
  const std::string now = records::FormatRfc3339(absl::Now());
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string ticks =
        NameKeyPrefix(prefix_, "cron/tick", items[i].encoded);
    std::set<std::string> taken;
    if (const auto* got = std::get_if<GetResult>(&claimed->results[i])) {
      for (const KeyValue& kv : got->kvs) {
        taken.insert(std::string(Suffix(kv.key, ticks)));
      }
    }
    records::SkipSpan span;
    span.set_daemon(std::string(daemon));
    span.set_reason(std::string(reason));
    span.set_written(now);
    for (absl::Time t : items[i].instants) {
      std::string instant = FormatInstant(t);
      if (taken.count(instant) > 0) continue;
      span.add_ticks(std::move(instant));
      written[i].push_back(t);
    }
    if (written[i].empty()) continue;
    absl::StatusOr<std::string> json = records::ToJson(span);
    if (!json.ok()) return json.status();
    write.success.push_back(
        TxnOp::Put(SkipKey(items[i].encoded, written[i].front()), *json));
  }
  if (write.success.empty()) return written;
  absl::StatusOr<TxnResult> put = kv_.Txn(write, deadline);
  if (!put.ok()) return put.status();
  return written;
}

absl::StatusOr<std::vector<CronTick>> CronStore::History(
    absl::string_view encoded, int limit, absl::Time deadline,
    bool spans) const {
  const std::string ticks = NameKeyPrefix(prefix_, "cron/tick", encoded);
  const std::string results = NameKeyPrefix(prefix_, "cron/result", encoded);
  const GetOptions newest{.prefix = true,
                          .limit = limit,
                          .sort_target = SortTarget::kKey,
                          .sort_order = SortOrder::kDescend};
  absl::StatusOr<GetResult> claims_or = kv_.Get(ticks, newest, deadline);
  if (!claims_or.ok()) return claims_or.status();
  GetResult claims = *std::move(claims_or);
  std::vector<CronTick> out;
  if (!claims.kvs.empty()) {
    // Results of those ticks: from the oldest listed instant on, at the
    // same revision so that claims and results are one snapshot.
    const std::string oldest(Suffix(claims.kvs.back().key, ticks));
    absl::StatusOr<GetResult> res_or = kv_.Get(
        results + oldest,
        {.range_end = PrefixRangeEnd(results), .revision = claims.revision},
        deadline);
    if (!res_or.ok()) return res_or.status();
    GetResult res = *std::move(res_or);
    std::map<std::string, const KeyValue*> by_instant;
    for (const KeyValue& kv : res.kvs) {
      by_instant[std::string(Suffix(kv.key, results))] = &kv;
    }
    for (const KeyValue& kv : claims.kvs) {
      CronTick tick;
      const std::string instant(Suffix(kv.key, ticks));
      absl::StatusOr<absl::Time> t = ParseInstant(instant);
      if (!t.ok()) {
        tick.error = std::string(t.status().message());
        out.push_back(std::move(tick));
        continue;
      }
      tick.instant = *t;
      tick.claim_revision = kv.mod_revision;
      records::Claim c;
      absl::Status parsed = records::FromJson(kv.value, &c);
      if (parsed.ok()) {
        tick.claim = std::move(c);
      } else {
        tick.error = std::string(parsed.message());
      }
      auto it = by_instant.find(instant);
      if (it != by_instant.end()) {
        records::Result result;
        absl::Status p = records::FromJson(it->second->value, &result);
        if (p.ok()) {
          tick.result = std::move(result);
        } else if (tick.error.empty()) {
          tick.error = std::string(p.message());
        }
      }
      out.push_back(std::move(tick));
    }
  }
  if (!spans) return out;
  // The newest `limit` spans hold at least `limit` ticks.
  GetOptions newest_spans = newest;
  newest_spans.revision = claims.revision;
  absl::StatusOr<GetResult> span_or = kv_.Get(
      NameKeyPrefix(prefix_, "cron/skip", encoded), newest_spans, deadline);
  if (!span_or.ok()) return span_or.status();
  if (span_or->kvs.empty()) return out;
  AddSpanTicks(*span_or, &out);
  // Newest first; an unreadable record (no instant) last.
  std::stable_sort(out.begin(), out.end(),
                   [](const CronTick& a, const CronTick& b) {
                     return a.instant > b.instant;
                   });
  if (out.size() > static_cast<size_t>(limit)) out.resize(limit);
  return out;
}

void CronStore::AddSpanTicks(const GetResult& spans,
                             std::vector<CronTick>* out) const {
  std::set<absl::Time> seen;
  for (const CronTick& t : *out) {
    if (t.error.empty()) seen.insert(t.instant);
  }
  for (const KeyValue& kv : spans.kvs) {
    records::SkipSpan span;
    absl::Status parsed = records::FromJson(kv.value, &span);
    if (!parsed.ok()) {
      CronTick bad;
      bad.from_span = true;
      bad.error = absl::StrCat("skip span ", kv.key, ": ", parsed.message());
      out->push_back(std::move(bad));
      continue;
    }
    records::Claim claim;
    claim.set_daemon(span.daemon());
    claim.set_claimed_at(span.written());
    records::Result result;
    result.set_daemon(span.daemon());
    result.set_started(span.written());
    result.set_ended(span.written());
    result.set_skipped(span.reason());
    for (const std::string& text : span.ticks()) {
      absl::StatusOr<absl::Time> instant = ParseInstant(text);
      CronTick tick;
      tick.from_span = true;
      if (!instant.ok()) {
        tick.error = absl::StrCat("skip span ", kv.key, ": ",
                                  instant.status().message());
        out->push_back(std::move(tick));
        continue;
      }
      // A claimed tick was the claimer's (see WriteSkipSpans); a tick in
      // two spans (two daemons that both thought it theirs) counts once.
      if (!seen.insert(*instant).second) continue;
      tick.instant = *instant;
      tick.claim = claim;
      tick.claim_revision = kv.mod_revision;
      tick.result = result;
      out->push_back(std::move(tick));
    }
  }
}

absl::Status CronStore::RequestRun(absl::string_view name, absl::Time instant,
                                   const records::RunRequest& request,
                                   absl::Time deadline) const {
  absl::StatusOr<std::string> encoded_or = Encode(name);
  if (!encoded_or.ok()) return encoded_or.status();
  const std::string encoded = *std::move(encoded_or);
  absl::StatusOr<std::string> value_or = records::ToJson(request);
  if (!value_or.ok()) return value_or.status();
  const std::string value = *std::move(value_or);
  const std::string job_key = NameKey(prefix_, "cron/job", encoded);
  absl::StatusOr<TxnResult> r_or = kv_.Txn(
      {.compare = {Compare::CreateRevision(job_key, CompareOp::kGreater, 0)},
       .success = {TxnOp::Put(RunKey(encoded, instant), value)}},
      deadline);
  if (!r_or.ok()) return r_or.status();
  TxnResult r = *std::move(r_or);
  if (!r.succeeded) {
    return absl::NotFoundError(absl::StrCat("no job \"", name, "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> CronStore::CancelRun(absl::string_view name,
                                          absl::Time instant,
                                          absl::Time deadline) const {
  absl::StatusOr<std::string> encoded_or = Encode(name);
  if (!encoded_or.ok()) return encoded_or.status();
  const std::string encoded = *std::move(encoded_or);
  absl::StatusOr<DeleteResult> r_or =
      kv_.Delete(RunKey(encoded, instant), {}, deadline);
  if (!r_or.ok()) return r_or.status();
  DeleteResult r = *std::move(r_or);
  return r.deleted > 0;
}

absl::Status CronStore::RegisterDaemon(absl::string_view id,
                                       const records::Daemon& daemon,
                                       LeaseId lease,
                                       absl::Time deadline) const {
  absl::StatusOr<std::string> value_or = records::ToJson(daemon);
  if (!value_or.ok()) return value_or.status();
  const std::string value = *std::move(value_or);
  const std::string key = DaemonKey(id);
  // Free, or ours already (a retry after a timeout): put it on our lease.
  absl::StatusOr<TxnResult> r_or =
      kv_.Txn({.compare = {Compare::CreateRevision(key, CompareOp::kEqual, 0)},
               .success = {TxnOp::Put(key, value, {.lease = lease})},
               .failure = {TxnOp::Get(key)}},
              deadline);
  if (!r_or.ok()) return r_or.status();
  TxnResult r = *std::move(r_or);
  if (r.succeeded) return absl::OkStatus();
  const auto* got = std::get_if<GetResult>(&r.results[0]);
  if (got != nullptr && !got->kvs.empty() && got->kvs[0].lease == lease) {
    return absl::OkStatus();
  }
  return absl::AlreadyExistsError(absl::StrCat(
      "daemon id \"", id, "\" is in use by a live conchd (give another --id)"));
}

absl::StatusOr<CronStore::Registration> CronStore::DaemonRegistration(
    absl::string_view id, absl::Time deadline) const {
  absl::StatusOr<GetResult> r = kv_.Get(DaemonKey(id), {}, deadline);
  if (!r.ok()) return r.status();
  if (r->kvs.empty()) {
    return absl::NotFoundError(
        absl::StrCat("daemon id \"", id, "\" is not registered"));
  }
  Registration reg;
  reg.lease = r->kvs[0].lease;
  if (!records::FromJson(r->kvs[0].value, &reg.daemon).ok()) {
    reg.daemon.Clear();
  }
  return reg;
}

absl::StatusOr<std::map<std::string, std::string>> CronStore::LiveDaemons(
    absl::Time deadline) const {
  const std::string prefix = absl::StrCat(prefix_, "cron/daemon/");
  absl::StatusOr<GetResult> r_or =
      kv_.Get(prefix, {.prefix = true, .keys_only = true}, deadline);
  if (!r_or.ok()) return r_or.status();
  GetResult r = *std::move(r_or);
  std::map<std::string, std::string> out;
  for (const KeyValue& kv : r.kvs) {
    out[std::string(Suffix(kv.key, prefix))] = LeaseHex(kv.lease);
  }
  return out;
}

}  // namespace conch::etcd
