#include "conch/json_writer.h"

#include "gtest/gtest.h"

namespace conch {
namespace {

TEST(JsonWriterTest, WritesOneFlatObject) {
  JsonWriter w;
  w.Field("name", "x");
  w.Field("rev", int64_t{-17});
  w.Field("ok", true);
  EXPECT_EQ(w.Finish(), R"({"name":"x","rev":-17,"ok":true})");
  EXPECT_EQ(JsonWriter().Finish(), "{}");
}

TEST(JsonWriterTest, EscapesStrings) {
  EXPECT_EQ(JsonWriter::Quote("a\"b\\c\n\t\x01"), R"("a\"b\\c\n\t\u0001")");
  // UTF-8 passes through untouched.
  EXPECT_EQ(JsonWriter::Quote("h\xC3\xA9"), "\"h\xC3\xA9\"");
}

}  // namespace
}  // namespace conch
