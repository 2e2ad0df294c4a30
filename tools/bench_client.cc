// bench_client: prints what the etcd client layer and the conch binary cost.
//
//   bench_client --endpoints 127.0.0.1:2379 --conch bazel-bin/conch/conch \
//       [--iterations 200]
//
// (1) In-process: one grant → txn (put + range) → revoke cycle, the three
//     raft writes a lock holder pays, on one Connection. Median/p90/p99.
// (2) Whole process: `conch --version` (start-up only) and `conch status`
//     (start-up + dial + one RPC), fork/exec to exit, median/p90.
// Run it through tools/bench.sh, which starts etcd with its data on tmpfs.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "core/base/mono_time.h"
#include "core/etcd/connection.h"
#include "core/etcd/endpoint.h"
#include "core/etcd/kv.h"
#include "core/etcd/lease.h"
#include "tools/bench_dial.h"

namespace {

using conch::MonoNow;
using conch::MonoTime;

struct Stats {
  double p50_ms, p90_ms, p99_ms;
};

Stats Summarize(std::vector<absl::Duration> samples) {
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(q * (samples.size() - 1));
    return absl::ToDoubleMilliseconds(samples[i]);
  };
  return Stats{at(0.5), at(0.9), at(0.99)};
}

void Print(const std::string& what, const std::vector<absl::Duration>& s) {
  Stats st = Summarize(s);
  std::cout << absl::StrFormat(
      "%-44s n=%-4d p50=%7.3f ms  p90=%7.3f ms  "
      "p99=%7.3f ms\n",
      what, s.size(), st.p50_ms, st.p90_ms, st.p99_ms);
}

// fork/exec/wait of argv; returns the wall time, or a negative duration on
// a non-zero exit.
absl::Duration TimeProcess(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::cout.flush();  // the child must not inherit unflushed output
  const MonoTime start = MonoNow();
  pid_t pid = fork();
  if (pid == 0) {
    if (freopen("/dev/null", "w", stdout) == nullptr) _exit(126);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const absl::Duration took = MonoNow() - start;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -took;
  return took;
}

// The in-process samples of the lock cycles, warm-up excluded.
struct CycleSamples {
  std::vector<absl::Duration> cycle, grant, txn, revoke;
};

// Runs one grant → txn (put + range) → revoke cycle, adding its times to
// `samples` unless `warm_up`; false (after printing why) on an error.
bool TimeCycle(const conch::etcd::Kv& kv, const conch::etcd::Leases& leases,
               bool warm_up, CycleSamples* samples) {
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  const MonoTime t0 = MonoNow();
  absl::StatusOr<conch::etcd::LeaseGrant> g =
      leases.Grant(absl::Seconds(10), deadline);
  const MonoTime t1 = MonoNow();
  if (!g.ok()) {
    std::cerr << g.status() << "\n";
    return false;
  }
  const std::string key =
      absl::StrCat("/bench/lock/", conch::etcd::LeaseHex(g->id));
  conch::etcd::TxnRequest txn;
  txn.compare = {conch::etcd::Compare::CreateRevision(
      key, conch::etcd::CompareOp::kEqual, 0)};
  txn.success = {
      conch::etcd::TxnOp::Put(key, "holder", {.lease = g->id}),
      conch::etcd::TxnOp::Get("/bench/lock/", {.prefix = true, .limit = 1})};
  absl::StatusOr<conch::etcd::TxnResult> r = kv.Txn(txn, deadline);
  const MonoTime t2 = MonoNow();
  absl::Status revoked = leases.Revoke(g->id, deadline);
  const MonoTime t3 = MonoNow();
  if (!r.ok() || !revoked.ok()) {
    std::cerr << r.status() << " " << revoked << "\n";
    return false;
  }
  if (warm_up) return true;
  samples->grant.push_back(t1 - t0);
  samples->txn.push_back(t2 - t1);
  samples->revoke.push_back(t3 - t2);
  samples->cycle.push_back(t3 - t0);
  return true;
}

// Times `runs` runs of `conch --version` and of `conch status` into
// `version` and `status`; false (after printing why) if one exits non-zero.
bool TimeConchProcesses(const std::string& conch_path,
                        const std::string& endpoints, int runs,
                        std::vector<absl::Duration>* version,
                        std::vector<absl::Duration>* status) {
  for (int i = 0; i < runs; ++i) {
    absl::Duration v = TimeProcess({conch_path, "--version"});
    absl::Duration s =
        TimeProcess({conch_path, "status", "--endpoints", endpoints});
    if (v < absl::ZeroDuration() || s < absl::ZeroDuration()) {
      std::cerr << "conch exited non-zero\n";
      return false;
    }
    version->push_back(v);
    status->push_back(s);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"benchmark of the etcd client layer and the conch binary"};
  std::string endpoints = "127.0.0.1:2379";
  std::string conch_path = "bazel-bin/conch/conch";
  int iterations = 200;
  app.add_option("--endpoints", endpoints);
  app.add_option("--conch", conch_path);
  app.add_option("--iterations", iterations);
  CLI11_PARSE(app, argc, argv);

  int code = 0;
  std::unique_ptr<conch::etcd::Connection> conn =
      conch::tools::DialBench("bench_client", endpoints, &code);
  if (conn == nullptr) return code;
  conch::etcd::Kv kv(conn.get());
  conch::etcd::Leases leases(conn.get());

  CycleSamples samples;
  for (int i = 0; i < iterations + 10; ++i) {
    if (!TimeCycle(kv, leases, /*warm_up=*/i < 10, &samples)) return 1;
  }
  std::cout << "== in-process client (one Connection, etcd on tmpfs)\n";
  Print("grant", samples.grant);
  Print("txn (put if absent + range)", samples.txn);
  Print("revoke", samples.revoke);
  Print("cycle grant -> txn -> revoke", samples.cycle);

  std::cout << "== whole process (fork/exec to exit)\n";
  std::vector<absl::Duration> version, status;
  const int runs = std::max(20, iterations / 4);
  if (!TimeConchProcesses(conch_path, endpoints, runs, &version, &status)) {
    return 1;
  }
  Print("conch --version", version);
  Print("conch status", status);
  return 0;
}
