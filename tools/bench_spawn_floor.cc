// bench_spawn_floor: what starting a burst of processes costs this machine,
// with no etcd and no conchd: the floor under conchd's run-start lag.
//
// Starts N copies of `sh -c CMD` at once from T threads with posix_spawn
// (as conchd's spawners do), stamping each start just before its spawn
// (as conchd stamps result.started), waits for all of them, and prints the
// start offsets' p50/p99/max and when the last one exited.
//
//   bench_spawn_floor --count 200 --threads 2 --command 'echo x >> /tmp/log'
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/time/clock.h"
#include "absl/time/time.h"

extern char** environ;

int main(int argc, char** argv) {
  CLI::App app{"bench_spawn_floor: the cost of a burst of process starts"};
  int count = 200;
  int threads = 2;
  std::string command = "true";
  app.add_option("--count", count, "processes to start")
      ->check(CLI::Range(1, 100000));
  app.add_option("--threads", threads, "spawning threads")
      ->check(CLI::Range(1, 64));
  app.add_option("--command", command, "run as sh -c COMMAND");
  CLI11_PARSE(app, argc, argv);

  std::vector<double> started_ms(count);
  std::atomic<int> next{0};
  const absl::Time t0 = absl::Now();
  std::vector<std::thread> spawners;
  for (int k = 0; k < threads; ++k) {
    spawners.emplace_back([&] {
      std::string sh = "sh";
      std::string dash_c = "-c";
      std::vector<char*> args = {sh.data(), dash_c.data(), command.data(),
                                 nullptr};
      for (int i = next++; i < count; i = next++) {
        started_ms[i] = absl::ToDoubleMilliseconds(absl::Now() - t0);
        pid_t pid;
        if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, args.data(),
                        environ) != 0) {
          std::perror("posix_spawn");
        }
      }
    });
  }
  for (std::thread& t : spawners) t.join();
  while (wait(nullptr) > 0) {
  }
  const double all_done = absl::ToDoubleMilliseconds(absl::Now() - t0);
  std::sort(started_ms.begin(), started_ms.end());
  auto at = [&](double q) {
    return started_ms[std::min<size_t>(
        count - 1, static_cast<size_t>(q * (count - 1) + 0.5))];
  };
  std::printf(
      "spawn floor: %d x sh -c from %d threads, start offset ms p50 %.1f  "
      "p99 %.1f  max %.1f; all exited after %.1f ms\n",
      count, threads, at(0.5), at(0.99), at(1.0), all_done);
  return 0;
}
