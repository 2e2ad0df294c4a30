// conch's exit codes (spec 00, sysexits.h where one fits) and the mapping
// from an absl::Status to the code a failure should end the process with.
//
// Pure; thread-safe.
//
// Example:
//   if (!conn.ok()) return ExitCodeFor(conn.status());  // 69, 77 or 64
#ifndef CONCH_CONCH_EXIT_CODES_H_
#define CONCH_CONCH_EXIT_CODES_H_

#include "absl/status/status.h"

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
int ReportFailure(const absl::Status& status);

}  // namespace conch

#endif  // CONCH_CONCH_EXIT_CODES_H_
