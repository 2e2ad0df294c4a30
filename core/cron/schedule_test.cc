// Tests of Schedule: parsing (valid specs and every error), Next() on plain
// UTC schedules, DST gaps and fall-backs (New York, Berlin, Lord Howe's
// 30-minute shift, Kathmandu's +05:45) with hand-checked UTC instants, and
// @every. The expected instants were checked on a Debian host with tzdata
// 2026f, e.g. `s=$(TZ=Australia/Lord_Howe date -d "2026-10-04 02:30" +%s);
// date -u -d @$s`, and against `zdump -v -c 2026,2027 ZONE`;
// ZoneTransitionsAreWhereTheRowsAssume re-checks the transitions with absl.
//
// The rapidcheck properties generate random five-field specs (lists, ranges,
// steps, names, `*`) together with their own model of the allowed values,
// random zones and random instants in 2000..2040 (many just before DST
// transitions), and check Next() against a brute-force tick oracle built from
// absl::TimeZone alone: Next(t) > t, Next(t) is a tick, no tick lies strictly
// between t and Next(t), Next(Next(t) - 1ns) == Next(t), IsTick agrees with
// the oracle, and Parse refuses exactly the specs that can never fire. For
// @every: Next(t) - t is in (0, D] and a multiple of D since the epoch.
//
// rapidcheck picks a random seed on each run and prints it with any
// counterexample. To replay a failure:
//   bazel test //core:schedule_test --test_env=RC_PARAMS="seed=N"
// (or RC_PARAMS="reproduce=..." as printed by rapidcheck).
#include "core/cron/schedule.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace conch {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

// "2026-03-08 07:00" or "2026-03-08 07:00:30.5", in UTC.
absl::Time Utc(const std::string& text) {
  absl::Time t;
  std::string err;
  if (absl::ParseTime("%Y-%m-%d %H:%M:%E*S", text, absl::UTCTimeZone(), &t,
                      &err) ||
      absl::ParseTime("%Y-%m-%d %H:%M", text, absl::UTCTimeZone(), &t, &err)) {
    return t;
  }
  ADD_FAILURE() << "bad time \"" << text << "\" in the test: " << err;
  return absl::InfinitePast();
}

// The inverse of Utc(): seconds only when they are not zero.
std::string Fmt(absl::Time t) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::TimeZone::CivilInfo ci = utc.At(t);
  if (ci.cs.second() == 0 && ci.subsecond == absl::ZeroDuration()) {
    return absl::FormatTime("%Y-%m-%d %H:%M", t, utc);
  }
  return absl::FormatTime("%Y-%m-%d %H:%M:%E*S", t, utc);
}

Schedule MustParse(const std::string& spec, const std::string& tz = "UTC") {
  absl::StatusOr<Schedule> s = Schedule::Parse(spec, tz);
  if (!s.ok()) {
    ADD_FAILURE() << "Parse(\"" << spec << "\", \"" << tz
                  << "\"): " << s.status();
    return *Schedule::Parse("* * * * *");
  }
  return *std::move(s);
}

// The first `n` ticks after `from`, formatted by Fmt().
std::vector<std::string> Ticks(const Schedule& s, absl::Time from, int n) {
  std::vector<std::string> out;
  absl::Time t = from;
  for (int i = 0; i < n; ++i) {
    t = s.Next(t);
    out.push_back(Fmt(t));
  }
  return out;
}

// --- Parsing. ---

TEST(ScheduleParseTest, ValidSpecsAndTheirTicks) {
  struct Case {
    std::string spec;
    std::string tz;
    std::string at;  // UTC
    bool tick;
  } cases[] = {
      {"* * * * *", "UTC", "2026-01-01 12:34", true},
      {"* * * * *", "UTC", "2026-01-01 12:34:01", false},
      {"* * * * *", "UTC", "2026-01-01 12:34:00.5", false},
      {"  0\t0 * *  *  ", "UTC", "2026-01-01 00:00", true},
      {"0 0 1,15 * *", "UTC", "2026-01-15 00:00", true},
      {"0 0 1,15 * *", "UTC", "2026-01-14 00:00", false},
      {"*/15 * * * *", "UTC", "2026-01-01 12:45", true},
      {"*/15 * * * *", "UTC", "2026-01-01 12:50", false},
      {"10-50/20 * * * *", "UTC", "2026-01-01 12:30", true},
      {"10-50/20 * * * *", "UTC", "2026-01-01 12:40", false},
      {"10-50/20 * * * *", "UTC", "2026-01-01 12:00", false},
      {"5/15 * * * *", "UTC", "2026-01-01 12:50", true},
      {"5/15 * * * *", "UTC", "2026-01-01 12:00", false},
      {"0 22-23,0-2 * * *", "UTC", "2026-01-01 23:00", true},
      {"0 22-23,0-2 * * *", "UTC", "2026-01-01 03:00", false},
      {"*/60 */24 * * *", "UTC", "2026-01-01 00:00", true},
      {"0 9 * JAN,Feb *", "UTC", "2026-02-10 09:00", true},
      {"0 9 * JAN,Feb *", "UTC", "2026-03-10 09:00", false},
      {"0 9 * * MON-fri", "UTC", "2026-02-02 09:00", true},   // Monday
      {"0 9 * * MON-fri", "UTC", "2026-02-01 09:00", false},  // Sunday
      {"0 0 * * 7", "UTC", "2026-02-01 00:00", true},         // Sunday
      {"0 0 * * 0", "UTC", "2026-02-01 00:00", true},
      {"0 0 * * sun", "UTC", "2026-02-01 00:00", true},
      {"0 0 * * 5-7", "UTC", "2026-02-01 00:00", true},   // Sunday
      {"0 0 * * 5-7", "UTC", "2026-02-06 00:00", true},   // Friday
      {"0 0 * * 5-7", "UTC", "2026-02-05 00:00", false},  // Thursday
      // `N/S` in the day of week ends at Saturday: mon,wed,fri.
      {"0 0 * * 1/2", "UTC", "2026-02-06 00:00", true},   // Friday
      {"0 0 * * 1/2", "UTC", "2026-02-01 00:00", false},  // Sunday
      {"0 0 * * */2", "UTC", "2026-02-01 00:00", true},   // Sunday = 0
      {"@yearly", "UTC", "2027-01-01 00:00", true},
      {"@ANNUALLY", "UTC", "2027-01-01 00:00", true},
      {"@yearly", "UTC", "2027-02-01 00:00", false},
      {"@monthly", "UTC", "2027-02-01 00:00", true},
      {"@weekly", "UTC", "2026-02-01 00:00", true},   // Sunday
      {"@weekly", "UTC", "2026-02-02 00:00", false},  // Monday
      {"@daily", "UTC", "2026-02-02 00:00", true},
      {"@midnight", "UTC", "2026-02-02 00:00", true},
      {"@daily", "UTC", "2026-02-02 01:00", false},
      {"@hourly", "UTC", "2026-02-02 01:00", true},
      {"@hourly", "UTC", "2026-02-02 01:01", false},
      {"@daily", "Asia/Kathmandu", "2026-02-01 18:15", true},
      {"@every 90s", "UTC", "1970-01-01 00:01:30", true},
      {"@every 90s", "UTC", "2026-01-01 00:00", true},  // 1767225600 s
      {"@every 90s", "UTC", "2026-01-01 00:01", false},
      {"@every 1.5s", "UTC", "1970-01-01 00:00:04.5", true},
      {"@every 1h30m", "Europe/Berlin", "1970-01-01 04:30", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat("\"", c.spec, "\" ", c.tz, " at ", c.at));
    absl::StatusOr<Schedule> s = Schedule::Parse(c.spec, c.tz);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->spec(), c.spec);
    EXPECT_EQ(s->tz_name(), c.tz);
    EXPECT_EQ(s->IsTick(Utc(c.at)), c.tick);
  }
}

