// conch's exit codes (spec 00, sysexits.h where one fits) and the mapping
// from an absl::Status to the code a failure should end the process with.
//
// Pure; thread-safe.
//
// Example:
//   if (!conn.ok()) return ExitCodeFor(conn.status());  // 69, 77 or 64
#ifndef CONCH_CONCH_EXIT_CODES_H_
#define CONCH_CONCH_EXIT_CODES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace conch {

inline constexpr int kExitOk = 0;
inline constexpr int kExitVacant = 1;        // --who: nobody holds it
inline constexpr int kExitUsage = 64;        // EX_USAGE
inline constexpr int kExitUnavailable = 69;  // EX_UNAVAILABLE
inline constexpr int kExitSoftware = 70;     // EX_SOFTWARE: lease lost
inline constexpr int kExitTempFail = 75;     // EX_TEMPFAIL: not acquired
inline constexpr int kExitNoPerm = 77;       // EX_NOPERM
inline constexpr int kExitNotExecutable = 126;
inline constexpr int kExitNotFound = 127;

// The exit code for a failure before anything was acquired:
//   InvalidArgument, OutOfRange           → 64 (bad input)
//   PermissionDenied, Unauthenticated     → 77
//   anything else (Unavailable, Deadline) → 69 (etcd unreachable)
int ExitCodeFor(const absl::Status& status);

// Prints "conch: <message>" on stderr (one line; a PermissionDenied gets a
// hint about the user's role and --prefix) and returns ExitCodeFor(status).
// The name every message starts with: "conch" unless set ("conchd"). Set
// once, at the start of main().
void SetProgramName(absl::string_view name);
const std::string& ProgramName();

// Prints "<program>: <message>" on one line (OneLine) and returns
// ExitCodeFor(status).
int ReportFailure(const absl::Status& status);

// `text` with every control character written as an escape (\n, \t,
// \x1b, ...) and everything else, UTF-8 included, as it is: a value shown
// in a message or a table never splits a line or drives the terminal.
std::string OneLine(absl::string_view text);

}  // namespace conch

#endif  // CONCH_CONCH_EXIT_CODES_H_
