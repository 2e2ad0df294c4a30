// bench_cron_load: stores N cron job definitions in etcd, fast, for the
// size benchmark of issue 18 (tools/bench_cron_size.sh): how conchd copes
// with 100,000 jobs. Each record is built as `conch cron add` builds it
// (conch/cron_cmd.cc, RunAdd: schedule, zone, argv, overlap "allow",
// created, no output kept, no dir, user or env) and written with the same
// CronStore::AddJob, so etcd holds exactly what `conch cron add` would have
// written; T threads write at once on one Connection.
//
// The mix: job i is named NAME_PREFIX<i> (i from --first on). A share
// --frequent (default 0.01) of the jobs, spread evenly over the indices,
// get --frequent-schedule (default "@every 1m"); the others a daily cron
// expression "M H * * *" whose minute of the day is spread over all 1440
// (a different --seed moves every job to another minute: with --replace,
// that is a change of every job written).
//
//   bench_cron_load --endpoints 127.0.0.1:2379 --prefix /bench/ --count N
//       [--first I] [--threads T] [--frequent 0.01]
//       [--frequent-schedule '@every 1m'] [--tz UTC] [--seed S]
//       [--replace] [--name-prefix j] [-- COMMAND ARGS...]
//
// The command defaults to /bin/true. Prints one line: jobs written, the
// mix, seconds, jobs per second, average record bytes. Exits 1 if any
// write failed (the first error is printed), 64 for bad flags.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/cron/cron.h"
#include "core/cron/schedule.h"
#include "core/etcd/connection.h"
#include "core/etcd/endpoint.h"
#include "core/records/records.h"
#include "tools/bench_dial.h"

namespace {

struct LoadOptions {
  int64_t first = 0;
  int64_t count = 1000;
  double frequent = 0.01;
  std::string frequent_schedule = "@every 1m";
  std::string tz = "UTC";
  int64_t seed = 0;
  bool replace = false;
  std::string name_prefix = "j";
  std::vector<std::string> command = {"/bin/true"};
};

// Whether job i gets the frequent schedule: floor((i+1)·share) steps up,
// so the frequent jobs are spread evenly over the indices.
bool IsFrequent(int64_t i, double share) {
  const auto at = [share](int64_t k) {
    return static_cast<int64_t>(static_cast<double>(k) * share);
  };
  return at(i + 1) > at(i);
}

// The daily schedule of job i: "M H * * *", the minute of the day a
// permutation of i (7919 is prime, so coprime to 1440) shifted by the seed.
std::string DailySchedule(int64_t i, int64_t seed) {
  const int64_t minute_of_day = (i * 7919 + seed * 104729) % 1440;
  return absl::StrCat(minute_of_day % 60, " ", minute_of_day / 60, " * * *");
}

// The record `conch cron add NAME --schedule S --tz Z -- COMMAND` stores:
// the fields conch/cron_cmd.cc's RunAdd sets, with its flags' defaults.
conch::records::Job MakeJob(const std::string& schedule, const LoadOptions& o) {
  conch::records::Job job;
  job.set_schedule(schedule);
  job.set_tz(o.tz);
  for (const std::string& arg : o.command) {
    job.add_argv(conch::records::SanitizeUtf8(arg));
  }
  job.set_overlap("allow");
  job.set_created(conch::records::FormatRfc3339(absl::Now()));
  job.set_keep_output(0);
  job.set_dir("");
  job.set_user("");
  return job;
}

// What the writer threads share.
struct Progress {
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> written{0};
  std::atomic<int64_t> failed{0};
  std::atomic<int64_t> retries{0};
  std::atomic<int64_t> record_bytes{0};
  std::mutex mu;
  absl::Status first_error;  // guarded by mu
};

bool Transient(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) ||
         absl::IsResourceExhausted(s);
}