TEST(ScheduleParseTest, ErrorsNameTheProblem) {
  struct Case {
    std::string spec;
    std::string want;
  } cases[] = {
      {"", "schedule \"\": empty"},
      {" \t ", "empty"},
      {"61 * * * *", "schedule \"61 * * * *\": minute 61 out of range 0-59"},
      {"* 24 * * *", "hour 24 out of range 0-23"},
      {"* * 0 * *", "day of month 0 out of range 1-31"},
      {"* * 32 * *", "day of month 32 out of range 1-31"},
      {"* * * 0 *", "month 0 out of range 1-12"},
      {"* * * 13 *", "month 13 out of range 1-12"},
      {"* * * * 8", "day of week 8 out of range 0-7"},
      {"* * *",
       "schedule \"* * *\": want 5 fields (min hour dom month dow) or a "
       "macro, got 3"},
      {"* * * * * *",
       "want 5 fields (min hour dom month dow) or a macro, "
       "got 6"},
      {"*/0 * * * *", "minute step 0 in \"*/0\" out of range 1-60"},
      {"1-5/0 * * * *", "minute step 0 in \"1-5/0\" out of range 1-60"},
      {"*/61 * * * *", "minute step 61 in \"*/61\" out of range 1-60"},
      {"* * * * */8", "day of week step 8 in \"*/8\" out of range 1-7"},
      {"*/ * * * *", "minute step \"\" in \"*/\" is not a number"},
      {"1/2/3 * * * *", "minute step \"2/3\" in \"1/2/3\" is not a number"},
      {"5-1 * * * *", "minute range \"5-1\" is reversed"},
      {"* * * dec-jan *", "month range \"dec-jan\" is reversed"},
      {"* * * * mon-sun", "day of week range \"mon-sun\" is reversed"},
      {"1,,2 * * * *", "minute \"1,,2\" has an empty list item"},
      {"1, * * * *", "minute \"1,\" has an empty list item"},
      {"x * * * *", "minute \"x\" is not a number"},
      {"+1 * * * *", "minute \"+1\" is not a number"},
      {"-1 * * * *", "minute \"-1\" is not a number or a range N-M"},
      {"1-/2 * * * *", "minute \"1-/2\" is not a number or a range N-M"},
      {"* * * * mon-", "day of week \"mon-\" is not a number or a range N-M"},
      {"1-2-3 * * * *", "minute \"2-3\" is not a number"},
      {"9999999999 * * * *", "minute \"9999999999\" is not a number"},
      {"* jan * * *", "hour \"jan\" is not a number"},
      {"* * * foo *", "month \"foo\" is not a number or a name (jan-dec)"},
      {"* * * january *",
       "month \"january\" is not a number or a name (jan-dec)"},
      {"* * * * monday",
       "day of week \"monday\" is not a number or a name (sun-sat)"},
      {"@reboot", "unknown macro \"@reboot\""},
      {"@daily 5", "@daily takes no arguments"},
      {"@every", "want @every and one duration"},
      {"@every 1m 2m", "want @every and one duration"},
      {"@every 500ms", "schedule \"@every 500ms\": @every needs at least 1s"},
      {"@every 999999us", "@every needs at least 1s"},
      {"@every 10", "invalid @every duration \"10\""},
      {"@every soon", "invalid @every duration \"soon\""},
      {"@every -5s", "must not be negative"},
      {"@every 0s", "must be positive"},
      {"@every inf", "invalid @every duration"},
      {"0 0 30 2 *", "schedule \"0 0 30 2 *\": never fires (no day 30 in feb)"},
      {"0 0 30,31 feb *", "never fires (no day 30,31 in feb)"},
      {"0 0 31 4,6,9,11 *", "never fires (no day 31 in apr,jun,sep,nov)"},
      // A day-of-week field starting with '*' is unrestricted: both the day
      // of month and the day of week must match, and April has no 31st.
      {"0 0 31 4 */2", "never fires (no day 31 in apr)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat("\"", c.spec, "\""));
    absl::StatusOr<Schedule> s = Schedule::Parse(c.spec);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.status().message(), HasSubstr(c.want));
    EXPECT_EQ(s.status().message().find('\n'), absl::string_view::npos);
  }
}

