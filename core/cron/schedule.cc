#include "core/cron/schedule.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "core/base/duration.h"

namespace conch {
namespace {

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr",
                                       "may", "jun", "jul", "aug",
                                       "sep", "oct", "nov", "dec"};
constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed",
                                     "thu", "fri", "sat"};

// One of the five cron fields.
struct Field {
  const char* name;  // for error messages
  int lo;            // smallest value
  int hi;            // largest value that may be written
  int star_hi;       // where `*` and `N/S` end (6 for day of week, else hi)
  const char* const* names;  // three-letter names of lo, lo+1, ...; or null
  int num_names;
  bool seven_is_zero;  // day of week: 7 is another name for 0 (Sunday)
};

constexpr Field kMinute = {"minute", 0, 59, 59, nullptr, 0, false};
constexpr Field kHour = {"hour", 0, 23, 23, nullptr, 0, false};
constexpr Field kDom = {"day of month", 1, 31, 31, nullptr, 0, false};
constexpr Field kMonth = {"month", 1, 12, 12, kMonthNames, 12, false};
constexpr Field kDow = {"day of week", 0, 7, 6, kDayNames, 7, true};

// Days in month `m` of year `y`, Gregorian.
int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  if (m != 2) return kDays[m - 1];
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return leap ? 29 : 28;
}

// Parses a decimal number (digits only, no sign) or, for fields with names,
// a three-letter name.
absl::StatusOr<int> ParseValue(const Field& f, absl::string_view text) {
  if (f.names != nullptr && !text.empty() && absl::ascii_isalpha(text[0])) {
    for (int i = 0; i < f.num_names; ++i) {
      if (absl::EqualsIgnoreCase(text, f.names[i])) return f.lo + i;
    }
    return absl::InvalidArgumentError(
        absl::StrCat(f.name, " \"", text, "\" is not a number or a name (",
                     f.names[0], "-", f.names[f.num_names - 1], ")"));
  }
  int v = 0;
  if (text.empty() || text.size() > 9 ||
      !std::all_of(text.begin(), text.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(text, &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat(f.name, " \"", text, "\" is not a number"));
  }
  if (v < f.lo || v > f.hi) {
    return absl::InvalidArgumentError(
        absl::StrCat(f.name, " ", v, " out of range ", f.lo, "-", f.hi));
  }
  return v;
}

// Parses one field into a bit set (bit v = value v allowed). Day-of-week 7
// is stored as 0.
absl::StatusOr<uint64_t> ParseField(const Field& f, absl::string_view text) {
  uint64_t bits = 0;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    if (item.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(f.name, " \"", text, "\" has an empty list item"));
    }
    absl::string_view base = item;
    int step = 1;
    const size_t slash = item.find('/');
    if (slash != absl::string_view::npos) {
      base = item.substr(0, slash);
      const absl::string_view step_text = item.substr(slash + 1);
      const int max_step = f.star_hi - f.lo + 1;
      if (step_text.empty() || step_text.size() > 9 ||
          !std::all_of(step_text.begin(), step_text.end(),
                       absl::ascii_isdigit) ||
          !absl::SimpleAtoi(step_text, &step)) {
        return absl::InvalidArgumentError(
            absl::StrCat(f.name, " step \"", step_text, "\" in \"", item,
                         "\" is not a number"));
      }
      if (step < 1 || step > max_step) {
        return absl::InvalidArgumentError(
            absl::StrCat(f.name, " step ", step, " in \"", item,
                         "\" out of range 1-", max_step));
      }
    }
    int first = 0;
    int last = 0;
    if (base == "*") {
      first = f.lo;
      last = f.star_hi;
    } else if (const size_t dash = base.find('-');
               dash != absl::string_view::npos) {
      // "-1", "1-": a side is missing; name the whole item, not "".
      if (dash == 0 || dash + 1 == base.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            f.name, " \"", item, "\" is not a number or a range N-M"));
      }
      absl::StatusOr<int> a = ParseValue(f, base.substr(0, dash));
      if (!a.ok()) return a.status();
      absl::StatusOr<int> b = ParseValue(f, base.substr(dash + 1));
      if (!b.ok()) return b.status();
      if (*a > *b) {
        return absl::InvalidArgumentError(
            absl::StrCat(f.name, " range \"", base, "\" is reversed"));
      }
      first = *a;
      last = *b;
    } else {
      absl::StatusOr<int> a = ParseValue(f, base);
      if (!a.ok()) return a.status();
      first = *a;
      // "N/S" runs from N to the end of the field.
      last = slash == absl::string_view::npos ? *a : std::max(*a, f.star_hi);
    }
    for (int v = first; v <= last; v += step) {
      bits |= uint64_t{1} << (f.seven_is_zero && v == 7 ? 0 : v);
    }
  }
  return bits;
}

