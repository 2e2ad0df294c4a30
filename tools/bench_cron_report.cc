// bench_cron_report: reads what a cron benchmark left in etcd and in the
// jobs' run log, and prints the numbers of issue 6's benchmark:
//   - ticks expected in the window (jobs × window / period), recorded
//     (claimed, or listed in a skip span), ok, missing;
//   - duplicates: ticks that ran more than once according to the run log
//     the jobs append to ("JOB TICK" lines), which is written outside etcd;
//   - skipped ticks by reason (overload, late, overlap, …) and the ticks
//     that started on time (within --max-late of their instant): issue 18's
//     "every due tick accounted for";
//   - tick lag: result.started − tick instant, p50/p99/max;
//   - etcd revisions consumed per recorded tick (every write is one).
//
//   bench_cron_report --endpoints E --prefix P --from T0 --to T1
//       --period 1s --runs FILE --rev-before R0
// T0/T1 are Unix seconds: the ticks in [T0, T1) are counted.
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "core/base/duration.h"
#include "core/cron/cron.h"
#include "core/etcd/connection.h"
#include "core/etcd/endpoint.h"
#include "core/etcd/kv.h"
#include "core/records/records.h"
#include "tools/bench_dial.h"

namespace {

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

// A deadline per call: an overloaded machine answers slowly.
absl::Time CallDeadline() { return absl::Now() + absl::Seconds(30); }

// What the ticks of the window say.
struct TickStats {
  // claimed: recorded, by a claim or in a skip span (spanned).
  int64_t claimed = 0, spanned = 0, ok = 0, other = 0, unfinished = 0;
  int64_t on_time = 0;  // started within max_late of the instant
  absl::Duration max_late = absl::Seconds(10);
  std::map<std::string, int64_t> skipped;  // by reason
  std::vector<double> lag_ms;
  std::map<std::string, std::vector<double>> lag_ms_by_runner;
  // The first start of each (runner, instant): when that daemon's burst
  // began, i.e. the claim's round trip.
  std::map<std::pair<std::string, absl::Time>, double> first_start_ms;
  std::vector<double> claim_ms;  // claimed_at − instant: when it was tried
};

// Adds the recorded tick `t` to `stats`.
void AddTick(const conch::etcd::CronTick& t, TickStats* stats) {
  ++stats->claimed;
  stats->spanned += t.from_span;
  if (t.claim.has_value() && !t.from_span) {
    absl::StatusOr<absl::Time> at =
        conch::records::ParseRfc3339(t.claim->claimed_at());
    if (at.ok()) {
      stats->claim_ms.push_back(absl::ToDoubleMilliseconds(*at - t.instant));
    }
  }
  if (!t.result.has_value()) {
    ++stats->unfinished;
    return;
  }
  if (t.result->has_skipped()) {
    ++stats->skipped[t.result->skipped()];
    return;  // not run: no start, no lag
  }
  if (t.result->has_exit_code() && t.result->exit_code() == 0) {
    ++stats->ok;
  } else {
    ++stats->other;
  }
  absl::StatusOr<absl::Time> started =
      conch::records::ParseRfc3339(t.result->started());
  if (started.ok()) {
    const double lag = absl::ToDoubleMilliseconds(*started - t.instant);
    stats->lag_ms.push_back(lag);
    if (*started - t.instant <= stats->max_late) ++stats->on_time;
    stats->lag_ms_by_runner[t.result->daemon()].push_back(lag);
    auto [it, inserted] =
        stats->first_start_ms.try_emplace({t.result->daemon(), t.instant}, lag);
    if (!inserted) it->second = std::min(it->second, lag);
  }
}

// Adds every tick of `jobs` in [t0, t1) to `stats`, from their histories.
absl::Status CollectTicks(const conch::etcd::CronStore& store,
                          const conch::etcd::CronJobList& jobs, absl::Time t0,
                          absl::Time t1, TickStats* stats) {
  for (const conch::etcd::CronJob& job : jobs.jobs) {
    absl::StatusOr<std::vector<conch::etcd::CronTick>> ticks =
        store.History(job.encoded, conch::etcd::kCronHistory, CallDeadline());
    if (!ticks.ok()) return ticks.status();
    for (const conch::etcd::CronTick& t : *ticks) {
      if (t.instant < t0 || t.instant >= t1) continue;
      AddTick(t, stats);
    }
  }
  return absl::OkStatus();
}

// Counts the runs logged more than once in the run log at `path` (one
// "JOB TICK" line per run, appended by the job itself); `*logged` gets the
// number of distinct runs.
int64_t CountDuplicateRuns(const std::string& path, size_t* logged) {
  std::ifstream in(path);
  std::map<std::string, int> seen;
  std::string line;
  while (std::getline(in, line)) ++seen[line];
  int64_t duplicates = 0;
  for (const auto& [k, n] : seen) duplicates += n > 1 ? n - 1 : 0;
  *logged = seen.size();
  return duplicates;
}

// Prints the lags of `stats`: overall, per daemon, of each daemon's first
// start, and of the claims.
void PrintLags(const TickStats& stats) {
  absl::PrintF(
      "tick lag ms (run started − instant): p50 %.1f  p99 %.1f  "
      "max %.1f\n",
      Percentile(stats.lag_ms, 0.5), Percentile(stats.lag_ms, 0.99),
      Percentile(stats.lag_ms, 1.0));
  // The share of each daemon and its own lag: an uneven split of the
  // jobs shows as one daemon with more runs and a later p99.
  for (const auto& [runner, lags] : stats.lag_ms_by_runner) {
    absl::PrintF("  runner %s: %d runs, lag ms p50 %.1f  p99 %.1f\n", runner,
                 lags.size(), Percentile(lags, 0.5), Percentile(lags, 0.99));
  }
  std::vector<double> firsts;
  firsts.reserve(stats.first_start_ms.size());
  for (const auto& [key, ms] : stats.first_start_ms) firsts.push_back(ms);
  absl::PrintF(
      "first start of each daemon's burst ms (claim answered): p50 %.1f  "
      "p99 %.1f\n",
      Percentile(firsts, 0.5), Percentile(firsts, 0.99));
  absl::PrintF(
      "claim tried ms (claimed_at − instant): p50 %.1f  p99 %.1f  "
      "max %.1f\n",
      Percentile(stats.claim_ms, 0.5), Percentile(stats.claim_ms, 0.99),
      Percentile(stats.claim_ms, 1.0));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"reports a conchd benchmark window", "bench_cron_report"};
  std::string endpoints = "127.0.0.1:2379";
  std::string prefix = "/conch/";
  int64_t from = 0;
  int64_t to = 0;
  std::string period = "1s";
  std::string runs_path;
  int64_t rev_before = 0;
  std::string max_late = "10s";
  app.add_option("--endpoints", endpoints);
  app.add_option("--max-late", max_late);
  app.add_option("--prefix", prefix);
  app.add_option("--from", from)->required();
  app.add_option("--to", to)->required();
  app.add_option("--period", period);
  app.add_option("--runs", runs_path)->required();
  app.add_option("--rev-before", rev_before)->required();
  CLI11_PARSE(app, argc, argv);

