// CronStore: the etcd side of `conch cron` and conchd (spec 04; keys and
// records in spec 05).
//
// Keys, under the --prefix (names percent-encoded by core/records/names.h,
// instants as 20-digit zero-padded Unix nanoseconds so that lexical order
// is time order):
//   cron/job/<name>                job record, no lease
//   cron/tick/<name>/<instant>     claim record, no lease: a claimed tick
//                                  stays claimed, whatever happens to the
//                                  daemon that claimed it
//   cron/result/<name>/<instant>   result record, no lease
//   cron/run/<name>/<instant>      run request of `conch cron run`, no lease
//   cron/skip/<name>/<first>       skip span, no lease: ticks nobody had
//                                  room for, recorded without claims
//   cron/daemon/<id>               daemon record, on the daemon's lease
//
// The at-most-once rule is Claim(): one Txn that creates the tick key only
// if its create revision is 0 and the job definition is still the one the
// daemon scheduled (same mod revision). Whoever loses the Txn does not run
// the tick; nothing ever deletes a claim except the history bound (Prune),
// which keeps the newest `keep` ticks of a job.
//
// Every call takes a deadline; errors follow core/etcd/etcd_status.h
// (Unavailable: retry; FailedPrecondition: don't). Bad names come back as
// InvalidArgument before anything is written.
//
// Ownership: borrows the Connection, which must outlive the store.
// Thread-safe (stateless apart from the constant prefix).
//
// Example:
//   CronStore store(&conn, "/conch/");
//   absl::StatusOr<std::vector<CronJob>> jobs = store.ListJobs(deadline);
//   absl::StatusOr<ClaimOutcome> c = store.Claim(job, instant, claim,
//                                                std::nullopt, deadline);
//   if (c.ok() && c->claimed) { ...run..., store.WriteResult(...); }
#ifndef CONCH_CORE_CRON_CRON_H_
#define CONCH_CORE_CRON_CRON_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/etcd/connection.h"
#include "core/etcd/kv.h"
#include "core/etcd/types.h"
#include "core/records/records.h"

namespace conch::etcd {

// How many ticks of each job the history keeps (spec 04).
inline constexpr int kCronHistory = 100;
// How far a history may grow past kCronHistory before it is pruned back:
// pruning at the bound itself costs a delete Txn per job per result (issue
// 18); with the slack it is one per kCronHistorySlack results.
inline constexpr int kCronHistorySlack = 10;
// How many skip spans (cron/skip) of each job are kept, each holding the
// ticks one daemon skipped for overload in one flush.
inline constexpr int kCronSpanHistory = 100;

// "00001795000000000000000": an instant as 20-digit Unix nanoseconds.
// Instants before the epoch are not representable (never needed).
std::string FormatInstant(absl::Time t);
// Inverse of FormatInstant: exactly 20 digits, else InvalidArgument.
absl::StatusOr<absl::Time> ParseInstant(absl::string_view text);

// One stored job definition.
struct CronJob {
  std::string name;     // decoded
  std::string encoded;  // as in the key
  records::Job job;
  int64_t mod_revision = 0;
};

// A job key whose name or record cannot be read (reported, never run).
struct BadCronJob {
  std::string key;
  std::string error;
};

struct CronJobList {
  std::vector<CronJob> jobs;  // in key order
  std::vector<BadCronJob> bad;
  int64_t revision = 0;  // store revision of the read
};

// One tick of a job as stored: its claim and, once written, its result.
struct CronTick {
  absl::Time instant;
  std::optional<records::Claim> claim;
  int64_t claim_revision = 0;  // CONCH_REV of the run
  std::optional<records::Result> result;
  std::string error;  // a record that could not be parsed
  // Read from a skip span (cron/skip), not from a claim key: `claim` and
  // `result` are made up from the span (the claim names the daemon, no
  // lease; the result is skipped with the span's reason), and
  // claim_revision is the span's mod revision.
  bool from_span = false;
};

struct ClaimOutcome {
  bool claimed = false;
  // claimed: the revision of the claim write (the run's CONCH_REV).
  int64_t revision = 0;
  // Not claimed because the job was removed or replaced since it was read.
  bool job_changed = false;
};

class CronStore {
 public:
  CronStore(Connection* conn, std::string prefix)
      : conn_(conn), kv_(conn), prefix_(std::move(prefix)) {}

