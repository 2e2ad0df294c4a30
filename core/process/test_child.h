// Test helpers for tests that start real processes through conch::Child
// (the fuse, the wrapper): a shell in its own group, and waiting for it.
//
// Test-only. Not thread-safe; call from the test's thread.
//
// Example:
//   std::unique_ptr<Child> c = test::SpawnShell("sleep 300");
//   ASSERT_NE(c, nullptr);
//   (*fuse)->Arm(c->pgid(), MonoNow() + absl::Milliseconds(100));
//   EXPECT_TRUE(WIFSIGNALED(test::WaitExit(*c, absl::Now() +
//   absl::Seconds(5))));
#ifndef CONCH_CORE_PROCESS_TEST_CHILD_H_
#define CONCH_CORE_PROCESS_TEST_CHILD_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "core/process/child.h"

namespace conch::test {

// `sh -c script` in its own process group, no terminal; nullptr (after a
// gtest failure) if it cannot be started.
std::unique_ptr<Child> SpawnShell(const std::string& script);

// Polls until the child exits, up to `deadline`; its wait status, or -1 if
// it did not exit by then.
int WaitExit(const Child& child, absl::Time deadline);

}  // namespace conch::test

#endif  // CONCH_CORE_PROCESS_TEST_CHILD_H_
