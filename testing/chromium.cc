#include "testing/chromium.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "testing/files.h"
#include "testing/poll.h"
#include "testing/subprocess.h"

namespace conch::test {
namespace {

constexpr int kStderrTailLines = 20;
// How long Chromium's crash handlers, which leave the process group, get to
// notice that the browser is gone.
constexpr absl::Duration kStragglerTimeout = absl::Seconds(5);
constexpr absl::Duration kReapTimeout = absl::Seconds(10);
// Chromium logs this (and exits 0) when the page did not load.
constexpr absl::string_view kLoadFailed = "Page load failed: ";
constexpr absl::string_view kPngSignature = "\x89PNG\r\n\x1a\n";

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

// The last lines of Chromium's stderr, without the D-Bus errors it prints
// on machines without a bus.
std::string StderrTail(absl::string_view err) {
  std::vector<absl::string_view> kept;
  for (absl::string_view line : absl::StrSplit(err, '\n', absl::SkipEmpty())) {
    if (!absl::StrContains(line, "dbus/")) kept.push_back(line);
  }
  return LastLines(absl::StrJoin(kept, "\n"), kStderrTailLines);
}

// Pids of live processes other than this one whose command line mentions
// `dir`: what is left of a Chromium run whose scratch directory it is.
std::vector<pid_t> ProcessesUsing(const std::string& dir) {
  std::vector<pid_t> pids;
  DirPtr proc(opendir("/proc"));
  if (proc == nullptr) return pids;
  while (dirent* entry = readdir(proc.get())) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &pid) || pid == getpid()) continue;
    absl::StatusOr<std::string> cmdline =
        ReadFile(absl::StrCat("/proc/", pid, "/cmdline"));
    // A zombie has an empty command line.
    if (cmdline.ok() && absl::StrContains(*cmdline, dir)) pids.push_back(pid);
  }
  return pids;
}

// Waits for processes that use `dir` to exit; SIGKILLs those that do not.
void EndStragglers(const std::string& dir) {
  if (PollUntil([&] { return ProcessesUsing(dir).empty(); },
                absl::Now() + kStragglerTimeout, absl::Milliseconds(50))
          .ok()) {
    return;
  }
  for (const pid_t pid : ProcessesUsing(dir)) kill(pid, SIGKILL);
}

