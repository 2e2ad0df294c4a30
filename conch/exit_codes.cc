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
  std::cerr << "conch: " << status.message();
  if (absl::IsPermissionDenied(status)) {
    // etcd says only "permission denied"; say what usually causes it.
    std::cerr << " (the etcd user's role must grant read and write on the"
                 " whole --prefix range)";
  }
  std::cerr << "\n";
  return ExitCodeFor(status);
}

}  // namespace conch