  absl::StatusOr<absl::Duration> every =
      conch::ParsePositiveDuration("--period", period);
  absl::StatusOr<absl::Duration> late =
      conch::ParsePositiveDuration("--max-late", max_late);
  if (!every.ok() || !late.ok()) {
    std::cerr << "bad --period or --max-late\n";
    return 64;
  }
  int code = 0;
  std::unique_ptr<conch::etcd::Connection> conn =
      conch::tools::DialBench("bench_cron_report", endpoints, &code);
  if (conn == nullptr) return code;
  const conch::etcd::CronStore store(conn.get(), prefix);
  absl::StatusOr<conch::etcd::CronJobList> jobs =
      store.ListJobs(CallDeadline());
  if (!jobs.ok()) {
    std::cerr << jobs.status() << "\n";
    return 69;
  }
  const absl::Time t0 = absl::FromUnixSeconds(from);
  const absl::Time t1 = absl::FromUnixSeconds(to);
  TickStats stats;
  stats.max_late = *late;
  if (absl::Status s = CollectTicks(store, *jobs, t0, t1, &stats); !s.ok()) {
    std::cerr << s << "\n";
    return 69;
  }
  size_t runs_logged = 0;
  const int64_t duplicates = CountDuplicateRuns(runs_path, &runs_logged);

  absl::StatusOr<conch::etcd::GetResult> head =
      conch::etcd::Kv(conn.get())
          .Get(prefix, {.prefix = true, .limit = 1, .keys_only = true},
               CallDeadline());
  const int64_t rev_after = head.ok() ? head->revision : 0;
  absl::Duration rest;
  const int64_t per_job = absl::IDivDuration(t1 - t0, *every, &rest);
  const int64_t expected = static_cast<int64_t>(jobs->jobs.size()) * per_job;
  absl::PrintF(
      "jobs %d  window %ds  ticks expected %d  recorded %d (in skip spans "
      "%d)  ok %d  failed %d  unfinished %d  missing %d\n",
      jobs->jobs.size(), to - from, expected, stats.claimed, stats.spanned,
      stats.ok, stats.other, stats.unfinished, expected - stats.claimed);
  absl::PrintF("duplicates (run log) %d  runs logged %d\n", duplicates,
               runs_logged);
  int64_t skipped = 0;
  std::string reasons;
  for (const auto& [why, n] : stats.skipped) {
    skipped += n;
    absl::StrAppendFormat(&reasons, "  %s %d", why, n);
  }
  absl::PrintF("started on time (within %s) %d  skipped %d%s  unaccounted %d\n",
               absl::FormatDuration(stats.max_late), stats.on_time, skipped,
               reasons, expected - stats.claimed + stats.unfinished);
  PrintLags(stats);
  if (stats.claimed > 0) {
    absl::PrintF("etcd revisions per recorded tick: %.2f (%d revisions)\n",
                 static_cast<double>(rev_after - rev_before) /
                     static_cast<double>(stats.claimed),
                 rev_after - rev_before);
  }
  return 0;
}
