#include "conch/exit_codes.h"

#include <iostream>

namespace conch {

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return kExitUsage;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return kExitNoPerm;
    default:
      return kExitUnavailable;
  }
}

int ReportFailure(const absl::Status& status) {
  std::cerr << "conch: " << status.message() << "\n";
  return ExitCodeFor(status);
}

}  // namespace conch
