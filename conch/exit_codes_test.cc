#include "conch/exit_codes.h"

#include "gtest/gtest.h"

namespace conch {
namespace {

TEST(ExitCodeForTest, FollowsTheDocumentedTable) {
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), 0);
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("bad flag")), 64);
  EXPECT_EQ(ExitCodeFor(absl::OutOfRangeError("bad value")), 64);
  EXPECT_EQ(ExitCodeFor(absl::PermissionDeniedError("no")), 77);
  EXPECT_EQ(ExitCodeFor(absl::UnauthenticatedError("no")), 77);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("down")), 69);
  EXPECT_EQ(ExitCodeFor(absl::DeadlineExceededError("slow")), 69);
}

}  // namespace
}  // namespace conch
