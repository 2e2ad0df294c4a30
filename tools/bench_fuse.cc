// bench_fuse: how late the fuse's SIGKILL lands, the number behind
// StopPlan::kMargin (core/process/stop_plan.h).
//
// For each sample: a child that ignores SIGTERM and burns CPU in its own
// process group, a fuse armed with a deadline 300 ms away (--kill-after
// 100 ms: SIGTERM at -200 ms, SIGKILL at -100 ms), and a blocking waitpid.
// Lateness is when waitpid returned minus the planned SIGKILL instant:
// the guard's timer, the signal's delivery and the kernel's teardown of
// the group, everything the margin must cover. With --load N, N busy
// loops run beside it (the machine at full use), and the guard competes
// with them like any process.
//
//   bench_fuse --samples 200 --load 2
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/time/clock.h"
#include "core/base/mono_time.h"
#include "core/process/child.h"
#include "core/process/fuse.h"
#include "core/process/stop_plan.h"

namespace {

std::unique_ptr<conch::Child> SpawnShell(const std::string& script) {
  conch::ChildSpec spec;
  spec.path = "/bin/sh";
  spec.argv = {"sh", "-c", script};
  spec.take_terminal = false;
  absl::StatusOr<std::unique_ptr<conch::Child>> c = conch::Child::Spawn(spec);
  return c.ok() ? *std::move(c) : nullptr;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t i = std::min(
      v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"How late the fuse's SIGKILL lands (see the source)"};
  int samples = 200;
  int load = 0;
  app.add_option("--samples", samples, "how many stops to time");
  app.add_option("--load", load, "busy loops to run beside it");
  CLI11_PARSE(app, argc, argv);

  std::vector<std::unique_ptr<conch::Child>> hogs;
  for (int i = 0; i < load; ++i)
    hogs.push_back(SpawnShell("while :; do :; done"));
  const absl::Duration kill_after = absl::Milliseconds(100);
  absl::StatusOr<std::unique_ptr<conch::Fuse>> fuse =
      conch::Fuse::Start(kill_after);
  std::vector<double> late_ms;
  for (int i = 0; i < samples; ++i) {
    if (!fuse.ok() || (*fuse)->Fired()) fuse = conch::Fuse::Start(kill_after);
    if (!fuse.ok()) {
      std::fprintf(stderr, "bench_fuse: %s\n",
                   std::string(fuse.status().message()).c_str());
      return 1;
    }
    std::unique_ptr<conch::Child> child =
        SpawnShell("trap '' TERM; while :; do :; done");
    if (child == nullptr) return 1;
    const conch::MonoTime deadline = conch::MonoNow() + absl::Milliseconds(300);
    const conch::MonoTime kill_at =
        conch::StopPlan{kill_after}.KillAt(deadline);
    (*fuse)->Arm(child->pgid(), deadline);
    int status;
    while (waitpid(child->pid(), &status, 0) < 0 && errno == EINTR) {
    }
    late_ms.push_back(absl::ToDoubleMilliseconds(conch::MonoNow() - kill_at));
  }
  for (auto& h : hogs) {
    h->SignalGroup(SIGKILL);
    int status;
    waitpid(h->pid(), &status, 0);
  }
  std::printf(
      "fuse SIGKILL -> child reaped, %d samples, %d busy loops beside it: "
      "p50 %.2f ms  p99 %.2f ms  max %.2f ms  (margin %.0f ms)\n",
      samples, load, Percentile(late_ms, 0.5), Percentile(late_ms, 0.99),
      *std::max_element(late_ms.begin(), late_ms.end()),
      absl::ToDoubleMilliseconds(conch::StopPlan::kMargin));
  return 0;
}
