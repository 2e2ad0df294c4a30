// RETURN_IF_ERROR: the one macro conch allows itself.
//
// Evaluates an expression yielding absl::Status and returns it from the
// enclosing function when it is not OK. Use it to keep early returns on
// error short; everything else is plain code.
//
// Example:
//   absl::Status Refresh() {
//     RETURN_IF_ERROR(Reconnect());
//     return Reload();
//   }
#ifndef CONCH_CORE_BASE_STATUS_MACROS_H_
#define CONCH_CORE_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"

#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    const ::absl::Status conch_status_ = (expr);   \
    if (!conch_status_.ok()) return conch_status_; \
  } while (false)

#endif  // CONCH_CORE_BASE_STATUS_MACROS_H_
