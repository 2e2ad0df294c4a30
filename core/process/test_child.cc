#include "core/process/test_child.h"

#include <sys/wait.h>

#include "gtest/gtest.h"
#include "testing/poll.h"

namespace conch::test {

std::unique_ptr<Child> SpawnShell(const std::string& script) {
  ChildSpec spec;
  spec.path = "/bin/sh";
  spec.argv = {"sh", "-c", script};
  spec.take_terminal = false;
  absl::StatusOr<std::unique_ptr<Child>> child = Child::Spawn(spec);
  EXPECT_TRUE(child.ok()) << child.status();
  return child.ok() ? *std::move(child) : nullptr;
}

int WaitExit(const Child& child, absl::Time deadline) {
  int status = -1;
  PollUntil(
      [&] { return waitpid(child.pid(), &status, WNOHANG) == child.pid(); },
      deadline)
      .IgnoreError();
  return status;
}

}  // namespace conch::test
