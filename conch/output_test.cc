#include "conch/output.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace conch {
namespace {

TEST(OutputFormatTest, ParsesTheFourNames) {
  EXPECT_EQ(*ParseOutputFormat("json"), OutputFormat::kJson);
  EXPECT_EQ(*ParseOutputFormat("wide"), OutputFormat::kWide);
  EXPECT_EQ(*ParseOutputFormat("table"), OutputFormat::kTable);
  EXPECT_EQ(*ParseOutputFormat("tsv"), OutputFormat::kTsv);
  for (const char* bad : {"", "JSON", "yaml", "json ", "wid"}) {
    EXPECT_FALSE(ParseOutputFormat(bad).ok()) << bad;
    EXPECT_EQ(WhyNotOutputFormat(bad), "want json|wide|table|tsv") << bad;
  }
  EXPECT_EQ(WhyNotOutputFormat("tsv"), "");
}

TEST(OutputFormatTest, ForcedFormatsIgnoreTheTerminal) {
  EXPECT_TRUE(Aligned(OutputFormat::kTable));
  EXPECT_FALSE(Aligned(OutputFormat::kTsv));
  EXPECT_FALSE(Aligned(OutputFormat::kJson));
  // Under Bazel stdout is a file: auto and wide are tab-separated.
  EXPECT_EQ(Aligned(OutputFormat::kAuto), StdoutIsTerminal());
  EXPECT_EQ(Aligned(OutputFormat::kWide), StdoutIsTerminal());
}

TEST(TableTest, TabSeparatedKeepsOneFieldPerCell) {
  Table t({"NAME", "SCHEDULE", "STATE"});
  t.AddRow({"a\tb", "30 2 * * *", "failed (code 7)"});
  t.AddRow({"two\nlines", ""});
  EXPECT_EQ(t.Render(false),
            "NAME\tSCHEDULE\tSTATE\n"
            "a\\tb\t30 2 * * *\tfailed (code 7)\n"
            "two\\nlines\t-\t-\n");
}

TEST(TableTest, AlignedPadsByCodePointsAndNotTheLastColumn) {
  Table t({"NAME", "N", "LAST"});
  t.AddRow({"größe", "1", "ok"});
  t.AddRow({"x", "100", "failed (code 7)"});
  EXPECT_EQ(t.Render(true),
            "NAME    N     LAST\n"
            "größe   1     ok\n"
            "x       100   failed (code 7)\n");
}

TEST(TableTest, HeaderAloneWhenEmpty) {
  Table t({"A", "B"});
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.Render(true), "A   B\n");
}

TEST(FormatTimeTest, SecondsUnlessThereIsAFraction) {
  const absl::Time t = absl::FromUnixSeconds(1772850600);  // 2026-03-07 02:30
  EXPECT_EQ(Timestamp(t), "2026-03-07T02:30:00Z");
  EXPECT_EQ(Timestamp(t + absl::Milliseconds(5)), "2026-03-07T02:30:00.005Z");
  // Below a millisecond does not count.
  EXPECT_EQ(Timestamp(t + absl::Microseconds(300)), "2026-03-07T02:30:00Z");
  absl::TimeZone berlin;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Berlin", &berlin));
  EXPECT_EQ(Timestamp(t, berlin), "2026-03-07T03:30:00+01:00");
  absl::TimeZone utc;
  ASSERT_TRUE(absl::LoadTimeZone("UTC", &utc));
  EXPECT_EQ(Timestamp(t, utc), "2026-03-07T02:30:00Z");
}

TEST(FormatTimeTest, StoredTimesArePrintedTheSameWay) {
  EXPECT_EQ(StoredTimestamp("2026-03-07T02:30:00.000Z"),
            "2026-03-07T02:30:00Z");
  EXPECT_EQ(StoredTimestamp("2026-03-07T02:30:00.250Z"),
            "2026-03-07T02:30:00.250Z");
  EXPECT_EQ(StoredTimestamp("yesterday"), "yesterday");
  EXPECT_EQ(StoredTimestamp(""), "");
}

}  // namespace
}  // namespace conch