// The five-field equivalent of a macro, or null.
const char* MacroFields(absl::string_view macro) {
  static constexpr std::pair<const char*, const char*> kMacros[] = {
      {"@yearly", "0 0 1 1 *"},  {"@annually", "0 0 1 1 *"},
      {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
      {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"},
  };
  for (const auto& [name, fields] : kMacros) {
    if (absl::EqualsIgnoreCase(macro, name)) return fields;
  }
  return nullptr;
}

// Refuses zone names that absl would treat as something else than an IANA
// name: a file path, "localtime" (the host's zone), or empty.
bool PlausibleZoneName(absl::string_view tz) {
  if (tz.empty() || tz.front() == '/' || tz == "localtime") return false;
  for (char c : tz) {
    if (!absl::ascii_isalnum(c) && c != '/' && c != '_' && c != '-' &&
        c != '+') {
      return false;
    }
  }
  for (absl::string_view part : absl::StrSplit(tz, '/')) {
    if (part.empty() || part == "..") return false;
  }
  return true;
}

// The interval of "@every D", from the words of the spec.
absl::StatusOr<absl::Duration> ParseEvery(
    const std::vector<absl::string_view>& words) {
  if (words.size() != 2) {
    return absl::InvalidArgumentError(
        "want @every and one duration, such as \"@every 90s\"");
  }
  absl::StatusOr<absl::Duration> d =
      ParsePositiveDuration("@every duration", words[1]);
  if (!d.ok()) return absl::InvalidArgumentError(d.status().message());
  if (*d < absl::Seconds(1)) {
    return absl::InvalidArgumentError("@every needs at least 1s");
  }
  return *d;
}

// Replaces the macro in `*words` (such as @daily) by its five fields.
absl::Status ExpandMacro(std::vector<absl::string_view>* words) {
  const char* fields = MacroFields((*words)[0]);
  if (fields == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown macro \"", (*words)[0],
                     "\" (want @yearly, @annually, @monthly, @weekly, @daily, "
                     "@midnight, @hourly or @every)"));
  }
  if (words->size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat((*words)[0], " takes no arguments"));
  }
  *words = absl::StrSplit(fields, ' ');
  return absl::OkStatus();
}

// Parses the five cron fields of `words` into `bits`, in order.
absl::Status ParseFields(const std::vector<absl::string_view>& words,
                         uint64_t bits[5]) {
  if (words.size() != 5) {
    return absl::InvalidArgumentError(
        absl::StrCat("want 5 fields (min hour dom month dow) or a macro, got ",
                     words.size()));
  }
  const Field* const kFields[] = {&kMinute, &kHour, &kDom, &kMonth, &kDow};
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<uint64_t> b = ParseField(*kFields[i], words[i]);
    if (!b.ok()) return b.status();
    bits[i] = *b;
  }
  return absl::OkStatus();
}

// Refuses days of month `doms` that no month of `months` has (bit sets, as
// in Schedule).
absl::Status CheckSomeDayExists(uint32_t doms, uint32_t months) {
  for (int m = 1; m <= 12; ++m) {
    if (((months >> m) & 1) == 0) continue;
    for (int d = 1; d <= DaysInMonth(/*leap year*/ 2000, m); ++d) {
      if ((doms >> d) & 1) return absl::OkStatus();
    }
  }
  std::vector<int> days;
  for (int d = 1; d <= 31; ++d) {
    if ((doms >> d) & 1) days.push_back(d);
  }
  std::vector<absl::string_view> month_names;
  for (int m = 1; m <= 12; ++m) {
    if ((months >> m) & 1) month_names.push_back(kMonthNames[m - 1]);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("never fires (no day ", absl::StrJoin(days, ","), " in ",
                   absl::StrJoin(month_names, ","), ")"));
}

}  // namespace