TEST(ScheduleParseTest, SchedulesThatCanFireAreAccepted) {
  for (const char* spec :
       {"0 0 31 * *", "0 0 29 2 *", "0 0 30 2 mon", "0 0 31 4 mon",
        "0 0 31 4 3,*/2", "0 0 */31 2 mon", "0 0 29-31 2 *", "0 0 30 1-2 *"}) {
    SCOPED_TRACE(spec);
    absl::StatusOr<Schedule> s = Schedule::Parse(spec);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_LT(s->Next(Utc("2026-01-01 00:00")), absl::InfiniteFuture());
  }
}

TEST(ScheduleParseTest, UnknownZonesAreRefused) {
  for (const char* tz : {"Mars/Olympus_Mons", "", "utc/", "/etc/localtime",
                         "localtime", "../zoneinfo/UTC", "Europe/../UTC",
                         "Europe//Berlin", "Europe/Berlin\n"}) {
    SCOPED_TRACE(absl::StrCat("\"", tz, "\""));
    for (const char* spec : {"* * * * *", "@every 1m"}) {
      absl::StatusOr<Schedule> s = Schedule::Parse(spec, tz);
      ASSERT_FALSE(s.ok());
      EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_EQ(s.status().message(),
                absl::StrCat("unknown time zone \"", tz, "\""));
    }
  }
}

TEST(ScheduleParseTest, DefaultZoneIsUtc) {
  absl::StatusOr<Schedule> s = Schedule::Parse("0 12 * * *");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->tz_name(), "UTC");
  EXPECT_FALSE(s->is_every());
  EXPECT_EQ(s->every(), absl::ZeroDuration());
  EXPECT_EQ(Fmt(s->Next(Utc("2026-05-05 11:00"))), "2026-05-05 12:00");
}

// --- Next() on wall-clock schedules. ---

struct NextCase {
  std::string spec;
  std::string tz;
  std::string from;               // UTC
  std::vector<std::string> want;  // the following ticks, UTC
};

void CheckNext(const NextCase& c) {
  SCOPED_TRACE(absl::StrCat("\"", c.spec, "\" in ", c.tz, " after ", c.from));
  const Schedule s = MustParse(c.spec, c.tz);
  EXPECT_THAT(Ticks(s, Utc(c.from), static_cast<int>(c.want.size())),
              ElementsAreArray(c.want));
  // Each tick is a tick, and one nanosecond before it leads to it.
  for (const std::string& w : c.want) {
    EXPECT_TRUE(s.IsTick(Utc(w))) << w;
    EXPECT_EQ(Fmt(s.Next(Utc(w) - absl::Nanoseconds(1))), w);
  }
}

TEST(ScheduleNextTest, Utc) {
  const NextCase cases[] = {
      {"* * * * *", "UTC", "2026-01-01 12:00:30", {"2026-01-01 12:01"}},
      {"* * * * *",
       "UTC",
       "2026-12-31 23:58",
       {"2026-12-31 23:59", "2027-01-01 00:00", "2027-01-01 00:01"}},
      {"*/15 * * * *",
       "UTC",
       "2026-01-01 12:07",
       {"2026-01-01 12:15", "2026-01-01 12:30", "2026-01-01 12:45",
        "2026-01-01 13:00"}},
      {"10-50/20 * * * *",
       "UTC",
       "2026-01-01 12:30",
       {"2026-01-01 12:50", "2026-01-01 13:10", "2026-01-01 13:30"}},
      {"5/15 * * * *",
       "UTC",
       "2026-01-01 12:49:59.999",
       {"2026-01-01 12:50", "2026-01-01 13:05"}},
      {"59 23 31 12 *", "UTC", "2026-06-01 00:00", {"2026-12-31 23:59"}},
      {"0 0 1 * *",
       "UTC",
       "2026-12-15 00:00",
       {"2027-01-01 00:00", "2027-02-01 00:00"}},
      {"0 0 31 * *",
       "UTC",
       "2026-01-31 00:00",
       {"2026-03-31 00:00", "2026-05-31 00:00", "2026-07-31 00:00",
        "2026-08-31 00:00"}},
      {"0 0 29 2 *",
       "UTC",
       "2026-03-01 00:00",
       {"2028-02-29 00:00", "2032-02-29 00:00"}},
      // 2100 is not a leap year: eight years between the two Feb 29ths.
      {"0 0 29 2 *", "UTC", "2096-03-01 00:00", {"2104-02-29 00:00"}},
      // Both fields restricted: every Friday and every 13th (Jan 13, 2027 is
      // a Wednesday).
      {"0 0 13 * fri",
       "UTC",
       "2026-12-31 00:00",
       {"2027-01-01 00:00", "2027-01-08 00:00", "2027-01-13 00:00",
        "2027-01-15 00:00", "2027-01-22 00:00"}},
      {"0 0 30 2 mon",
       "UTC",
       "2026-02-01 00:00",
       {"2026-02-02 00:00", "2026-02-09 00:00"}},
      // A day of month starting with '*' is unrestricted: odd days AND
      // Mondays (Feb 2 is an even Monday).
      {"0 0 */2 * mon",
       "UTC",
       "2026-02-01 00:00",
       {"2026-02-09 00:00", "2026-02-23 00:00", "2026-03-09 00:00"}},
      // Feb 1 AND Monday ('*/31' is day 1 only, but starts with '*'): eleven
      // years between 2027 and 2038.
      {"0 0 */31 2 mon",
       "UTC",
       "2027-02-02 00:00",
       {"2038-02-01 00:00", "2044-02-01 00:00"}},
      {"0 0 * * 7",
       "UTC",
       "2026-02-02 00:00",
       {"2026-02-08 00:00", "2026-02-15 00:00"}},
      {"0 9 * jan-mar mon-fri",
       "UTC",
       "2026-02-27 09:00",  // Friday
       {"2026-03-02 09:00", "2026-03-03 09:00"}},
      {"0 9 * jan-mar mon-fri",
       "UTC",
       "2026-03-31 09:00",
       {"2027-01-01 09:00", "2027-01-04 09:00"}},
      {"@hourly", "UTC", "2026-01-01 12:00", {"2026-01-01 13:00"}},
      {"@weekly", "UTC", "2026-01-01 12:00", {"2026-01-04 00:00"}},
      {"@yearly", "UTC", "2026-01-01 00:00", {"2027-01-01 00:00"}},
      {"0 0 1 1 *", "UTC", "1969-12-31 00:00", {"1970-01-01 00:00"}},
  };
  for (const NextCase& c : cases) CheckNext(c);
}

