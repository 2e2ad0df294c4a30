#include "conch/exit_codes.h"

#include <string>

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

TEST(OneLineTest, EscapesControlCharactersAndKeepsTheRest) {
  EXPECT_EQ(OneLine("evil\nname"), "evil\\nname");
  EXPECT_EQ(OneLine("a\tb\rc"), "a\\tb\\rc");
  EXPECT_EQ(OneLine("\x1b[31mred\x7f"), "\\x1b[31mred\\x7f");
  EXPECT_EQ(OneLine(std::string("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(OneLine("h\xC3\xA9 \"quoted\""), "h\xC3\xA9 \"quoted\"");
}

}  // namespace
}  // namespace conch
