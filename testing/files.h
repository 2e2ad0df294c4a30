// Scratch files for test fixtures: fresh temporary directories, recursive
// removal, and whole-file reads and writes.
//
// Contract: MakeTempDir creates a new, empty, private (0700) directory whose
// name starts with `prefix` and returns its absolute path. The location is,
// in order of preference: /dev/shm (only when `prefer_shm` is true and it is
// writable; raft fsyncs there are nearly free), $TEST_TMPDIR (set by Bazel),
// then /tmp. The caller owns the directory and removes it with RemoveTree.
//
// Ownership and thread-safety: the functions keep no state and are safe to
// call from any thread.
//
// Example:
//   absl::StatusOr<std::string> dir =
//       conch::test::MakeTempDir("etcd-", /*prefer_shm=*/true);
//   if (!dir.ok()) return dir.status();
//   absl::Status s = conch::test::WriteFile(*dir + "/a.txt", "hello");
//   ...
//   conch::test::RemoveTree(*dir).IgnoreError();
#ifndef CONCH_TESTING_FILES_H_
#define CONCH_TESTING_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace conch::test {

// Creates a fresh directory named `<prefix>XXXXXX` (see header comment for
// where). Returns its path.
absl::StatusOr<std::string> MakeTempDir(absl::string_view prefix,
                                        bool prefer_shm = false);

// Removes `path` and everything below it. Removing a missing path is OK.
absl::Status RemoveTree(const std::string& path);

// Reads the whole file at `path`.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Creates or truncates `path` and writes `contents` to it.
absl::Status WriteFile(const std::string& path, absl::string_view contents);

// Returns the last `max_lines` lines of `text` (all of it if shorter).
std::string LastLines(absl::string_view text, int max_lines);

}  // namespace conch::test

#endif  // CONCH_TESTING_FILES_H_