TEST(ScheduleNextTest, FixedOffsetZone) {
  const NextCase cases[] = {
      // Asia/Kathmandu is +05:45 all year.
      {"30 2 * * *",
       "Asia/Kathmandu",
       "2026-01-01 00:00",
       {"2026-01-01 20:45", "2026-01-02 20:45"}},
      {"0 * * * *",
       "Asia/Kathmandu",
       "2026-01-01 00:00",
       {"2026-01-01 00:15", "2026-01-01 01:15"}},
  };
  for (const NextCase& c : cases) CheckNext(c);
}

TEST(ScheduleNextTest, DstGapFiresOnceAtTheEndOfTheGap) {
  const NextCase cases[] = {
      // New York 2026-03-08: 02:00 EST -> 03:00 EDT (07:00 UTC).
      {"30 2 * * *",
       "America/New_York",
       "2026-03-07 00:00",
       {"2026-03-07 07:30", "2026-03-08 07:00", "2026-03-09 06:30"}},
      // Four skipped wall times collapse into one tick.
      {"*/15 2 * * *",
       "America/New_York",
       "2026-03-07 08:00",
       {"2026-03-08 07:00", "2026-03-09 06:00", "2026-03-09 06:15"}},
      // ... and into the 03:00 tick, which is the same instant.
      {"*/15 2-3 * * *",
       "America/New_York",
       "2026-03-08 00:00",
       {"2026-03-08 07:00", "2026-03-08 07:15", "2026-03-08 07:30",
        "2026-03-08 07:45", "2026-03-09 06:00"}},
      // An hourly schedule fires once for the skipped 02:00 and 03:00.
      {"0 * * * *",
       "America/New_York",
       "2026-03-08 05:30",
       {"2026-03-08 06:00", "2026-03-08 07:00", "2026-03-08 08:00"}},
      // Berlin 2026-03-29: 02:00 CET -> 03:00 CEST (01:00 UTC).
      {"30 2 * * *",
       "Europe/Berlin",
       "2026-03-28 00:00",
       {"2026-03-28 01:30", "2026-03-29 01:00", "2026-03-30 00:30"}},
      // Lord Howe 2026-10-04: 02:00 +1030 -> 02:30 +11 (Oct 3 15:30 UTC).
      {"15 2 * * *",
       "Australia/Lord_Howe",
       "2026-10-02 00:00",
       {"2026-10-02 15:45", "2026-10-03 15:30", "2026-10-04 15:15"}},
      {"0,15,30 2 * * *",
       "Australia/Lord_Howe",
       "2026-10-03 00:00",
       {"2026-10-03 15:30", "2026-10-04 15:00"}},
  };
  for (const NextCase& c : cases) CheckNext(c);
}

TEST(ScheduleNextTest, RepeatedWallTimeFiresOnceAtItsFirstOccurrence) {
  const NextCase cases[] = {
      // Berlin 2026-10-25: 03:00 CEST -> 02:00 CET; 02:30 CEST = 00:30 UTC,
      // not again at 02:30 CET = 01:30 UTC.
      {"30 2 * * *",
       "Europe/Berlin",
       "2026-10-24 00:00",
       {"2026-10-24 00:30", "2026-10-25 00:30", "2026-10-26 01:30"}},
      // New York 2026-11-01: 02:00 EDT -> 01:00 EST; 01:xx EDT = 05:xx UTC.
      {"*/15 1 * * *",
       "America/New_York",
       "2026-10-31 12:00",
       {"2026-11-01 05:00", "2026-11-01 05:15", "2026-11-01 05:30",
        "2026-11-01 05:45", "2026-11-02 06:00"}},
      // From inside the second 01:xx hour, the next tick is the next day.
      {"*/15 1 * * *",
       "America/New_York",
       "2026-11-01 06:10",
       {"2026-11-02 06:00"}},
      // An hourly schedule does not fire again at 01:00 EST (06:00 UTC).
      {"0 * * * *",
       "America/New_York",
       "2026-11-01 04:30",
       {"2026-11-01 05:00", "2026-11-01 07:00", "2026-11-01 08:00"}},
      // Lord Howe 2026-04-05: 02:00 +11 -> 01:30 +1030 (Apr 4 15:00 UTC).
      {"45 1 * * *",
       "Australia/Lord_Howe",
       "2026-04-03 00:00",
       {"2026-04-03 14:45", "2026-04-04 14:45", "2026-04-05 15:15"}},
  };
  for (const NextCase& c : cases) CheckNext(c);

  const Schedule ny = MustParse("*/15 1 * * *", "America/New_York");
  EXPECT_TRUE(ny.IsTick(Utc("2026-11-01 05:30")));   // 01:30 EDT
  EXPECT_FALSE(ny.IsTick(Utc("2026-11-01 06:30")));  // 01:30 EST
  const Schedule lh = MustParse("45 1 * * *", "Australia/Lord_Howe");
  EXPECT_FALSE(lh.IsTick(Utc("2026-04-04 15:15")));  // 01:45 +1030
}

