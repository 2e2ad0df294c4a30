#include "conch/json_writer.h"

#include "gtest/gtest.h"

namespace conch {
namespace {

TEST(JsonWriterTest, WritesAFlatObject) {
  JsonWriter w;
  w.BeginObject();
  w.Field("name", "x");
  w.Field("rev", int64_t{-17});
  w.Field("ok", true);
  w.EndObject();
  EXPECT_EQ(w.Finish(), R"({"name":"x","rev":-17,"ok":true})");
  EXPECT_EQ(JsonWriter().BeginObject().EndObject().Finish(), "{}");
}

TEST(JsonWriterTest, NestsArraysAndObjects) {
  JsonWriter w;
  w.BeginObject().Field("name", "s").Key("groups").BeginArray();
  for (int64_t max : {1, 2}) {
    w.BeginObject().Field("max", max).Key("holders").BeginArray();
    w.String("a").Int(max).Null();
    w.EndArray().Key("waiters").BeginArray().EndArray().EndObject();
  }
  w.EndArray().Key("last").Null().EndObject();
  EXPECT_EQ(w.Finish(),
            R"({"name":"s","groups":[{"max":1,"holders":["a",1,null],)"
            R"("waiters":[]},{"max":2,"holders":["a",2,null],"waiters":[]}],)"
            R"("last":null})");
}

TEST(JsonWriterTest, SplicesAStoredObjectsMembers) {
  JsonWriter w;
  w.BeginObject().Members(R"( {"host":"h","pid":7} )").Field("rev", int64_t{9});
  w.EndObject();
  EXPECT_EQ(w.Finish(), R"({"host":"h","pid":7,"rev":9})");
  // An empty or non-object record adds nothing; the commas stay right.
  JsonWriter e;
  e.BeginObject().Members("{}").Members("not json").Field("rev", int64_t{1});
  e.Members(R"({"k":true})").EndObject();
  EXPECT_EQ(e.Finish(), R"({"rev":1,"k":true})");
}

TEST(JsonWriterTest, WritesRawValuesAndTopLevelArrays) {
  JsonWriter w;
  w.BeginArray().Raw(R"({"a":1})").Raw("[2]").Bool(false).EndArray();
  EXPECT_EQ(w.Finish(), R"([{"a":1},[2],false])");
}

TEST(JsonWriterTest, FinishClosesWhatIsOpen) {
  JsonWriter w;
  w.BeginObject().Key("list").BeginArray().Int(1);
  EXPECT_EQ(w.Finish(), R"({"list":[1]})");
}

TEST(JsonWriterTest, EscapesStrings) {
  EXPECT_EQ(JsonWriter::Quote("a\"b\\c\n\t\x01"), R"("a\"b\\c\n\t\u0001")");
  // UTF-8 passes through untouched.
  EXPECT_EQ(JsonWriter::Quote("h\xC3\xA9"), "\"h\xC3\xA9\"");
}

}  // namespace
}  // namespace conch
