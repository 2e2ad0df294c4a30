#include "conch/exit_codes.h"

#include <iostream>

#include "absl/strings/str_format.h"

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

std::string OneLine(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != 0x7f) {
      out.push_back(ch);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      absl::StrAppendFormat(&out, "\\x%02x", c);
    }
  }
  return out;
}

namespace {

std::string& MutableProgramName() {
  static std::string* name = new std::string("conch");
  return *name;
}

}  // namespace

void SetProgramName(absl::string_view name) {
  MutableProgramName() = std::string(name);
}

const std::string& ProgramName() { return MutableProgramName(); }

int ReportFailure(const absl::Status& status) {
  std::cerr << ProgramName() << ": " << OneLine(status.message());
  if (absl::IsPermissionDenied(status)) {
    // etcd says only "permission denied"; say what usually causes it.
    std::cerr << " (the etcd user's role must grant read and write on the"
                 " whole --prefix range)";
  }
  std::cerr << "\n";
  return ExitCodeFor(status);
}

}  // namespace conch