TEST(ScheduleNextTest, ZoneTransitionsAreWhereTheRowsAssume) {
  // Guards the hand-written rows above against a different tzdata.
  struct Case {
    std::string tz;
    std::string after;  // UTC
    std::string at;     // UTC instant of the next transition
    absl::CivilSecond from, to;
  } cases[] = {
      {"America/New_York", "2026-01-01 00:00", "2026-03-08 07:00",
       absl::CivilSecond(2026, 3, 8, 2, 0, 0),
       absl::CivilSecond(2026, 3, 8, 3, 0, 0)},
      {"America/New_York", "2026-06-01 00:00", "2026-11-01 06:00",
       absl::CivilSecond(2026, 11, 1, 2, 0, 0),
       absl::CivilSecond(2026, 11, 1, 1, 0, 0)},
      {"Europe/Berlin", "2026-01-01 00:00", "2026-03-29 01:00",
       absl::CivilSecond(2026, 3, 29, 2, 0, 0),
       absl::CivilSecond(2026, 3, 29, 3, 0, 0)},
      {"Europe/Berlin", "2026-06-01 00:00", "2026-10-25 01:00",
       absl::CivilSecond(2026, 10, 25, 3, 0, 0),
       absl::CivilSecond(2026, 10, 25, 2, 0, 0)},
      {"Australia/Lord_Howe", "2026-01-01 00:00", "2026-04-04 15:00",
       absl::CivilSecond(2026, 4, 5, 2, 0, 0),
       absl::CivilSecond(2026, 4, 5, 1, 30, 0)},
      {"Australia/Lord_Howe", "2026-06-01 00:00", "2026-10-03 15:30",
       absl::CivilSecond(2026, 10, 4, 2, 0, 0),
       absl::CivilSecond(2026, 10, 4, 2, 30, 0)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.tz);
    absl::TimeZone tz;
    ASSERT_TRUE(absl::LoadTimeZone(c.tz, &tz));
    absl::TimeZone::CivilTransition tr;
    ASSERT_TRUE(tz.NextTransition(Utc(c.after), &tr));
    EXPECT_EQ(tr.from, c.from);
    EXPECT_EQ(tr.to, c.to);
    const absl::TimeZone::TimeInfo ti = tz.At(tr.to);
    const absl::Time instant =
        ti.kind == absl::TimeZone::TimeInfo::REPEATED ? ti.post : ti.pre;
    EXPECT_EQ(Fmt(instant), c.at);
  }
  absl::TimeZone kathmandu;
  ASSERT_TRUE(absl::LoadTimeZone("Asia/Kathmandu", &kathmandu));
  absl::TimeZone::CivilTransition tr;
  EXPECT_FALSE(kathmandu.NextTransition(Utc("2000-01-01 00:00"), &tr));
}

TEST(ScheduleNextTest, InfiniteTimes) {
  const Schedule cron = MustParse("* * * * *");
  const Schedule every = MustParse("@every 1m");
  for (const Schedule* s : {&cron, &every}) {
    EXPECT_EQ(s->Next(absl::InfiniteFuture()), absl::InfiniteFuture());
    EXPECT_EQ(s->Next(absl::InfinitePast()), absl::InfiniteFuture());
    EXPECT_FALSE(s->IsTick(absl::InfiniteFuture()));
    EXPECT_FALSE(s->IsTick(absl::InfinitePast()));
  }
}

TEST(ScheduleNextTest, CopiesAreIndependentAndEqual) {
  const Schedule a = MustParse("30 2 * * *", "Europe/Berlin");
  Schedule b = MustParse("@every 5s", "Asia/Kathmandu");
  b = a;
  EXPECT_EQ(b.spec(), "30 2 * * *");
  EXPECT_EQ(b.tz_name(), "Europe/Berlin");
  EXPECT_FALSE(b.is_every());
  EXPECT_EQ(b.Next(Utc("2026-10-24 00:00")), a.Next(Utc("2026-10-24 00:00")));
}

// --- @every. ---

TEST(ScheduleEveryTest, TicksAtMultiplesOfTheIntervalSinceTheEpoch) {
  const NextCase cases[] = {
      {"@every 1m",
       "UTC",
       "2026-01-01 12:00:30",
       {"2026-01-01 12:01", "2026-01-01 12:02"}},
      // The Next of an exact tick is the following one.
      {"@every 1m", "UTC", "2026-01-01 12:01", {"2026-01-01 12:02"}},
      // 1767225600 s (2026-01-01) = 7 * 252460800.
      {"@every 7s",
       "UTC",
       "2026-01-01 00:00",
       {"2026-01-01 00:00:07", "2026-01-01 00:00:14"}},
      // Zones do not matter.
      {"@every 1h", "Asia/Kathmandu", "2026-01-01 00:10", {"2026-01-01 01:00"}},
      {"@every 1h",
       "America/New_York",
       "2026-03-08 06:30",
       {"2026-03-08 07:00", "2026-03-08 08:00"}},
      // Before the epoch.
      {"@every 1m",
       "UTC",
       "1969-12-31 23:58:30",
       {"1969-12-31 23:59", "1970-01-01 00:00", "1970-01-01 00:01"}},
      {"@every 1.5s",
       "UTC",
       "1970-01-01 00:00:01",
       {"1970-01-01 00:00:01.5", "1970-01-01 00:00:03"}},
      {"@every 1.5s",
       "UTC",
       "1969-12-31 23:59:58",
       {"1969-12-31 23:59:58.5", "1970-01-01 00:00"}},
      // 100 years of 365 days.
      {"@every 876000h", "UTC", "2026-01-01 00:00", {"2069-12-07 00:00"}},
  };
  for (const NextCase& c : cases) CheckNext(c);

  const Schedule s = MustParse("@every 7s", "Europe/Berlin");
  EXPECT_TRUE(s.is_every());
  EXPECT_EQ(s.every(), absl::Seconds(7));
  const absl::Time t = Utc("2026-05-05 05:05:05.123");
  EXPECT_EQ((s.Next(t) - absl::UnixEpoch()) % absl::Seconds(7),
            absl::ZeroDuration());
}

TEST(ScheduleEveryTest, HugeTimesDoNotOverflow) {
  const Schedule s = MustParse("@every 876000h");
  const absl::Time late =
      absl::UnixEpoch() + absl::Seconds(int64_t{1} << 62);  // ~1.5e11 years
  const absl::Time next = s.Next(late);
  EXPECT_GT(next, late);
  EXPECT_LE(next - late, absl::Hours(876000));
  const absl::Time early = absl::UnixEpoch() - absl::Seconds(int64_t{1} << 62);
  EXPECT_GT(s.Next(early), early);
  EXPECT_LE(s.Next(early) - early, absl::Hours(876000));
}

// --- Properties. ---

// A generated field: its text and the values it allows (day of week 7 is
// stored as 0), computed independently of the parser.
struct FieldModel {
  std::string text;
  std::set<int> values;
};