absl::Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0700) != 0) {
    return absl::InternalError(
        absl::StrCat("mkdir ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// Runs `body` with a fresh scratch directory, deleted afterwards.
template <typename T, typename F>
T WithScratchDir(F body) {
  absl::StatusOr<std::string> dir = MakeTempDir("conch-chromium-");
  if (!dir.ok()) return dir.status();
  T result = body(*dir);
  RemoveTree(*dir).IgnoreError();
  return result;
}

}  // namespace

absl::StatusOr<HeadlessChromium> HeadlessChromium::Create(
    HeadlessChromiumOptions options) {
  absl::StatusOr<std::string> binary = FindProgram(options.binary);
  if (!binary.ok()) return binary.status();
  return HeadlessChromium(std::move(options), *std::move(binary));
}

absl::StatusOr<HeadlessChromium::RunResult> HeadlessChromium::Run(
    const std::string& dir, const std::string& url,
    const std::vector<std::string>& mode_flags, absl::Time deadline) const {
  if (url.empty() || url[0] == '-') {
    return absl::InvalidArgumentError(absl::StrCat("bad URL \"", url, "\""));
  }
  SubprocessOptions options;
  options.argv = {
      binary_path_,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      absl::StrCat("--user-data-dir=", dir, "/profile"),
      "--hide-scrollbars",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
  };
  if (options_.virtual_time_budget > absl::ZeroDuration()) {
    options.argv.push_back(
        absl::StrCat("--virtual-time-budget=",
                     absl::ToInt64Milliseconds(options_.virtual_time_budget)));
  }
  options.argv.insert(options.argv.end(), options_.extra_flags.begin(),
                      options_.extra_flags.end());
  options.argv.insert(options.argv.end(), mode_flags.begin(), mode_flags.end());
  options.argv.push_back(url);
  // XDG_CONFIG_HOME also holds the crash handler's database, which would
  // otherwise go to ~/.config/chromium.
  options.env["XDG_CONFIG_HOME"] = absl::StrCat(dir, "/config");
  options.env["XDG_CACHE_HOME"] = absl::StrCat(dir, "/cache");
  const char* home = std::getenv("HOME");
  const bool set_home = home == nullptr || home[0] == '\0';
  if (set_home) options.env["HOME"] = absl::StrCat(dir, "/home");
  for (const auto& [name, path] : options.env) {
    if (absl::Status s = MakeDir(path); !s.ok()) return s;
  }
  options.stdout_path = absl::StrCat(dir, "/stdout");
  options.stderr_path = absl::StrCat(dir, "/stderr");
  options.own_process_group = true;

  absl::StatusOr<std::unique_ptr<Subprocess>> child =
      Subprocess::Start(options);
  if (!child.ok()) return child.status();
  absl::StatusOr<int> status = (*child)->Wait(deadline);
  const bool timed_out = !status.ok();
  // Renderers, the GPU process and zygotes share the group; whatever of
  // them outlived the browser goes too.
  (*child)->SignalGroup(SIGKILL).IgnoreError();
  if (timed_out) status = (*child)->Wait(absl::Now() + kReapTimeout);
  child->reset();
  EndStragglers(dir);

  RunResult result;
  result.out = ReadFile(options.stdout_path).value_or("");
  result.err = ReadFile(options.stderr_path).value_or("");
  const std::string what = absl::StrCat("chromium on ", url);
  if (timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat(what, " did not finish in time; killed it. stderr:\n",
                     StderrTail(result.err)));
  }
  if (!status.ok()) return status.status();
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return absl::InternalError(
        absl::StrCat(what, " ", DescribeWaitStatus(*status), "; stderr:\n",
                     StderrTail(result.err)));
  }
  absl::string_view reason(result.err);
  const size_t failed = reason.find(kLoadFailed);
  if (failed != absl::string_view::npos) {
    reason.remove_prefix(failed + kLoadFailed.size());
    reason = reason.substr(0, reason.find('\n'));
    return absl::UnavailableError(
        absl::StrCat(what, ": the page did not load: ", reason));
  }
  return result;
}

absl::StatusOr<std::string> HeadlessChromium::DumpDom(
    const std::string& url, absl::Time deadline) const {
  return WithScratchDir<absl::StatusOr<std::string>>(
      [&](const std::string& dir) -> absl::StatusOr<std::string> {
        absl::StatusOr<RunResult> r = Run(dir, url, {"--dump-dom"}, deadline);
        if (!r.ok()) return r.status();
        if (absl::StripAsciiWhitespace(r->out).empty()) {
          return absl::UnavailableError(
              absl::StrCat("chromium printed no DOM for ", url, "; stderr:\n",
                           StderrTail(r->err)));
        }
        return std::move(r->out);
      });
}

absl::Status HeadlessChromium::Screenshot(const std::string& url,
                                          const std::string& png_path,
                                          int width, int height,
                                          absl::Time deadline) const {
  if (width <= 0 || height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad screenshot size ", width, "x", height));
  }
  return WithScratchDir<absl::Status>(
      [&](const std::string& dir) -> absl::Status {
        // Chromium picks the format from the name; it writes to the scratch
        // directory so that png_path only ever holds a complete PNG.
        const std::string shot = absl::StrCat(dir, "/screenshot.png");
        absl::StatusOr<RunResult> r =
            Run(dir, url,
                {absl::StrCat("--screenshot=", shot),
                 absl::StrCat("--window-size=", width, ",", height)},
                deadline);
        if (!r.ok()) return r.status();
        absl::StatusOr<std::string> png = ReadFile(shot);
        if (!png.ok() || !absl::StartsWith(*png, kPngSignature)) {
          return absl::InternalError(absl::StrCat(
              "chromium wrote no PNG for ", url,
              png.ok() ? "" : absl::StrCat(" (", png.status().message(), ")"),
              "; stderr:\n", StderrTail(r->err)));
        }
        return WriteFile(png_path, *png);
      });
}

}  // namespace conch::test
