// Tests of the JSON records: round trips, strict types, unknown fields,
// corrupt input, holder validation, RFC 3339 times and UTF-8 helpers.
//
// The properties (RC_GTEST_PROP) use rapidcheck, which picks a random seed on
// each run and prints it with any counterexample. To replay a failure:
//   bazel test //core:records_test --test_env=RC_PARAMS="seed=N"
// (or RC_PARAMS="reproduce=..." as printed by rapidcheck).
#include "core/records/records.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace conch::records {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;

// Asserts `s` is InvalidArgument with a one-line message containing `want`.
void ExpectInvalid(const absl::Status& s, absl::string_view want) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(want));
  EXPECT_FALSE(absl::StrContains(s.message(), "\n")) << s.message();
}

template <typename M>
M RoundTrip(const M& m) {
  absl::StatusOr<std::string> json = ToJson(m);
  EXPECT_TRUE(json.ok()) << json.status();
  M back;
  absl::Status s = FromJson(json.value_or(""), &back);
  EXPECT_TRUE(s.ok()) << s;
  return back;
}

Holder SampleHolder() {
  Holder h;
  h.set_host("db1.example");
  h.set_pid(4242);
  h.set_user("alice");
  h.set_since("2026-11-27T02:45:33.123Z");
  h.set_lease("694d77f5c1a2b3c4");
  h.add_argv("pg_dump");
  h.add_argv("--all");
  return h;
}

TEST(RecordsTest, HolderJsonIsCompactSnakeCaseWithEveryPlainField) {
  Holder h = SampleHolder();
  EXPECT_EQ(*ToJson(h),
            R"({"host":"db1.example","pid":4242,"user":"alice",)"
            R"("since":"2026-11-27T02:45:33.123Z","lease":"694d77f5c1a2b3c4",)"
            R"("argv":["pg_dump","--all"],"state":""})");
  h.set_state("holding");
  h.set_slot(0);  // Slot 0 is meaningful: written once set.
  EXPECT_THAT(*ToJson(h), HasSubstr(R"("state":"holding","slot":0})"));
  EXPECT_EQ(*ToJson(Holder()),
            R"({"host":"","pid":0,"user":"","since":"","lease":"",)"
            R"("argv":[],"state":""})");
}

TEST(RecordsTest, ResultWritesExitCodeOrSignalOnlyWhenSet) {
  Result r;
  r.set_daemon("d1");
  EXPECT_FALSE(absl::StrContains(*ToJson(r), "exit_code"));
  EXPECT_FALSE(absl::StrContains(*ToJson(r), "signal"));
  r.set_exit_code(0);
  EXPECT_THAT(*ToJson(r), HasSubstr(R"("exit_code":0)"));
  r.set_signal(9);  // A oneof: replaces the exit code.
  EXPECT_THAT(*ToJson(r), HasSubstr(R"("signal":9)"));
  EXPECT_FALSE(absl::StrContains(*ToJson(r), "exit_code"));

  Result both;
  ExpectInvalid(FromJson(R"({"exit_code":1,"signal":2})", &both),
                "bad Result record");
}

TEST(RecordsTest, EveryRecordRoundTrips) {
  Holder h = SampleHolder();
  h.set_state("waiting");
  h.set_slot(3);
  EXPECT_TRUE(MessageDifferencer::Equals(RoundTrip(h), h));

  Job j;
  j.set_schedule("30 2 * * *");
  j.set_tz("Europe/Berlin");
  j.add_argv("backup");
  j.add_argv("--full");
  j.set_overlap("skip");
  j.set_created("2026-01-02T03:04:05.006Z");
  EXPECT_TRUE(MessageDifferencer::Equals(RoundTrip(j), j));
  EXPECT_THAT(*ToJson(j), HasSubstr(R"("tz":"Europe/Berlin")"));

  Claim c;
  c.set_daemon("d1");
  c.set_lease("00000000000000ff");
  c.set_claimed_at("2026-01-02T03:04:05.006Z");
  EXPECT_TRUE(MessageDifferencer::Equals(RoundTrip(c), c));
  EXPECT_THAT(*ToJson(c), HasSubstr(R"("claimed_at":)"));

  Result r;
  r.set_daemon("d2");
  r.set_started("2026-01-02T03:04:05.006Z");
  r.set_ended("2026-01-02T03:04:07.000Z");
  r.set_exit_code(3);
  r.set_output_tail("done \xC3\xA9\n");
  const Result rr = RoundTrip(r);
  EXPECT_TRUE(MessageDifferencer::Equals(rr, r));
  EXPECT_TRUE(rr.has_exit_code());
  r.set_signal(15);
  EXPECT_EQ(RoundTrip(r).signal(), 15);
  EXPECT_FALSE(RoundTrip(r).has_exit_code());

  Daemon d;
  d.set_host("h");
  d.set_pid(1);
  d.set_since("2026-01-02T03:04:05.006Z");
  d.set_version("0.1.0");
  EXPECT_TRUE(MessageDifferencer::Equals(RoundTrip(d), d));
}