struct FieldShape {
  int lo, hi, star_hi;
  // Half of the values are drawn from [hot_lo, hot_hi]: the hours of the
  // DST transitions, the days that not every month has.
  int hot_lo, hot_hi;
  std::vector<std::string> names;  // names of lo, lo+1, ...
  bool dow;
  // Only values and ranges: no `*` and no `N/S`, which would run to the
  // real maximum (lets hi be below it).
  bool no_star = false;
};

std::string ValueText(const FieldShape& f, int v) {
  if (f.names.empty() || v - f.lo >= static_cast<int>(f.names.size()) ||
      !*rc::gen::arbitrary<bool>()) {
    return absl::StrCat(v);
  }
  std::string name = f.names[v - f.lo];
  switch (*rc::gen::inRange(0, 3)) {
    case 0:
      return name;
    case 1:
      return absl::AsciiStrToUpper(name);
    default:
      name[0] = absl::ascii_toupper(name[0]);
      return name;
  }
}

FieldModel GenField(const FieldShape& f) {
  FieldModel m;
  auto add = [&](int first, int last, int step) {
    for (int v = first; v <= last; v += step) {
      m.values.insert(f.dow && v == 7 ? 0 : v);
    }
  };
  const int span = f.star_hi - f.lo + 1;
  switch (f.no_star ? 2 : *rc::gen::inRange(0, 4)) {
    case 0:
      m.text = "*";
      add(f.lo, f.star_hi, 1);
      return m;
    case 1: {
      const int s = *rc::gen::inRange(1, span + 1);
      m.text = absl::StrCat("*/", s);
      add(f.lo, f.star_hi, s);
      return m;
    }
    default:
      break;
  }
  const int items = *rc::gen::inRange(1, 4);
  std::vector<std::string> texts;
  for (int i = 0; i < items; ++i) {
    const bool hot = *rc::gen::arbitrary<bool>();
    const int a = hot ? *rc::gen::inRange(f.hot_lo, f.hot_hi + 1)
                      : *rc::gen::inRange(f.lo, f.hi + 1);
    const int b =
        *rc::gen::inRange(a, (hot ? std::max(a, f.hot_hi) : f.hi) + 1);
    const int s = *rc::gen::inRange(1, span + 1);
    switch (*rc::gen::inRange(0, f.no_star ? 3 : 5)) {
      case 0:
        texts.push_back(ValueText(f, a));
        add(a, a, 1);
        break;
      case 1:
        texts.push_back(absl::StrCat(ValueText(f, a), "-", ValueText(f, b)));
        add(a, b, 1);
        break;
      case 2:
        texts.push_back(
            absl::StrCat(ValueText(f, a), "-", ValueText(f, b), "/", s));
        add(a, b, s);
        break;
      case 3:
        texts.push_back(absl::StrCat(ValueText(f, a), "/", s));
        add(a, std::max(a, f.star_hi), s);
        break;
      default:
        texts.push_back(absl::StrCat("*/", s));
        add(f.lo, f.star_hi, s);
        break;
    }
  }
  m.text = absl::StrJoin(texts, ",");
  return m;
}

std::set<int> Range(int lo, int hi) {
  std::set<int> out;
  for (int v = lo; v <= hi; ++v) out.insert(v);
  return out;
}

struct CronModel {
  std::string spec;
  std::set<int> minutes, hours, doms, months, dows;
  bool dom_star, dow_star;

  bool DayMatches(absl::CivilDay d) const {
    if (months.count(d.month()) == 0) return false;
    const bool dom = doms.count(d.day()) > 0;
    int dow = 0;
    switch (absl::GetWeekday(d)) {
      case absl::Weekday::sunday:
        dow = 0;
        break;
      case absl::Weekday::monday:
        dow = 1;
        break;
      case absl::Weekday::tuesday:
        dow = 2;
        break;
      case absl::Weekday::wednesday:
        dow = 3;
        break;
      case absl::Weekday::thursday:
        dow = 4;
        break;
      case absl::Weekday::friday:
        dow = 5;
        break;
      case absl::Weekday::saturday:
        dow = 6;
        break;
    }
    const bool wd = dows.count(dow) > 0;
    return dom_star || dow_star ? dom && wd : dom || wd;
  }

  bool WallMatches(absl::CivilSecond c) const {
    return c.second() == 0 && minutes.count(c.minute()) > 0 &&
           hours.count(c.hour()) > 0 && DayMatches(absl::CivilDay(c));
  }

  // Whether some date in the month and day-of-month sets exists (Feb 29
  // included), as far as the day of month alone decides it.
  bool CanFire() const {
    if (dom_star || !dow_star) return true;
    static constexpr int kMaxDays[] = {31, 29, 31, 30, 31, 30,
                                       31, 31, 30, 31, 30, 31};
    for (int m : months) {
      for (int d : doms) {
        if (d <= kMaxDays[m - 1]) return true;
      }
    }
    return false;
  }
};

// A random five-field schedule. With `every_day` its three day fields are
// '*' and its hours are among 0-3, so that it fires around the DST
// transitions of the test zones (all at 02:00 or 03:00 local time).
CronModel GenCron(bool every_day = false) {
  const FieldModel min = GenField({0, 59, 59, 0, 59, {}, false});
  const FieldModel hour =
      every_day ? GenField({0, 3, 3, 0, 3, {}, false, /*no_star=*/true})
                : GenField({0, 23, 23, 0, 3, {}, false});
  const FieldModel star = {"*", {}};
  const FieldModel dom =
      every_day ? star : GenField({1, 31, 31, 28, 31, {}, false});
  const FieldModel month =
      every_day ? star
                : GenField({1,
                            12,
                            12,
                            2,
                            4,
                            {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                             "aug", "sep", "oct", "nov", "dec"},
                            false});
  const FieldModel dow =
      every_day ? star
                : GenField({0,
                            7,
                            6,
                            0,
                            7,
                            {"sun", "mon", "tue", "wed", "thu", "fri", "sat"},
                            true});
  CronModel m;
  m.spec =
      absl::StrJoin({min.text, hour.text, dom.text, month.text, dow.text}, " ");
  m.minutes = min.values;
  m.hours = hour.values;
  m.doms = every_day ? Range(1, 31) : dom.values;
  m.months = every_day ? Range(1, 12) : month.values;
  m.dows = every_day ? Range(0, 6) : dow.values;
  m.dom_star = dom.text[0] == '*';
  m.dow_star = dow.text[0] == '*';
  return m;
}

