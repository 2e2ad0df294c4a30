// Tests of the name encoding of spec 05: table cases and rapidcheck
// properties (round trip, alphabet, disjoint key ranges, canonical decoding).
//
// rapidcheck picks a random seed on each run and prints it with any
// counterexample. To replay a failure:
//   bazel test //core:names_test --test_env=RC_PARAMS="seed=N"
// (or RC_PARAMS="reproduce=..." as printed by rapidcheck).
#include "core/records/names.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace conch {
namespace {

using ::testing::HasSubstr;

TEST(EncodeNameTest, Table) {
  struct Case {
    std::string name;
    std::string encoded;
  } cases[] = {
      {"a", "a"},
      {"a/b", "a%2Fb"},
      {"a%2Fb", "a%252Fb"},
      {"..", ".."},
      {".", "."},
      {"my job", "my%20job"},
      {" ", "%20"},
      {"\xC3\xA9", "%C3%A9"},  // "é"
      {"Az09._-", "Az09._-"},
      {std::string("a\0b", 3), "a%00b"},
      {"\xff", "%FF"},
      {"~+:@!*", "%7E%2B%3A%40%21%2A"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::string> enc = EncodeName(c.name);
    ASSERT_TRUE(enc.ok()) << c.encoded << ": " << enc.status();
    EXPECT_EQ(*enc, c.encoded);
    absl::StatusOr<std::string> dec = DecodeName(c.encoded);
    ASSERT_TRUE(dec.ok()) << c.encoded << ": " << dec.status();
    EXPECT_EQ(*dec, c.name);
  }
}

TEST(EncodeNameTest, LengthLimits) {
  EXPECT_TRUE(EncodeName(std::string(256, 'x')).ok());
  absl::StatusOr<std::string> all_escaped = EncodeName(std::string(256, '/'));
  ASSERT_TRUE(all_escaped.ok());
  EXPECT_EQ(all_escaped->size(), 768u);
  EXPECT_TRUE(DecodeName(*all_escaped).ok());

  for (const std::string& bad : {std::string(), std::string(257, 'x')}) {
    absl::StatusOr<std::string> enc = EncodeName(bad);
    ASSERT_FALSE(enc.ok());
    EXPECT_EQ(enc.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(enc.status().message(), "name must be 1 to 256 bytes");
  }
  EXPECT_EQ(DecodeName("").status().message(), "name must be 1 to 256 bytes");
  EXPECT_EQ(DecodeName(std::string(257, 'x')).status().message(),
            "name must be 1 to 256 bytes");
}

TEST(DecodeNameTest, RejectsNonCanonicalAndMalformedInput) {
  struct Case {
    const char* encoded;
    const char* why;
  } cases[] = {
      {"a/b", "unescaped byte 0x2F"},
      {"a b", "unescaped byte 0x20"},
      {"\xC3\xA9", "unescaped byte 0xC3"},
      {"%", "truncated escape"},
      {"ab%2", "truncated escape at offset 2"},
      {"%2f", "upper-case hex"},
      {"%zz", "upper-case hex"},
      {"%+1", "upper-case hex"},
      {"%41", "escapes 'A'"},
      {"x%2E", "escapes '.'"},
      {"%5F", "escapes '_'"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::string> dec = DecodeName(c.encoded);
    ASSERT_FALSE(dec.ok()) << c.encoded << " decoded to " << *dec;
    EXPECT_EQ(dec.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(dec.status().message()), HasSubstr(c.why))
        << c.encoded;
    EXPECT_FALSE(absl::StrContains(dec.status().message(), "\n"));
  }
}

TEST(NameKeyTest, BuildsKeysUnderThePrefix) {
  EXPECT_EQ(NameKeyPrefix("/conch/", "elect", "a%2Fb"), "/conch/elect/a%2Fb/");
  EXPECT_EQ(NameKeyPrefix("/conch/", "cron/tick", "n"), "/conch/cron/tick/n/");
  EXPECT_EQ(NameKey("/conch/", "cron/job", "nightly"),
            "/conch/cron/job/nightly");
}

TEST(NameKeyTest, NeighbouringNamesHaveDisjointRanges) {
  auto range = [](absl::string_view name) {
    return NameKeyPrefix("/conch/", "elect", *EncodeName(name));
  };
  const std::string names[] = {"a", "ab", "abc", "a/b", "a%2Fb", "..", "."};
  for (const std::string& x : names) {
    for (const std::string& y : names) {
      if (x == y) continue;
      EXPECT_FALSE(absl::StartsWith(range(y), range(x)))
          << "range of \"" << x << "\" contains keys of \"" << y << "\"";
    }
  }
}

// Any byte, biased towards the ones that matter to the encoding.
rc::Gen<char> AnyByte() {
  return rc::gen::oneOf(
      rc::gen::element<char>('/', '%', '\0', '.', '-', '_', ' ', 'a', 'Z', '2',
                             'F', 'f', '\xff', '\xc3', '\xa9'),
      rc::gen::map(rc::gen::inRange(0, 256),
                   [](int b) { return static_cast<char>(b); }));
}

// A valid name: 1 to 256 arbitrary bytes.
rc::Gen<std::string> AnyName() {
  return rc::gen::mapcat(rc::gen::inRange<size_t>(1, 257), [](size_t n) {
    return rc::gen::container<std::string>(n, AnyByte());
  });
}

bool IsEncodedAlphabet(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '%';
}

RC_GTEST_PROP(NamesProperty, EncodeThenDecodeIsTheIdentity, ()) {
  const std::string name = *AnyName();
  absl::StatusOr<std::string> enc = EncodeName(name);
  RC_ASSERT(enc.ok());
  absl::StatusOr<std::string> dec = DecodeName(*enc);
  RC_ASSERT(dec.ok());
  RC_ASSERT(*dec == name);
}

RC_GTEST_PROP(NamesProperty, EncodedNamesUseOnlyTheSafeAlphabet, ()) {
  const std::string name = *AnyName();
  const std::string enc = *EncodeName(name);
  RC_ASSERT(enc.find('/') == std::string::npos);
  for (char c : enc) RC_ASSERT(IsEncodedAlphabet(c));
  RC_ASSERT(enc.size() >= name.size());
  RC_ASSERT(enc.size() <= 3 * name.size());
}

RC_GTEST_PROP(NamesProperty, DistinctNamesHaveDisjointKeyRanges, ()) {
  const std::string a = *AnyName();
  const std::string b = *AnyName();
  RC_PRE(a != b);
  const std::string ra = NameKeyPrefix("/conch/", "elect", *EncodeName(a));
  const std::string rb = NameKeyPrefix("/conch/", "elect", *EncodeName(b));
  RC_ASSERT(!absl::StartsWith(rb, ra));
  RC_ASSERT(!absl::StartsWith(ra, rb));
}

RC_GTEST_PROP(NamesProperty, ANameExtendedByASuffixStaysOutOfTheRange, ()) {
  // The interesting case for ranges: b starts with a ("ab" vs "abc").
  const std::string a = *AnyName();
  const std::string suffix = *rc::gen::resize(
      20, rc::gen::nonEmpty(rc::gen::container<std::string>(AnyByte())));
  const std::string b = (a + suffix).substr(0, kMaxNameBytes);
  RC_PRE(a != b);
  const std::string ra = NameKeyPrefix("/conch/", "sema", *EncodeName(a));
  const std::string rb = NameKeyPrefix("/conch/", "sema", *EncodeName(b));
  RC_ASSERT(!absl::StartsWith(rb, ra));
  RC_ASSERT(!absl::StartsWith(ra, rb));
}

RC_GTEST_PROP(NamesProperty, DecodeAcceptsOnlyCanonicalEncodings, ()) {
  // Strings over an alphabet rich in escapes and hex digits of both cases:
  // whatever DecodeName accepts must re-encode to exactly the input.
  const std::string s = *rc::gen::container<std::string>(
      rc::gen::element<char>('%', '%', '2', 'F', 'f', 'A', 'a', '0', '4', '1',
                             'C', '3', '/', '.', ' ', 'x', '\xff'));
  absl::StatusOr<std::string> dec = DecodeName(s);
  RC_CLASSIFY(dec.ok(), "accepted");
  if (dec.ok()) {
    absl::StatusOr<std::string> enc = EncodeName(*dec);
    RC_ASSERT(enc.ok());
    RC_ASSERT(*enc == s);
  } else {
    RC_ASSERT(dec.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

RC_GTEST_PROP(NamesProperty, LowerCasingAnEscapeIsRejected, ()) {
  const std::string enc = *EncodeName(*AnyName());
  std::string lowered = enc;
  bool changed = false;
  for (size_t i = 0; i + 2 < lowered.size() && !changed; ++i) {
    if (lowered[i] != '%') continue;
    for (size_t j = i + 1; j <= i + 2; ++j) {
      if (lowered[j] >= 'A' && lowered[j] <= 'F') {
        lowered[j] = static_cast<char>(lowered[j] - 'A' + 'a');
        changed = true;
        break;
      }
    }
  }
  RC_PRE(changed);
  RC_ASSERT(!DecodeName(lowered).ok());
}

// New names refuse control characters (issue 15: a job named
// $'evil\nname' split `cron ls` rows in two); stored ones still decode.
TEST(CheckNewNameTest, RefusesControlCharactersOnly) {
  EXPECT_TRUE(CheckNewName("db/primary").ok());
  EXPECT_TRUE(CheckNewName("h\xC3\xA9 %x ..").ok());
  for (const std::string& bad :
       {std::string("evil\nname"), std::string("a\x1b[31m"),
        std::string("tab\there"), std::string("del\x7f"),
        std::string("nul\0", 4)}) {
    absl::Status s = CheckNewName(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << bad;
    EXPECT_THAT(std::string(s.message()),
                ::testing::HasSubstr("has a control character"));
    EXPECT_EQ(std::string(s.message()).find('\n'), std::string::npos)
        << s.message();
    EXPECT_TRUE(DecodeName(*EncodeName(bad)).ok());  // stored ones read
  }
  EXPECT_FALSE(CheckNewName("").ok());
  EXPECT_FALSE(CheckNewName(std::string(257, 'a')).ok());
}

}  // namespace
}  // namespace conch