TEST(RecordsTest, UnknownFieldsAreIgnored) {
  Holder h;
  ASSERT_TRUE(FromJson(R"({"host":"h","future":{"x":[1,"a",null]},)"
                       R"("pid":7,"newer_flag":true})",
                       &h)
                  .ok());
  EXPECT_EQ(h.host(), "h");
  EXPECT_EQ(h.pid(), 7);
}

TEST(RecordsTest, WrongTypesAreRejectedNamingTheField) {
  struct Case {
    const char* json;
    const char* field;
  } cases[] = {
      {R"({"pid":"abc"})", "pid"},     {R"({"argv":3})", "argv"},
      {R"({"argv":[3]})", "argv"},     {R"({"host":5})", "host"},
      {R"({"host":true})", "host"},    {R"({"pid":1.5})", "pid"},
      {R"({"slot":"x"})", "slot"},     {R"({"pid":99999999999})", "pid"},
      {R"({"since":["a"]})", "since"},
  };
  for (const Case& c : cases) {
    Holder h;
    h.set_host("stale");
    const absl::Status s = FromJson(c.json, &h);
    ExpectInvalid(s, "bad Holder record");
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.field)) << c.json;
    EXPECT_TRUE(h.host().empty()) << "output not cleared for " << c.json;
  }
}

TEST(RecordsTest, CorruptJsonIsRejectedWithAOneLineMessage) {
  for (const std::string& bad : {
           std::string(R"({"host":"a")"),  // Truncated.
           std::string(),
           std::string("{"),
           std::string("[]"),
           std::string(R"("holder")"),
           std::string(R"({"host":"a"} trailing)"),
           std::string("{\"host\":\"\xff\"}"),  // Not UTF-8.
           std::string("\0\x01garbage", 9),
       }) {
    Holder h;
    ExpectInvalid(FromJson(bad, &h), "bad Holder record: ");
  }
}

TEST(RecordsTest, ProtobufJsonLeniencesAreAccepted) {
  Holder h;
  ASSERT_TRUE(FromJson(R"({"pid":"12","slot":null})", &h).ok());
  EXPECT_EQ(h.pid(), 12);
  EXPECT_FALSE(h.has_slot());
  Result r;
  ASSERT_TRUE(FromJson(R"({"exitCode":2})", &r).ok());
  EXPECT_EQ(r.exit_code(), 2);
}

TEST(RecordsTest, ToJsonRefusesInvalidUtf8) {
  Holder h = SampleHolder();
  h.add_argv("ok");
  h.add_argv("bad\xff");
  absl::StatusOr<std::string> json = ToJson(h);
  ASSERT_FALSE(json.ok());
  ExpectInvalid(json.status(), "Holder field argv[3] is not valid UTF-8");

  Result r;
  r.set_output_tail("\xC3");
  ExpectInvalid(ToJson(r).status(), "output_tail");
}

TEST(ValidateHolderTest, AcceptsAGoodHolder) {
  EXPECT_TRUE(ValidateHolder(SampleHolder()).ok());
  Holder h = SampleHolder();
  h.set_since("2026-11-27T03:45:33+01:00");
  h.set_slot(0);
  EXPECT_TRUE(ValidateHolder(h).ok());
}