const std::vector<std::string>& Zones() {
  static const auto* const kZones =
      new std::vector<std::string>{"UTC", "America/New_York", "Europe/Berlin",
                                   "Australia/Lord_Howe", "Asia/Kathmandu"};
  return *kZones;
}

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone tz;
  RC_ASSERT(absl::LoadTimeZone(name, &tz));
  return tz;
}

// A random instant from `before` before to `after` after the first
// transition of `tz` after `t` (or around `t` in a zone without any).
absl::Time NearTransition(const absl::TimeZone& tz, absl::Time t,
                          absl::Duration before = absl::Hours(30),
                          absl::Duration after = absl::Hours(30)) {
  absl::TimeZone::CivilTransition tr;
  if (tz.NextTransition(t, &tr)) {
    const absl::TimeZone::TimeInfo ti = tz.At(tr.to);
    t = ti.kind == absl::TimeZone::TimeInfo::REPEATED ? ti.post : ti.pre;
  }
  return t + absl::Seconds(*rc::gen::inRange(-absl::ToInt64Seconds(before),
                                             absl::ToInt64Seconds(after)));
}

// A random instant in 2000..2040: uniform, or within 30 h of a DST
// transition of `tz`, or on a whole minute (optionally less 1 ns).
absl::Time GenTime(const absl::TimeZone& tz) {
  const int64_t lo = absl::ToUnixSeconds(Utc("2000-01-01 00:00"));
  const int64_t hi = absl::ToUnixSeconds(Utc("2040-01-01 00:00"));
  absl::Time t = absl::FromUnixSeconds(*rc::gen::inRange(lo, hi)) +
                 absl::Nanoseconds(*rc::gen::inRange(0, 1000000000));
  switch (*rc::gen::inRange(0, 3)) {
    case 0:
      return t;
    case 1:
      return NearTransition(tz, t);
    default:
      t = absl::FromUnixSeconds(absl::ToUnixSeconds(t) / 60 * 60);
      return *rc::gen::arbitrary<bool>() ? t : t - absl::Nanoseconds(1);
  }
}

// The tick oracle, from absl::TimeZone alone: `x` is a tick iff it is at a
// whole second and either its wall time matches and `x` is the first
// instant with that wall time, or `x` ends a DST gap in which some skipped
// wall time matches.
bool IsTickOracle(const CronModel& m, const absl::TimeZone& tz, absl::Time x) {
  const absl::TimeZone::CivilInfo ci = tz.At(x);
  if (ci.subsecond != absl::ZeroDuration()) return false;
  if (m.WallMatches(ci.cs) && tz.At(ci.cs).pre == x) return true;
  const absl::CivilSecond before = tz.At(x - absl::Seconds(1)).cs;
  for (absl::CivilSecond c = before + 1; c < ci.cs; ++c) {
    if (m.WallMatches(c)) return true;
  }
  return false;
}

// The whole-minute instants in (t, n) that could be ticks, checked against
// the oracle. The test zones have whole-minute offsets since 2000, so all
// ticks are at whole UTC minutes. Intervals up to three days are scanned
// minute by minute; longer ones on the local days whose date matches, with
// three hours of margin each side (a gap at midnight moves a tick to the
// following day).
void CheckNoTickBetween(const CronModel& m, const absl::TimeZone& tz,
                        absl::Time t, absl::Time n) {
  auto scan = [&](absl::Time from, absl::Time to) {
    absl::Time x = absl::FromUnixSeconds(absl::ToUnixSeconds(from) / 60 * 60);
    for (; x < to; x += absl::Minutes(1)) {
      if (x <= t || x >= n) continue;
      if (IsTickOracle(m, tz, x)) {
        RC_FAIL(absl::StrCat("missed tick ", Fmt(x), " between ", Fmt(t),
                             " and ", Fmt(n)));
      }
    }
  };
  if (n - t <= absl::Hours(72)) {
    scan(t, n);
    return;
  }
  const absl::CivilDay last = absl::CivilDay(tz.At(n).cs);
  for (absl::CivilDay d = absl::CivilDay(tz.At(t).cs); d <= last; ++d) {
    if (!m.DayMatches(d)) continue;
    scan(tz.At(absl::CivilSecond(d)).pre - absl::Hours(3),
         tz.At(absl::CivilSecond(d + 1)).post + absl::Hours(3));
  }
}

// What a call of CheckCronNext exercised, for RC_CLASSIFY.
struct Seen {
  bool short_wait = false;  // Next(t) - t <= 72 h
  bool gap_end = false;     // Next(t) is the end of a DST gap
  bool repeated = false;    // Next(t) is in a repeated (fall-back) hour
};

// The properties of Next(t) for the schedule `m` in `zone`.
Seen CheckCronNext(const CronModel& m, const std::string& zone, absl::Time t) {
  Seen seen;
  const absl::TimeZone tz = Zone(zone);
  RC_LOG() << "spec \"" << m.spec << "\" in " << zone << " after " << Fmt(t)
           << "\n";
  absl::StatusOr<Schedule> s = Schedule::Parse(m.spec, zone);
  if (!m.CanFire()) {
    RC_TAG("never fires");
    RC_ASSERT(!s.ok());
    RC_ASSERT(s.status().message().find("never fires") !=
              absl::string_view::npos);
    return seen;
  }
  RC_ASSERT(s.ok());
  const absl::Time n = s->Next(t);
  RC_LOG() << "Next = " << Fmt(n) << "\n";
  RC_ASSERT(n > t);
  RC_ASSERT(n < t + absl::Hours(24 * 366 * 30));
  RC_ASSERT(IsTickOracle(m, tz, n));
  RC_ASSERT(s->Next(n - absl::Nanoseconds(1)) == n);
  RC_ASSERT(s->IsTick(n));
  CheckNoTickBetween(m, tz, t, n);

  const absl::CivilSecond wall = tz.At(n).cs;
  seen.short_wait = n - t <= absl::Hours(72);
  seen.gap_end = tz.At(n - absl::Seconds(1)).cs + 1 != wall;
  seen.repeated = tz.At(wall).kind == absl::TimeZone::TimeInfo::REPEATED;
  return seen;
}