// Writes jobs until none is left: indices first + next++.
void Writer(const conch::etcd::CronStore& store, const LoadOptions& o,
            Progress* p) {
  for (;;) {
    const int64_t k = p->next.fetch_add(1);
    if (k >= o.count) return;
    const int64_t i = o.first + k;
    const std::string schedule = IsFrequent(i, o.frequent)
                                     ? o.frequent_schedule
                                     : DailySchedule(i, o.seed);
    const conch::records::Job job = MakeJob(schedule, o);
    if (absl::StatusOr<std::string> json = conch::records::ToJson(job);
        json.ok()) {
      p->record_bytes += static_cast<int64_t>(json->size());
    }
    const std::string name = absl::StrCat(o.name_prefix, i);
    absl::Status s;
    for (int attempt = 0; attempt < 6; ++attempt) {
      if (attempt > 0) {
        ++p->retries;
        absl::SleepFor(absl::Milliseconds(200) * attempt);
      }
      s = store.AddJob(name, job, o.replace, absl::Now() + absl::Seconds(30));
      if (!Transient(s)) break;
    }
    if (s.ok()) {
      ++p->written;
      continue;
    }
    ++p->failed;
    std::lock_guard<std::mutex> lock(p->mu);
    if (p->first_error.ok()) {
      p->first_error =
          absl::Status(s.code(), absl::StrCat("job ", name, ": ", s.message()));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"stores N cron jobs as conch cron add does, for benchmarks",
               "bench_cron_load"};
  std::string endpoints = "127.0.0.1:2379";
  std::string prefix = "/conch/";
  int threads = 32;
  LoadOptions o;
  app.add_option("--endpoints", endpoints);
  app.add_option("--prefix", prefix);
  app.add_option("--count", o.count, "jobs to write")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--first", o.first, "index of the first job")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--threads", threads, "writers at once")
      ->check(CLI::Range(1, 1024));
  app.add_option("--frequent", o.frequent,
                 "share of the jobs with --frequent-schedule")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--frequent-schedule", o.frequent_schedule);
  app.add_option("--tz", o.tz);
  app.add_option("--seed", o.seed, "moves every daily job to another minute")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--replace", o.replace, "replace jobs that exist");
  app.add_option("--name-prefix", o.name_prefix);
  app.add_option("command", o.command, "the jobs' command (after --)");
  CLI11_PARSE(app, argc, argv);

  // What `conch cron add` would refuse, refused here too.
  for (const std::string& spec :
       {o.frequent_schedule, DailySchedule(o.first, o.seed)}) {
    if (absl::StatusOr<conch::Schedule> s = conch::Schedule::Parse(spec, o.tz);
        !s.ok()) {
      std::cerr << "bench_cron_load: " << s.status().message() << "\n";
      return 64;
    }
  }
  if (o.command.empty() || o.command[0].empty()) {
    std::cerr << "bench_cron_load: the command is empty\n";
    return 64;
  }
  int code = 0;
  std::unique_ptr<conch::etcd::Connection> conn =
      conch::tools::DialBench("bench_cron_load", endpoints, &code);
  if (conn == nullptr) return code;
  const conch::etcd::CronStore store(conn.get(), prefix);

  int64_t frequent = 0;
  for (int64_t k = 0; k < o.count; ++k) {
    frequent += IsFrequent(o.first + k, o.frequent) ? 1 : 0;
  }
  Progress progress;
  const absl::Time start = absl::Now();
  std::vector<std::thread> writers;
  const int n = static_cast<int>(
      std::min<int64_t>(threads, std::max<int64_t>(o.count, 1)));
  writers.reserve(n);
  for (int t = 0; t < n; ++t) {
    writers.emplace_back(Writer, std::cref(store), std::cref(o), &progress);
  }
  for (std::thread& w : writers) w.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);

  const int64_t written = progress.written.load();
  absl::PrintF(
      "loaded %d jobs (%d daily \"M H * * *\", %d \"%s\"%s) in %.2f s: "
      "%.0f jobs/s with %d threads, %.0f bytes per record, %d retries, "
      "%d failed\n",
      written, o.count - frequent, frequent, o.frequent_schedule,
      o.replace ? ", replace" : "", seconds,
      seconds > 0 ? static_cast<double>(written) / seconds : 0.0, n,
      o.count > 0 ? static_cast<double>(progress.record_bytes.load()) /
                        static_cast<double>(o.count)
                  : 0.0,
      progress.retries.load(), progress.failed.load());
  if (progress.failed.load() > 0) {
    std::lock_guard<std::mutex> lock(progress.mu);
    std::cerr << "bench_cron_load: " << progress.first_error << "\n";
    return 1;
  }
  return 0;
}