absl::StatusOr<Schedule> Schedule::Parse(absl::string_view spec,
                                         absl::string_view tz) {
  auto error = [spec](absl::string_view problem) {
    return absl::InvalidArgumentError(
        absl::StrCat("schedule \"", spec, "\": ", problem));
  };

  Schedule s;
  s.spec_ = std::string(spec);
  s.tz_name_ = std::string(tz);
  if (!PlausibleZoneName(tz) || !absl::LoadTimeZone(tz, &s.tz_)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown time zone \"", tz, "\""));
  }

  std::vector<absl::string_view> words =
      absl::StrSplit(spec, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  if (words.empty()) return error("empty");

  if (words[0].front() == '@') {
    if (absl::EqualsIgnoreCase(words[0], "@every")) {
      absl::StatusOr<absl::Duration> every = ParseEvery(words);
      if (!every.ok()) return error(every.status().message());
      s.every_ = *every;
      return s;
    }
    absl::Status expanded = ExpandMacro(&words);
    if (!expanded.ok()) return error(expanded.message());
  }

  uint64_t bits[5];
  absl::Status parsed = ParseFields(words, bits);
  if (!parsed.ok()) return error(parsed.message());
  s.minutes_ = bits[0];
  s.hours_ = static_cast<uint32_t>(bits[1]);
  s.doms_ = static_cast<uint32_t>(bits[2]);
  s.months_ = static_cast<uint32_t>(bits[3]);
  s.dows_ = static_cast<uint32_t>(bits[4]);
  s.dom_star_ = words[2].front() == '*';
  s.dow_star_ = words[4].front() == '*';

  // Only a restricted day of month with an unrestricted day of week can miss
  // every date: with both restricted the day of week alone matches some day
  // of every month, and a day-of-month field starting with '*' holds day 1.
  if (!s.dom_star_ && s.dow_star_) {
    absl::Status possible = CheckSomeDayExists(s.doms_, s.months_);
    if (!possible.ok()) return error(possible.message());
  }
  return s;
}

bool Schedule::DayMatches(int64_t y, int m, int d) const {
  const absl::Weekday wd = absl::GetWeekday(absl::CivilDay(y, m, d));
  // absl counts from Monday = 0; cron from Sunday = 0.
  const int dow = (static_cast<int>(wd) + 1) % 7;
  const bool dom_ok = (doms_ >> d) & 1;
  const bool dow_ok = (dows_ >> dow) & 1;
  if (!dom_star_ && !dow_star_) return dom_ok || dow_ok;
  return dom_ok && dow_ok;
}

absl::Time Schedule::Next(absl::Time t) const {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) {
    return absl::InfiniteFuture();
  }
  return is_every() ? NextEvery(t) : NextCron(t);
}

bool Schedule::IsTick(absl::Time t) const {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return false;
  return Next(t - absl::Nanoseconds(1)) == t;
}

absl::Time Schedule::NextEvery(absl::Time t) const {
  absl::Duration rem;
  const int64_t q = absl::IDivDuration(t - absl::UnixEpoch(), every_, &rem);
  // q truncates toward zero, so for t before the epoch q*D is already the
  // first multiple above t (unless t is a multiple itself).
  if (rem < absl::ZeroDuration()) return absl::UnixEpoch() + every_ * q;
  if (q == std::numeric_limits<int64_t>::max()) return absl::InfiniteFuture();
  return absl::UnixEpoch() + every_ * (q + 1);
}

absl::Time Schedule::NextCron(absl::Time t) const {
  // The instant a wall time stands for: the end of the gap when a DST gap
  // skips it, its first occurrence when a fall-back repeats it. This map is
  // non-decreasing in the wall time (strictly increasing outside gaps), so
  // walking wall times in order, the first instant > t is the answer, and
  // the skipped wall times of one gap collapse into one tick.
  auto resolve = [this](const absl::CivilSecond& cs) {
    const absl::TimeZone::TimeInfo ti = tz_.At(cs);
    return ti.kind == absl::TimeZone::TimeInfo::SKIPPED ? ti.trans : ti.pre;
  };
  // Wall times up to the minute of t map to instants <= t (by the
  // monotonicity above), so the walk starts at the following minute.
  const absl::CivilMinute start = absl::CivilMinute(tz_.At(t).cs) + 1;
  const int64_t y0 = start.year();
  // Every valid schedule fires within one 400-year Gregorian cycle.
  for (int64_t y = y0; y <= y0 + 401; ++y) {
    for (int m = y == y0 ? start.month() : 1; m <= 12; ++m) {
      if (((months_ >> m) & 1) == 0) continue;
      const bool start_month = y == y0 && m == start.month();
      const int days = DaysInMonth(y, m);
      for (int d = start_month ? start.day() : 1; d <= days; ++d) {
        if (!DayMatches(y, m, d)) continue;
        const bool start_day = start_month && d == start.day();
        for (int h = start_day ? start.hour() : 0; h < 24; ++h) {
          if (((hours_ >> h) & 1) == 0) continue;
          const bool start_hour = start_day && h == start.hour();
          for (int mi = start_hour ? start.minute() : 0; mi < 60; ++mi) {
            if (((minutes_ >> mi) & 1) == 0) continue;
            const absl::Time tick =
                resolve(absl::CivilSecond(y, m, d, h, mi, 0));
            if (tick > t) return tick;
          }
        }
      }
    }
  }
  return absl::InfiniteFuture();
}

}  // namespace conch
