#include "conch/test_util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "testing/files.h"
#include "testing/poll.h"

namespace conch {

std::string ConchPath() {
  char* path = realpath(kConchBinary, nullptr);
  std::string out = path != nullptr ? path : kConchBinary;
  free(path);
  return out;
}

Scratch::Scratch() {
  absl::StatusOr<std::string> dir = test::MakeTempDir("conch-scratch");
  EXPECT_TRUE(dir.ok()) << dir.status();
  dir_ = dir.ok() ? *dir : "/tmp";
}

Scratch::~Scratch() { test::RemoveTree(dir_).IgnoreError(); }

std::optional<std::string> Scratch::Read(const std::string& name) const {
  absl::StatusOr<std::string> text = test::ReadFile(Path(name));
  if (!text.ok()) return std::nullopt;
  return *text;
}

bool Scratch::Exists(const std::string& name) const {
  return Read(name).has_value();
}

std::optional<std::string> Scratch::WaitFor(const std::string& name,
                                            absl::Time deadline) const {
  std::optional<std::string> got;
  test::PollUntil(
      [&] {
        got = Read(name);
        return got.has_value() && !got->empty();
      },
      deadline)
      .IgnoreError();
  if (got.has_value() && got->empty()) return std::nullopt;
  return got;
}

namespace {

std::vector<std::string> WithCommon(std::vector<std::string> args,
                                    const std::string& prefix,
                                    const std::string& endpoints,
                                    const std::string& binary = kConchBinary) {
  // Insert the common flags before "--" so they are not taken as the
  // child's arguments.
  std::vector<std::string> out = {binary};
  auto dashdash = std::find(args.begin(), args.end(), "--");
  out.insert(out.end(), args.begin(), dashdash);
  for (std::string f : {std::string("--endpoints"), endpoints,
                        std::string("--prefix"), prefix}) {
    out.push_back(f);
  }
  out.insert(out.end(), dashdash, args.end());
  return out;
}

}  // namespace

std::unique_ptr<ConchProcess> ConchProcess::Start(
    std::vector<std::string> args, const std::string& prefix,
    const test::EtcdServer& etcd, std::map<std::string, std::string> env,
    const std::string& binary) {
  return Start(std::move(args), prefix, etcd.endpoint(), std::move(env),
               binary);
}

std::unique_ptr<ConchProcess> ConchProcess::Start(
    std::vector<std::string> args, const std::string& prefix,
    const std::string& endpoints, std::map<std::string, std::string> env,
    const std::string& binary) {
  auto p = std::unique_ptr<ConchProcess>(new ConchProcess());
  absl::StatusOr<std::string> dir = test::MakeTempDir("conch-proc");
  EXPECT_TRUE(dir.ok());
  p->dir_ = *dir;
  p->out_path_ = p->dir_ + "/stdout";
  p->err_path_ = p->dir_ + "/stderr";
  test::SubprocessOptions o;
  o.argv = WithCommon(std::move(args), prefix, endpoints, binary);
  o.env = std::move(env);
  o.stdout_path = p->out_path_;
  o.stderr_path = p->err_path_;
  absl::StatusOr<std::unique_ptr<test::Subprocess>> proc =
      test::Subprocess::Start(o);
  EXPECT_TRUE(proc.ok()) << proc.status();
  if (!proc.ok()) return nullptr;
  p->proc_ = *std::move(proc);
  return p;
}

int ConchProcess::ExitCode(absl::Time deadline) {
  absl::StatusOr<int> status = proc_->Wait(deadline);
  if (!status.ok()) return -1;
  if (WIFEXITED(*status)) return WEXITSTATUS(*status);
  if (WIFSIGNALED(*status)) return 128 + WTERMSIG(*status);
  return -1;
}

std::string ConchProcess::Stdout() const {
  return test::ReadFile(out_path_).value_or("");
}

std::string ConchProcess::Stderr() const {
  return test::ReadFile(err_path_).value_or("");
}

test::CommandResult RunConch(std::vector<std::string> args,
                             const std::string& prefix,
                             const test::EtcdServer& etcd,
                             std::map<std::string, std::string> env) {
  return RunConch(std::move(args), prefix, etcd.endpoint(), std::move(env));
}

test::CommandResult RunConch(std::vector<std::string> args,
                             const std::string& prefix,
                             const std::string& endpoints,
                             std::map<std::string, std::string> env) {
  absl::StatusOr<test::CommandResult> r =
      test::RunCommand(WithCommon(std::move(args), prefix, endpoints),
                       absl::Seconds(60), std::move(env));
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : test::CommandResult{};
}

absl::Duration Scaled(absl::Duration bound) {
  const char* scale = std::getenv("CONCH_TIME_SCALE");
  int factor = 1;
  if (scale == nullptr || !absl::SimpleAtoi(scale, &factor) || factor < 1) {
    factor = 1;
  }
  return bound * factor;
}

std::vector<std::string> KeysUnder(const test::EtcdServer& etcd,
                                   const std::string& prefix) {
  absl::StatusOr<test::CommandResult> r =
      etcd.Etcdctl({"get", prefix, "--prefix", "--keys-only"});
  EXPECT_TRUE(r.ok() && r->Succeeded());
  std::vector<std::string> keys;
  if (!r.ok()) return keys;
  for (absl::string_view line : absl::StrSplit(r->out, '\n')) {
    if (!line.empty()) keys.emplace_back(line);
  }
  return keys;
}

std::optional<int64_t> FirstLease(const std::string& json) {
  const size_t at = json.find("\"lease\":\"");
  int64_t lease = 0;
  if (at == std::string::npos ||
      !absl::SimpleHexAtoi(json.substr(at + 9, 16), &lease)) {
    return std::nullopt;
  }
  return lease;
}

bool ProcessAlive(pid_t pid) {
  if (kill(pid, 0) != 0) return false;
  // A zombie (exited, not yet reaped by its parent) is not running. Plain
  // read(2): a process reaped while its stat file is open makes the read
  // fail with ESRCH, which std::ifstream turns into an exception.
  const int fd =
      open(absl::StrCat("/proc/", pid, "/stat").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[1024];
  const ssize_t n = read(fd, buf, sizeof(buf));
  close(fd);
  if (n <= 0) return false;
  const std::string content(buf, static_cast<size_t>(n));
  const size_t close = content.rfind(')');
  if (close == std::string::npos || close + 2 >= content.size()) return false;
  return content[close + 2] != 'Z';
}

int64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

}  // namespace conch