  const std::string& prefix() const { return prefix_; }
  Connection* connection() const { return conn_; }
  std::string JobPrefix() const;  // watch this for definitions
  std::string RunPrefix() const;  // watch this for run requests
  std::string DaemonKey(absl::string_view id) const;
  std::string TickKey(absl::string_view encoded, absl::Time instant) const;
  std::string ResultKey(absl::string_view encoded, absl::Time instant) const;
  std::string RunKey(absl::string_view encoded, absl::Time instant) const;
  std::string SkipKey(absl::string_view encoded, absl::Time first) const;

  // The encoded job name of a key under JobPrefix().
  std::string JobOfKey(absl::string_view job_key) const;
  // A run request's key, as RunKey writes it: the job's encoded name and
  // the instant. InvalidArgument for any other key.
  absl::StatusOr<std::pair<std::string, absl::Time>> ParseRunKey(
      absl::string_view run_key) const;

  // Stores a job. AlreadyExists when `name` is defined and !replace. A
  // name that is not defined starts with an empty history: claims, results
  // and run requests an earlier job of that name left behind (after a
  // plain RemoveJob) are deleted in the same Txn; replacing a defined job
  // keeps its history. `replaced`, when not null, is set to whether a
  // defined job was replaced (only ever true with `replace`).
  absl::Status AddJob(absl::string_view name, const records::Job& job,
                      bool replace, absl::Time deadline,
                      bool* replaced = nullptr) const;
  // Deletes the definition (history stays, bounded, until the name is
  // added again). NotFound when absent. With `purge`, the job's claims,
  // results and run requests go in the same Txn (a run still in progress
  // writes its result afterwards); a purge also works after a plain
  // remove, and is NotFound only when there was neither a job nor any
  // history of one. `deleted`, when not null, is set to how many keys the
  // Txn deleted (the definition and, with `purge`, the history's keys).
  absl::Status RemoveJob(absl::string_view name, absl::Time deadline,
                         bool purge = false, int64_t* deleted = nullptr) const;
  // Every job, read in pages of `page` keys, all at the revision of the
  // first page: a single range read of 100,000 jobs would pass gRPC's 4 MiB
  // limit on a response. A compaction between pages fails the whole list
  // (OutOfRange, from etcd); the caller reads again.
  static constexpr int64_t kListPage = 2000;
  absl::StatusOr<CronJobList> ListJobs(absl::Time deadline,
                                       int64_t page = kListPage) const;
  // Parses one job key/value (for watch events).
  absl::StatusOr<CronJob> ParseJob(const KeyValue& kv) const;

  // Claims the tick `instant` of `job` (see the file comment). With
  // `skipped` the result is written in the same Txn (a tick recorded as not
  // run). With `request_revision` > 0 the claim also consumes the run
  // request cron/run/<name>/<instant> of that mod revision.
  absl::StatusOr<ClaimOutcome> Claim(
      const CronJob& job, absl::Time instant, const records::Claim& claim,
      const std::optional<records::Result>& skipped, int64_t request_revision,
      absl::Time deadline) const;
  // Claims many ticks in one Txn, all or nothing: every tick key absent and
  // every job unchanged. claimed == false when any one is taken or changed
  // (the caller then claims them one by one). At most kMaxBatch ticks.
  static constexpr int kMaxBatch = 64;  // two compares each; etcd allows 128
  struct BatchItem {
    const CronJob* job;
    absl::Time instant;
  };
  absl::StatusOr<ClaimOutcome> ClaimBatch(const std::vector<BatchItem>& items,
                                          const records::Claim& claim,
                                          absl::Time deadline) const;
  // Whether each tick is claimed, in one read-only Txn (no raft write). At
  // most 128 ticks.
  absl::StatusOr<std::vector<bool>> Claimed(const std::vector<BatchItem>& items,
                                            absl::Time deadline) const;

  absl::Status WriteResult(absl::string_view encoded, absl::Time instant,
                           const records::Result& result,
                           absl::Time deadline) const;
  // Writes up to 64 results in one Txn, which also counts each one's job
  // history; returns those counts, in order (so the caller prunes only a
  // job whose history is over the bound).
  struct ResultItem {
    std::string encoded;
    absl::Time instant;
    records::Result result;
  };
  absl::StatusOr<std::vector<int64_t>> WriteResults(
      const std::vector<ResultItem>& items, absl::Time deadline) const;

