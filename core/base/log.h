// Minimal diagnostics for conch: one line per message on stderr, never
// stdout (stdout belongs to the child and to --who/--json output).
//
// The level is process-wide (set once from --log-level / -v / CONCH_LOG).
// Thread-safe: each message is written with a single write(2).
//
// Example:
//   SetLogLevel(LogLevel::kInfo);
//   Log(LogLevel::kInfo, absl::StrCat("acquired ", name));
#ifndef CONCH_CORE_BASE_LOG_H_
#define CONCH_CORE_BASE_LOG_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace conch {

enum class LogLevel { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

// "error", "warn", "info", "debug" (case-insensitive).
absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view text);
void SetLogLevel(LogLevel level);
// The name in front of each line ("conch" by default; `program` must live
// forever, e.g. a literal) and whether lines carry the UTC wall-clock time
// (daemons) instead of the milliseconds since the first message.
void SetLogProgram(const char* program, bool wall_clock);
bool LogEnabled(LogLevel level);

// Writes "conch[pid] +12.3ms: <level>: <message>\n" to stderr when enabled.
void Log(LogLevel level, absl::string_view message);

}  // namespace conch

#endif  // CONCH_CORE_BASE_LOG_H_
