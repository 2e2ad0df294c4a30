// bench_spawn_floor: what starting a burst of processes costs this machine,
// with no etcd and no conchd: the floor under conchd's run-start lag.
//
// Starts N copies of `sh -c CMD` at once from T threads with a bare
// posix_spawn, stamping each start just before its spawn (as conchd stamps
// result.started), waits for all of them, and prints the start offsets'
// p50/p99/max and when the last one exited.
//
// With --conch-spawn each start is what a conchd spawner does instead:
// an output pipe, Child::Spawn with conchd's ChildSpec (own process group,
// default signals, stdin from /dev/null, CONCH_* environment) — the cost
// of conch's start path without the daemon around it. --job-nice N also
// sets each child's nice as conchd --job-nice does; run the tool itself
// under `nice -n -15` to see what a daemon above its jobs gets.
//
//   bench_spawn_floor --count 200 --threads 2 --command 'echo x >> /tmp/log'
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/process/child.h"

extern char** environ;

namespace {

// One start the way conchd's spawner makes it (its output pipe is closed
// unread: the command writes to a file).
void ConchSpawn(const std::string& command, int i, std::optional<int> nice) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    std::perror("pipe2");
    return;
  }
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  conch::ChildSpec spec;
  spec.path = "/bin/sh";
  spec.argv = {"sh", "-c", command};
  spec.take_terminal = false;
  spec.die_with_parent = false;
  spec.output_fd = fds[1];
  spec.nice = nice;
  spec.env = {{"CONCH_JOB", absl::StrCat("j", i)},
              {"CONCH_NAME", absl::StrCat("j", i)},
              {"CONCH_TICK", "2026-11-27T10:00:00Z"},
              {"CONCH_REV", absl::StrCat(1000 + i)},
              {"CONCH_LEASE", "694d8b2c1a3e4f07"}};
  absl::StatusOr<std::unique_ptr<conch::Child>> child =
      conch::Child::Spawn(spec);
  close(fds[1]);
  close(fds[0]);
  if (!child.ok())
    std::fprintf(stderr, "%s\n", child.status().ToString().c_str());
}

}  // namespace

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
  bool conch_spawn = false;
  app.add_flag("--conch-spawn", conch_spawn,
               "start each as conchd does (pipe, Child::Spawn)");
  std::optional<int> job_nice;
  app.add_option("--job-nice", job_nice, "with --conch-spawn: the jobs' nice");
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
        if (conch_spawn) {
          ConchSpawn(command, i, job_nice);
          continue;
        }
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
      "spawn floor%s: %d x sh -c from %d threads, start offset ms p50 %.1f  "
      "p99 %.1f  max %.1f; all exited after %.1f ms\n",
      conch_spawn ? " (conch start path)" : "", count, threads, at(0.5),
      at(0.99), at(1.0), all_done);
  return 0;
}