  // Records ticks as skipped without claiming them (issue 18): per job a
  // skip span cron/skip/<name>/<first instant> listing the instants. A
  // read-only Txn first drops the instants that are claimed already (one
  // range read per span), then one Txn writes the spans. Returns, per
  // item, the instants written (empty: all were claimed). At most
  // kMaxSpanBatch items; each item's instants ascending and non-empty.
  //
  // Spans hold no claim: a daemon that claims a listed tick afterwards (a
  // late fallback claim) still may, and then its claim wins in History().
  // Use it only for ticks whose claimers have given up on them.
  static constexpr int kMaxSpanBatch = 128;
  struct SpanItem {
    std::string encoded;
    std::vector<absl::Time> instants;
  };
  absl::StatusOr<std::vector<std::vector<absl::Time>>> WriteSkipSpans(
      const std::vector<SpanItem>& items, absl::string_view daemon,
      absl::string_view reason, absl::Time deadline) const;

  // Deletes the claims and results of `encoded` older than its newest
  // `keep` ticks. Returns how many ticks were deleted.
  absl::StatusOr<int64_t> Prune(absl::string_view encoded, int keep,
                                absl::Time deadline) const;
  // The same for up to kMaxBatch jobs at once: one read-only Txn lists the
  // newest keep+1 ticks of each, and one Txn deletes what is older for all
  // of them (one revision, where a Prune per job makes one each: a job
  // `@every 1s` at the bound needs a prune per tick).
  absl::StatusOr<int64_t> Prune(const std::vector<std::string>& encoded,
                                int keep, absl::Time deadline) const;
  // The same for skip spans: deletes the spans of each job older than its
  // newest `keep`. Returns how many spans were deleted.
  absl::StatusOr<int64_t> PruneSpans(const std::vector<std::string>& encoded,
                                     int keep, absl::Time deadline) const;
  // The newest `limit` ticks of a job, newest first: its claimed ticks and,
  // with `spans`, the ticks of its skip spans that have no claim (one
  // snapshot). Callers that look only for runs in progress leave spans out.
  absl::StatusOr<std::vector<CronTick>> History(absl::string_view encoded,
                                                int limit, absl::Time deadline,
                                                bool spans = true) const;

  // Asks for an extra tick of `name` at `instant`. NotFound when there is no
  // such job; nothing is written then.
  absl::Status RequestRun(absl::string_view name, absl::Time instant,
                          const records::RunRequest& request,
                          absl::Time deadline) const;
  // Withdraws a request nobody claimed. Returns false when it was gone
  // (claimed meanwhile).
  absl::StatusOr<bool> CancelRun(absl::string_view name, absl::Time instant,
                                 absl::Time deadline) const;

  // Puts cron/daemon/<id> on `lease`. AlreadyExists when another live
  // daemon (another lease) has the id.
  absl::Status RegisterDaemon(absl::string_view id,
                              const records::Daemon& daemon, LeaseId lease,
                              absl::Time deadline) const;
  // Who holds cron/daemon/<id>: its record (an unreadable one as an empty
  // record) and lease. NotFound when nobody does.
  struct Registration {
    records::Daemon daemon;
    LeaseId lease = kNoLease;
  };
  absl::StatusOr<Registration> DaemonRegistration(absl::string_view id,
                                                  absl::Time deadline) const;
  // id → lease (hex) of every registered, hence live, daemon.
  absl::StatusOr<std::map<std::string, std::string>> LiveDaemons(
      absl::Time deadline) const;

 private:
  std::vector<TxnOp> HistoryDeletes(absl::string_view encoded) const;
  // Prune's two Txns: for each job, list the newest keep+1 keys under
  // `kind`, then delete everything older under each of `kinds`.
  absl::StatusOr<int64_t> PruneOlder(const std::vector<std::string>& encoded,
                                     int keep, const std::string& kind,
                                     const std::vector<std::string>& kinds,
                                     absl::Time deadline) const;
  // Appends the ticks of the skip spans in `spans` that `out` does not
  // hold already.
  void AddSpanTicks(const GetResult& spans, std::vector<CronTick>* out) const;

  Connection* const conn_;  // not owned
  const Kv kv_;
  const std::string prefix_;
};

}  // namespace conch::etcd

#endif  // CONCH_CORE_CRON_CRON_H_
