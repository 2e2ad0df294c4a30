#include "core/etcd/types.h"

#include "gtest/gtest.h"

namespace conch::etcd {
namespace {

TEST(LeaseHexTest, FixedWidthLowerCase) {
  EXPECT_EQ(LeaseHex(0x694d7c3b1d2a0f0e), "694d7c3b1d2a0f0e");
  EXPECT_EQ(LeaseHex(0xab), "00000000000000ab");
  EXPECT_EQ(LeaseHex(-1), "ffffffffffffffff");
}

TEST(LeaseHexTest, RoundTrip) {
  for (LeaseId id : {LeaseId{1}, LeaseId{0x7fffffffffffffff},
                     LeaseId{0x694d7c3b1d2a0f0e}, LeaseId{-2}}) {
    absl::StatusOr<LeaseId> back = ParseLeaseHex(LeaseHex(id));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, id);
  }
  EXPECT_EQ(*ParseLeaseHex("AB"), 0xab);
}

TEST(LeaseHexTest, RejectsNonHex) {
  for (const char* bad : {"", "xyz", "12345678901234567", "-1", "0x1"}) {
    EXPECT_FALSE(ParseLeaseHex(bad).ok()) << bad;
  }
}

TEST(PrefixRangeEndTest, IncrementsLastByte) {
  EXPECT_EQ(PrefixRangeEnd("/conch/"), "/conch0");
  EXPECT_EQ(PrefixRangeEnd("a"), "b");
  EXPECT_EQ(PrefixRangeEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixRangeEnd(std::string("\xff\xff", 2)), std::string(1, '\0'));
  EXPECT_EQ(PrefixRangeEnd(""), std::string(1, '\0'));
}

}  // namespace
}  // namespace conch::etcd
