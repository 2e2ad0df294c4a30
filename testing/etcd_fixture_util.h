// Helpers shared by the etcd fixtures (EtcdServer, EtcdCluster): free
// loopback ports, the frozen-process check, the owner lock of a scratch
// directory, the current test's verdict and the log copy names.
//
// Private to testing/ (see BUILD.bazel). Functions are thread-safe unless
// noted.
//
// Example:
//   absl::StatusOr<std::vector<int>> ports = internal::PickFreePorts(3);
#ifndef CONCH_TESTING_ETCD_FIXTURE_UTIL_H_
#define CONCH_TESTING_ETCD_FIXTURE_UTIL_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace conch::test::internal {

// The fixtures' scratch directories start with kRootPrefix and hold the
// owner lock kLockName, so EtcdServer's sweep of directories left by
// crashed test binaries covers clusters too.
inline constexpr char kRootPrefix[] = "conch-etcd-";
inline constexpr char kLockName[] = ".owner.lock";

// The etcd and etcdctl binaries (from PATH, else /usr/bin).
struct EtcdBinaries {
  std::string etcd;
  std::string etcdctl;
};
absl::StatusOr<EtcdBinaries> FindEtcdBinaries();

// A fresh scratch directory (kRootPrefix…, in /dev/shm when possible) with
// its owner lock taken (see LockRoot).
struct LockedRoot {
  std::string path;
  int lock_fd = -1;
};
absl::StatusOr<LockedRoot> MakeLockedRoot();

// Binds `count` sockets to 127.0.0.1:0 at once (so the ports differ) and
// returns the ports the kernel chose. They are free again on return; etcd
// binds them a moment later, and the fixtures retry if something else won.
absl::StatusOr<std::vector<int>> PickFreePorts(int count);

// Every thread of `pid` is in the stopped state ('T', or 't' when traced).
bool AllThreadsStopped(pid_t pid);

// Takes the owner lock of `root`; the kernel releases it when this process
// dies, however it dies. Returns the locked descriptor.
absl::StatusOr<int> LockRoot(const std::string& root);

// Whether the running test (or, outside a test, the whole program) failed.
bool CurrentTestFailed();

// "<label>-<Suite.Test>-<pid>-<n>[-<suffix>].log": a unique name for a copy
// of an etcd log in the test's outputs.
std::string LogCopyName(absl::string_view label, absl::string_view suffix);

// For a failed test: prints the last `tail_lines` lines of the server log at
// `log_path` to stderr, framed as "==== last N lines of <label> log ...",
// and saves the whole log in the test's outputs (LogCopyName(label, "")).
void PreserveServerLog(absl::string_view label, const std::string& log_path,
                       int tail_lines);

// Appends `text` to `path` (created 0600); errors are ignored.
void AppendToFile(const std::string& path, absl::string_view text);

}  // namespace conch::test::internal

#endif  // CONCH_TESTING_ETCD_FIXTURE_UTIL_H_