TEST(ValidateHolderTest, RejectsEachBadField) {
  struct Case {
    void (*mutate)(Holder*);
    const char* want;
  } cases[] = {
      {[](Holder* h) { h->clear_host(); }, "host is empty"},
      {[](Holder* h) { h->set_pid(0); }, "pid must be > 0, got 0"},
      {[](Holder* h) { h->set_pid(-5); }, "pid must be > 0, got -5"},
      {[](Holder* h) { h->clear_lease(); }, "lease must be 16"},
      {[](Holder* h) { h->set_lease("694d77f5c1a2b3c"); }, "lease must be 16"},
      {[](Holder* h) { h->set_lease("694D77F5C1A2B3C4"); }, "lease must be 16"},
      {[](Holder* h) { h->set_lease("694d77f5c1a2b3cx"); }, "lease must be 16"},
      {[](Holder* h) { h->set_lease("a\nb"); }, "\"a\\nb\""},
      {[](Holder* h) { h->set_since("yesterday"); }, "since: not an RFC 3339"},
      {[](Holder* h) { h->set_since("2026-11-27 02:45:33Z"); }, "since"},
      {[](Holder* h) { h->clear_since(); }, "since"},
      {[](Holder* h) { h->set_slot(-1); }, "slot must be >= 0, got -1"},
  };
  for (const Case& c : cases) {
    Holder h = SampleHolder();
    c.mutate(&h);
    const absl::Status s = ValidateHolder(h);
    ExpectInvalid(s, c.want);
    EXPECT_THAT(std::string(s.message()), HasSubstr("bad Holder record: "));
  }
}

TEST(TimeTest, FormatsUtcWithMilliseconds) {
  const absl::Time t = absl::FromUnixMillis(1795747533123);
  EXPECT_EQ(FormatRfc3339(t), "2026-11-27T02:45:33.123Z");
  EXPECT_EQ(FormatRfc3339(absl::UnixEpoch()), "1970-01-01T00:00:00.000Z");
  // Truncated toward the past, never rounded up.
  EXPECT_EQ(FormatRfc3339(absl::UnixEpoch() + absl::Microseconds(999)),
            "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(absl::UnixEpoch() - absl::Microseconds(1)),
            "1969-12-31T23:59:59.999Z");
}

TEST(TimeTest, ParsesRfc3339AndRejectsTheRest) {
  EXPECT_EQ(*ParseRfc3339("2026-11-27T02:45:33.123Z"),
            absl::FromUnixMillis(1795747533123));
  EXPECT_EQ(*ParseRfc3339("2026-11-27T03:45:33.123+01:00"),
            absl::FromUnixMillis(1795747533123));
  EXPECT_EQ(*ParseRfc3339("2026-11-27T02:45:33Z"),
            absl::FromUnixSeconds(1795747533));
  for (const char* bad :
       {"", "2026-11-27", " 2026-11-27T02:45:33Z", "2026-11-27T02:45:33Z\n",
        "infinite-future", "infinite-past", "2026-13-01T00:00:00Z", "now"}) {
    ExpectInvalid(ParseRfc3339(bad).status(), "not an RFC 3339 time");
  }
}

