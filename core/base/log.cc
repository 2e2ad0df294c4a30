#include "core/base/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace conch {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kWarn)};
std::atomic<const char*> g_program{"conch"};
std::atomic<bool> g_wall_clock{false};

absl::string_view Name(LogLevel level) {
  switch (level) {
    case LogLevel::kError:
      return "error";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kDebug:
      return "debug";
  }
  return "?";
}

}  // namespace

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  for (LogLevel l :
       {LogLevel::kError, LogLevel::kWarn, LogLevel::kInfo, LogLevel::kDebug}) {
    if (lower == Name(l)) return l;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid --log-level \"", text, "\": use error, warn, info or debug"));
}

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }

void SetLogProgram(const char* program, bool wall_clock) {
  g_program = program;
  g_wall_clock = wall_clock;
}

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) <= g_level.load();
}

void Log(LogLevel level, absl::string_view message) {
  if (!LogEnabled(level)) return;
  // Milliseconds since the first message, to see where time goes.
  static const absl::Time start = absl::Now();
  const absl::Time now = absl::Now();
  const std::string when =
      g_wall_clock.load()
          ? absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", now, absl::UTCTimeZone())
          : absl::StrFormat("+%.1fms", absl::ToDoubleMilliseconds(now - start));
  const std::string line =
      absl::StrCat(g_program.load(), "[", getpid(), "] ", when, ": ",
                   Name(level), ": ", message, "\n");
  // One write keeps lines from different threads whole.
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace conch
