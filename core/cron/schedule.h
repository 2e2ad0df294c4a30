// Schedule: the `conch cron` schedule (a five-field cron line, a macro or
// `@every D`) and the computation of its next tick in an IANA time zone.
//
// Syntax (fields separated by spaces or tabs):
//   min hour dom month dow    minute 0-59, hour 0-23, day of month 1-31,
//                             month 1-12 or jan-dec, day of week 0-7 or
//                             sun-sat (0 and 7 are Sunday). Names are the
//                             three-letter English ones, in any case.
//   Each field is a comma-separated list of items: `*`, `N`, `A-B` (A <= B),
//   each optionally followed by a step `/S` (`*/15`, `10-50/20`), and `N/S`
//   meaning N up to the field's maximum in steps of S. S runs from 1 to the
//   number of values of the field. In the day-of-week field `*` and `N/S`
//   end at 6 (Saturday), so `1/2` is mon,wed,fri; 7 is only ever written
//   explicitly (`7`, `5-7`).
//   @yearly (@annually), @monthly, @weekly, @daily (@midnight), @hourly:
//                             0 0 1 1 *, 0 0 1 * *, 0 0 * * 0, 0 0 * * *,
//                             0 * * * *.
//   @every D                  D in absl duration syntax with a unit ("90s",
//                             "1h30m"), at least 1s.
//
// Contract:
// - Day rule (Vixie cron): when both the day-of-month and the day-of-week
//   field are restricted (neither starts with `*`), a day matches if EITHER
//   matches; otherwise both must (a `*`-field matches every day).
// - A cron schedule's ticks are the instants, at whole seconds, whose wall
//   time in the zone matches the fields. A wall time skipped by a DST gap
//   fires once, at the end of the gap (the transition instant); all skipped
//   wall times of one gap collapse into that single tick. A wall time
//   repeated by a fall-back fires once, at its first occurrence.
// - `@every D` ticks at the instants k*D after the Unix epoch (k any
//   integer), independent of the zone, which is still validated. D need not
//   be a whole number of seconds: `@every 1.5s` ticks at ...:00, :01.5, ...
// - Parse refuses (InvalidArgument, one line naming the problem) anything
//   malformed and any schedule that can never fire ("0 0 30 2 *"); Feb 29 is
//   a valid date, so "0 0 29 2 *" fires in leap years.
//
// Thread-safety: a Schedule is immutable after Parse; copy it freely and call
// its const methods from any number of threads.
//
// Example:
//   absl::StatusOr<Schedule> s = Schedule::Parse("30 2 * * *",
//                                                "Europe/Berlin");
//   if (!s.ok()) return s.status();
//   absl::Time next = s->Next(absl::Now());  // the next 02:30 in Berlin
#ifndef CONCH_CORE_CRON_SCHEDULE_H_
#define CONCH_CORE_CRON_SCHEDULE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace conch {

class Schedule {
 public:
  // Parses `spec` and loads the IANA zone `tz` ("UTC", "Europe/Berlin").
  // Errors are InvalidArgument: `schedule "<spec>": <problem>` for the spec,
  // `unknown time zone "<tz>"` for a zone absl cannot load (or that is not a
  // plain zone name: empty, "localtime", a path).
  static absl::StatusOr<Schedule> Parse(absl::string_view spec,
                                        absl::string_view tz = "UTC");

  // The first tick strictly after `t`. Every parsed schedule fires again
  // within the 400-year Gregorian cycle, so this is always a finite time for
  // a finite `t` within absl's civil range; InfiniteFuture() for an infinite
  // `t` (or past the end of time). Cost: one step per local day up to the
  // tick (months not in the schedule are skipped whole) and one zone lookup
  // per candidate wall time on the day of the tick; microseconds in practice.
  absl::Time Next(absl::Time t) const;

  // True iff `t` is a tick: Next(t - 1ns) == t.
  bool IsTick(absl::Time t) const;

  // The spec and zone name as given to Parse.
  const std::string& spec() const { return spec_; }
  const std::string& tz_name() const { return tz_name_; }

  // True for `@every D`; every() is then D (zero for cron schedules).
  bool is_every() const { return every_ > absl::ZeroDuration(); }
  absl::Duration every() const { return every_; }

 private:
  Schedule() = default;

  absl::Time NextCron(absl::Time t) const;
  absl::Time NextEvery(absl::Time t) const;
  // Whether the civil day y-m-d (m and d in range) passes the month and day
  // fields.
  bool DayMatches(int64_t y, int m, int d) const;

  std::string spec_;
  std::string tz_name_;
  absl::TimeZone tz_;
  absl::Duration every_;  // > 0 only for @every.
  // Bit i set = value i allowed. Day of week: 0 = Sunday .. 6 = Saturday.
  uint64_t minutes_ = 0;
  uint32_t hours_ = 0;
  uint32_t doms_ = 0;
  uint32_t months_ = 0;
  uint32_t dows_ = 0;
  bool dom_star_ = false;  // the day-of-month field starts with '*'
  bool dow_star_ = false;  // the day-of-week field starts with '*'
};

}  // namespace conch

#endif  // CONCH_CORE_CRON_SCHEDULE_H_