TEST(Utf8Test, SanitizeReplacesOnlyInvalidBytes) {
  EXPECT_EQ(SanitizeUtf8("plain \xC3\xA9 \xF0\x9F\x98\x80"),
            "plain \xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(SanitizeUtf8("a\xff"
                         "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(SanitizeUtf8("\xC0\xAF"),  // Overlong '/'.
            "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(SanitizeUtf8("\xED\xA0\x80"),  // A surrogate.
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(SanitizeUtf8(std::string("\0", 1)), std::string("\0", 1));
}

TEST(OutputTailTest, ShortOutputIsKeptWhole) {
  OutputTail t = LineTail("a\nb\n", 4, 10);
  EXPECT_EQ(t.tail, "a\nb\n");
  EXPECT_EQ(t.cut, 0);
  t = LineTail("", 0, 10);
  EXPECT_EQ(t.tail, "");
  EXPECT_EQ(t.cut, 0);
}

TEST(OutputTailTest, LongOutputStartsAfterALineBreak) {
  // 4 lines of 10 bytes; keep at most 25: the window "6789\n" + two lines
  // starts mid-line, so the tail starts at the next line.
  const std::string out = "line0xxxx\nline1xxxx\nline2xxxx\nline3xxxx\n";
  OutputTail t = LineTail(out, out.size(), 25);
  EXPECT_EQ(t.tail, "line2xxxx\nline3xxxx\n");
  EXPECT_EQ(t.cut, 20);
  // Bytes dropped while reading count too.
  t = LineTail("x\nline3xxxx\n", 1000, 25);
  EXPECT_EQ(t.tail, "line3xxxx\n");
  EXPECT_EQ(t.cut, 990);
  // No line break in the window: a character boundary will do.
  t = LineTail(std::string(100, 'z'), 100, 10);
  EXPECT_EQ(t.tail, std::string(10, 'z'));
  EXPECT_EQ(t.cut, 90);
  // A break only at the very end: keep the last (unfinished) line whole.
  t = LineTail("abcdefghij\n", 11, 5);
  EXPECT_EQ(t.tail, "ghij\n");
  EXPECT_EQ(t.cut, 6);
  // Never half a character.
  t = LineTail("\xC3\xA9\xC3\xA9\xC3\xA9", 6, 3);
  EXPECT_EQ(t.tail, "\xC3\xA9");
  EXPECT_EQ(t.cut, 4);
}

TEST(Utf8Test, TailKeepsTheEndAndNeverHalfACharacter) {
  EXPECT_EQ(Utf8Tail("hello", 10), "hello");
  EXPECT_EQ(Utf8Tail("hello", 3), "llo");
  // "é" is 2 bytes: a 3-byte window over "aé" + "é" cuts the first é.
  EXPECT_EQ(Utf8Tail("a\xC3\xA9\xC3\xA9", 3), "\xC3\xA9");
  EXPECT_EQ(Utf8Tail("\xF0\x9F\x98\x80", 3), "");
  // An invalid byte grows to 3 bytes; the result still fits.
  EXPECT_EQ(Utf8Tail("ab\xff", 3), "\xEF\xBF\xBD");
  const std::string big(10000, 'x');
  EXPECT_EQ(Utf8Tail(big, kOutputTailBytes).size(), kOutputTailBytes);
}

// A valid UTF-8 string: code points from all planes, biased to ASCII, with
// no surrogates.
rc::Gen<std::string> Utf8String() {
  const rc::Gen<uint32_t> code_point = rc::gen::oneOf(
      rc::gen::inRange<uint32_t>(0, 0x80), rc::gen::inRange<uint32_t>(0, 0x800),
      rc::gen::inRange<uint32_t>(0, 0xD800),
      rc::gen::inRange<uint32_t>(0xE000, 0x110000));
  return rc::gen::map(rc::gen::container<std::vector<uint32_t>>(code_point),
                      [](const std::vector<uint32_t>& cps) {
                        std::string s;
                        for (uint32_t cp : cps) {
                          if (cp < 0x80) {
                            s += static_cast<char>(cp);
                          } else if (cp < 0x800) {
                            s += static_cast<char>(0xC0 | (cp >> 6));
                            s += static_cast<char>(0x80 | (cp & 0x3F));
                          } else if (cp < 0x10000) {
                            s += static_cast<char>(0xE0 | (cp >> 12));
                            s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                            s += static_cast<char>(0x80 | (cp & 0x3F));
                          } else {
                            s += static_cast<char>(0xF0 | (cp >> 18));
                            s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
                            s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                            s += static_cast<char>(0x80 | (cp & 0x3F));
                          }
                        }
                        return s;
                      });
}

RC_GTEST_PROP(RecordsProperty, ARandomHolderRoundTripsThroughJson, ()) {
  Holder h;
  h.set_host(*Utf8String());
  h.set_pid(*rc::gen::arbitrary<int32_t>());
  h.set_user(*Utf8String());
  h.set_since(*Utf8String());
  h.set_lease(*Utf8String());
  for (const std::string& arg :
       *rc::gen::container<std::vector<std::string>>(Utf8String())) {
    h.add_argv(arg);
  }
  h.set_state(*Utf8String());
  if (*rc::gen::arbitrary<bool>()) h.set_slot(*rc::gen::arbitrary<int32_t>());

  absl::StatusOr<std::string> json = ToJson(h);
  RC_ASSERT(json.ok());
  Holder back;
  RC_ASSERT(FromJson(*json, &back).ok());
  RC_ASSERT(MessageDifferencer::Equals(back, h));
  RC_ASSERT(back.has_slot() == h.has_slot());
}

// The Holder writer skips protobuf's reflection; it must say the same thing.
// Byte for byte where both escape alike (protobuf also escapes a few
// printable characters such as '<' as \uXXXX), and always the same Holder.
RC_GTEST_PROP(RecordsProperty, HolderWriterAgreesWithTheReflectiveOne, ()) {
  Holder h;
  h.set_host(*Utf8String());
  h.set_pid(*rc::gen::arbitrary<int32_t>());
  h.set_user(*rc::gen::arbitrary<std::string>());  // any ASCII
  for (const std::string& arg : *rc::gen::container<std::vector<std::string>>(
           rc::gen::string<std::string>())) {
    h.add_argv(arg);
  }
  h.set_state(*rc::gen::element<std::string>("", "waiting", "holding"));
  if (*rc::gen::arbitrary<bool>()) h.set_slot(*rc::gen::arbitrary<int32_t>());
  const google::protobuf::Message& as_message = h;
  absl::StatusOr<std::string> direct = ToJson(h);
  absl::StatusOr<std::string> reflective = ToJson(as_message);
  RC_ASSERT(direct.ok() == reflective.ok());
  if (!direct.ok()) return;
  Holder a;
  Holder b;
  RC_ASSERT(FromJson(*direct, &a).ok());
  RC_ASSERT(FromJson(*reflective, &b).ok());
  RC_ASSERT(MessageDifferencer::Equals(a, b));
  const bool plain = std::all_of(direct->begin(), direct->end(), [](char c) {
    return absl::ascii_isalnum(c) || absl::StrContains("{}[]\":,.-_ ", c);
  });
  if (plain) RC_ASSERT(*direct == *reflective);
}

RC_GTEST_PROP(RecordsProperty, SanitizedBytesAlwaysSerialize, ()) {
  const std::string bytes = *rc::gen::container<std::string>(rc::gen::map(
      rc::gen::inRange(0, 256), [](int b) { return static_cast<char>(b); }));
  Result r;
  r.set_output_tail(Utf8Tail(bytes, 64));
  RC_ASSERT(r.output_tail().size() <= 64u);
  absl::StatusOr<std::string> json = ToJson(r);
  RC_ASSERT(json.ok());
  Result back;
  RC_ASSERT(FromJson(*json, &back).ok());
  RC_ASSERT(back.output_tail() == r.output_tail());
  // Sanitizing is the identity on valid UTF-8.
  RC_ASSERT(SanitizeUtf8(r.output_tail()) == r.output_tail());
}

RC_GTEST_PROP(RecordsProperty, FormattedTimesParseBackToTheMillisecond,
              (int64_t millis)) {
  // Years 0001..9999, the range RFC 3339 can write.
  constexpr int64_t kYear1 = -62135596800000;      // 0001-01-01T00:00:00Z
  constexpr int64_t kYear10000 = 253402300800000;  // 10000-01-01T00:00:00Z
  const int64_t ms =
      kYear1 + static_cast<int64_t>(static_cast<uint64_t>(millis) %
                                    static_cast<uint64_t>(kYear10000 - kYear1));
  const absl::Time t = absl::FromUnixMillis(ms);
  const std::string text = FormatRfc3339(t);
  RC_ASSERT(text.size() == 24u);
  absl::StatusOr<absl::Time> back = ParseRfc3339(text);
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == t);
}

}  // namespace
}  // namespace conch::records
