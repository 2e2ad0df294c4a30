#include "conch/cron_format.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "conch/output.h"
#include "core/cron/schedule.h"

namespace conch {
namespace {

bool Plain(absl::string_view word) {
  return !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
           absl::string_view("@%+=:,./_-").find(c) != absl::string_view::npos;
  });
}

}  // namespace

absl::TimeZone JobZone(absl::string_view tz) {
  absl::TimeZone zone = absl::UTCTimeZone();
  // Schedule::Parse refuses what is not an IANA name (localtime, paths).
  if (Schedule::Parse("@daily", tz).ok() &&
      !absl::LoadTimeZone(std::string(tz), &zone)) {
    zone = absl::UTCTimeZone();
  }
  return zone;
}

std::string CommandLine(const records::Job& job) {
  std::string line;
  for (const std::string& word : job.argv()) {
    if (!line.empty()) line += ' ';
    if (Plain(word)) {
      line += word;
    } else {
      absl::StrAppend(&line, "'", absl::StrReplaceAll(word, {{"'", "'\\''"}}),
                      "'");
    }
  }
  return line;
}

etcd::TickState StateOfResult(absl::Time instant, const records::Result& r) {
  etcd::CronTick t;
  t.instant = instant;
  t.claim.emplace();
  t.claim->set_daemon(r.daemon());
  t.result = r;
  return etcd::StateOfTick(t, {});
}

void WriteRunMembers(JsonWriter& w, const records::Result& r,
                     absl::string_view output_key) {
  w.Field("started", StoredTimestamp(r.started()));
  w.Field("ended", StoredTimestamp(r.ended()));
  if (r.has_exit_code()) w.Field("exit_code", int64_t{r.exit_code()});
  if (r.has_signal()) w.Field("signal", int64_t{r.signal()});
  if (r.has_skipped()) w.Field("skipped", r.skipped());
  w.Field(output_key, r.output_tail());
  w.Field("output_cut", int64_t{r.output_cut()});
}

}  // namespace conch
