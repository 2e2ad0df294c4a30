#include "conch/json_writer.h"

#include <cmath>

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

TEST(JsonWriterTest, WritesDoublesShortestAndExact) {
  JsonWriter w;
  w.BeginArray().Double(0.1).Double(1.5).Double(-2).Double(0).Double(1e21);
  w.Double(123.456).Double(1.0 / 3).EndArray();
  EXPECT_EQ(w.Finish(), "[0.1,1.5,-2,0,1e+21,123.456,0.3333333333333333]");
  JsonWriter f;
  f.BeginObject().Field("seconds", 2.25).Field("n", int64_t{2});
  f.Key("inf").Double(HUGE_VAL).Key("nan").Double(std::nan("")).EndObject();
  EXPECT_EQ(f.Finish(), R"({"seconds":2.25,"n":2,"inf":null,"nan":null})");
}

TEST(JsonWriterTest, EscapesStrings) {
  EXPECT_EQ(JsonWriter::Quote("a\"b\\c\n\t\x01"), R"("a\"b\\c\n\t\u0001")");
  // UTF-8 passes through untouched.
  EXPECT_EQ(JsonWriter::Quote("h\xC3\xA9"), "\"h\xC3\xA9\"");
}

}  // namespace
}  // namespace conch