RC_GTEST_PROP(ScheduleProperty, CronNextIsTheFirstTickAfterT, ()) {
  const CronModel m = GenCron();
  const std::string zone = *rc::gen::elementOf(Zones());
  const Seen seen = CheckCronNext(m, zone, GenTime(Zone(zone)));
  RC_CLASSIFY(seen.short_wait, "Next within 72h");
  RC_CLASSIFY(seen.gap_end, "Next ends a DST gap");
  RC_CLASSIFY(seen.repeated, "Next in a repeated hour");
}

RC_GTEST_PROP(ScheduleProperty, CronNextAroundDstTransitions, ()) {
  const CronModel m = GenCron(/*every_day=*/true);
  const std::string zone = *rc::gen::element<std::string>(
      "America/New_York", "Europe/Berlin", "Australia/Lord_Howe");
  const int64_t lo = absl::ToUnixSeconds(Utc("2000-01-01 00:00"));
  const int64_t hi = absl::ToUnixSeconds(Utc("2040-01-01 00:00"));
  Seen any;
  for (int i = 0; i < 10; ++i) {
    // Mostly in the few hours before a transition, so that Next() crosses
    // it.
    const bool close = *rc::gen::inRange(0, 4) != 0;
    const absl::Time t = NearTransition(
        Zone(zone), absl::FromUnixSeconds(*rc::gen::inRange(lo, hi)),
        close ? absl::Hours(4) : absl::Hours(30),
        close ? absl::Hours(1) : absl::Hours(30));
    const Seen seen = CheckCronNext(m, zone, t);
    any.gap_end |= seen.gap_end;
    any.repeated |= seen.repeated;
  }
  RC_CLASSIFY(any.gap_end, "some Next ends a DST gap");
  RC_CLASSIFY(any.repeated, "some Next in a repeated hour");
}

RC_GTEST_PROP(ScheduleProperty, ParseRefusesExactlyTheSchedulesThatNeverFire,
              ()) {
  // Days from 28, 30 or 31 up to 31, often only in months shorter than 31
  // days, day of week '*': some of these can never fire ("30 feb"), and
  // exactly those must be refused; the others must parse and fire.
  CronModel m = GenCron();
  const int first_day = *rc::gen::element(28, 30, 31);
  const FieldModel dom =
      GenField({first_day, 31, 31, first_day, 31, {}, false, true});
  std::vector<std::string> fields = absl::StrSplit(m.spec, ' ');
  if (*rc::gen::arbitrary<bool>()) {
    static const char* const kNames[] = {"",    "jan", "feb", "mar", "apr",
                                         "may", "jun", "jul", "aug", "sep",
                                         "oct", "nov", "dec"};
    m.months = *rc::gen::nonEmpty(
        rc::gen::container<std::set<int>>(rc::gen::element(2, 4, 6, 9, 11)));
    std::vector<std::string> names;
    for (int month : m.months) names.push_back(kNames[month]);
    fields[3] = absl::StrJoin(names, ",");
  }
  m.spec = absl::StrCat(fields[0], " ", fields[1], " ", dom.text, " ",
                        fields[3], " *");
  m.doms = dom.values;
  m.dom_star = false;
  m.dows = Range(0, 6);
  m.dow_star = true;
  const std::string zone = *rc::gen::elementOf(Zones());
  CheckCronNext(m, zone, GenTime(Zone(zone)));
}

RC_GTEST_PROP(ScheduleProperty, CronTicksSeenFromTheOracleAreTicks, ()) {
  // The converse direction on random whole minutes: the oracle and IsTick
  // agree everywhere, not only at the ticks Next() returns.
  const CronModel m = GenCron();
  RC_PRE(m.CanFire());
  const std::string zone = *rc::gen::elementOf(Zones());
  const absl::TimeZone tz = Zone(zone);
  const absl::Time start = GenTime(tz);
  absl::StatusOr<Schedule> s = Schedule::Parse(m.spec, zone);
  RC_ASSERT(s.ok());
  absl::Time x = absl::FromUnixSeconds(absl::ToUnixSeconds(start) / 60 * 60);
  for (int i = 0; i < 200; ++i, x += absl::Minutes(1)) {
    RC_ASSERT(s->IsTick(x) == IsTickOracle(m, tz, x));
  }
}

RC_GTEST_PROP(ScheduleProperty, EveryTicksAtMultiplesOfD, ()) {
  absl::Duration d = absl::Seconds(*rc::gen::inRange(1, 200000));
  switch (*rc::gen::inRange(0, 3)) {
    case 0:
      d += absl::Nanoseconds(*rc::gen::inRange(0, 1000000000));
      break;
    case 1:
      d = absl::Hours(*rc::gen::inRange(1, 24 * 366 * 100));
      break;
    default:
      break;
  }
  const std::string spec = absl::StrCat("@every ", absl::FormatDuration(d));
  const std::string zone = *rc::gen::elementOf(Zones());
  // 1933..2043, so before the epoch too.
  const absl::Time t =
      absl::UnixEpoch() + absl::Nanoseconds(*rc::gen::inRange<int64_t>(
                              -(int64_t{1} << 60), int64_t{1} << 61));
  RC_LOG() << spec << " in " << zone << " after " << Fmt(t) << "\n";

  absl::StatusOr<Schedule> s = Schedule::Parse(spec, zone);
  RC_ASSERT(s.ok());
  RC_ASSERT(s->every() == d);
  const absl::Time n = s->Next(t);
  RC_ASSERT(n > t);
  RC_ASSERT(n - t <= d);
  absl::Duration rem;
  absl::IDivDuration(n - absl::UnixEpoch(), d, &rem);
  RC_ASSERT(rem == absl::ZeroDuration());
  RC_ASSERT(s->Next(n - absl::Nanoseconds(1)) == n);
  RC_ASSERT(s->Next(n) == n + d);
  RC_ASSERT(Schedule::Parse(spec, "UTC")->Next(t) == n);
}

}  // namespace
}  // namespace conch
