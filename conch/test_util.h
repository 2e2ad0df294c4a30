// Test-only helpers for end-to-end tests of the conch binary: start it as a
// real process against a test etcd, signal it, wait for its exit code, and
// read what the children it ran wrote into a scratch directory.
//
// Example:
//   Scratch dir;
//   std::unique_ptr<ConchProcess> a = ConchProcess::Start(
//       {"elect", "x", "--", "sh", "-c", "echo $CONCH_REV > " + dir.Path("a")},
//       prefix);
//   EXPECT_EQ(a->ExitCode(absl::Now() + absl::Seconds(10)), 0);
#ifndef CONCH_CONCH_TEST_UTIL_H_
#define CONCH_CONCH_TEST_UTIL_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "testing/etcd_server.h"
#include "testing/subprocess.h"

namespace conch {

// The conch binary in the test's runfiles.
inline constexpr char kConchBinary[] = "conch/conch";
// The conchd binary in the test's runfiles.
inline constexpr char kConchdBinary[] = "conch/conchd";

// The absolute path of the conch binary, for a command line typed into a
// shell that runs elsewhere (a pseudo-terminal's `bash -i`).
std::string ConchPath();

// A scratch directory removed at destruction.
class Scratch {
 public:
  Scratch();
  ~Scratch();
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  // The file's content, or nullopt if it does not exist (yet).
  std::optional<std::string> Read(const std::string& name) const;
  // Waits until the file exists and is non-empty.
  std::optional<std::string> WaitFor(const std::string& name,
                                     absl::Time deadline) const;
  bool Exists(const std::string& name) const;

 private:
  std::string dir_;
};

class ConchProcess {
 public:
  // Runs `conch ARGS --endpoints <etcd> --prefix <prefix>` (common flags are
  // accepted after the subcommand's own). stdout/stderr go to files.
  static std::unique_ptr<ConchProcess> Start(
      std::vector<std::string> args, const std::string& prefix,
      const test::EtcdServer& etcd, std::map<std::string, std::string> env = {},
      const std::string& binary = kConchBinary);
  // The same against any endpoint list (a cluster's).
  static std::unique_ptr<ConchProcess> Start(
      std::vector<std::string> args, const std::string& prefix,
      const std::string& endpoints, std::map<std::string, std::string> env = {},
      const std::string& binary = kConchBinary);

  pid_t pid() const { return proc_->pid(); }
  absl::Status Signal(int sig) { return proc_->Signal(sig); }
  bool Running() { return proc_->Running(); }
  // Exit code (128+S if killed by S), or -1 if still running at `deadline`.
  int ExitCode(absl::Time deadline);
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  std::unique_ptr<test::Subprocess> proc_;
  std::string out_path_;
  std::string err_path_;
  std::string dir_;
};

// Runs conch to completion (for --who, --nonblock, bad input).
test::CommandResult RunConch(std::vector<std::string> args,
                             const std::string& prefix,
                             const test::EtcdServer& etcd,
                             std::map<std::string, std::string> env = {});
test::CommandResult RunConch(std::vector<std::string> args,
                             const std::string& prefix,
                             const std::string& endpoints,
                             std::map<std::string, std::string> env = {});

// A time bound of the contract, scaled by $CONCH_TIME_SCALE (default 1):
// the sanitizer configs set 3, as their processes start and run several
// times slower. The plain build asserts the contract's number as it is.
absl::Duration Scaled(absl::Duration bound);

// Keys under `prefix` (etcdctl get --prefix --keys-only).
std::vector<std::string> KeysUnder(const test::EtcdServer& etcd,
                                   const std::string& prefix);

// The first "lease":"<hex>" in `json` (a --who --json answer), or nullopt.
std::optional<int64_t> FirstLease(const std::string& json);

// Whether process `pid` exists (a zombie counts as gone).
bool ProcessAlive(pid_t pid);

// CLOCK_REALTIME in ns, as `date +%s%N` writes it in the children.
int64_t NowNs();

}  // namespace conch

#endif  // CONCH_CONCH_TEST_UTIL_H_
