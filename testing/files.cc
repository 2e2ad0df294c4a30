#include "testing/files.h"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"

namespace conch::test {
namespace {

std::vector<std::string> CandidateRoots(bool prefer_shm) {
  std::vector<std::string> roots;
  if (prefer_shm && access("/dev/shm", W_OK | X_OK) == 0) {
    roots.push_back("/dev/shm");
  }
  const char* test_tmpdir = std::getenv("TEST_TMPDIR");
  if (test_tmpdir != nullptr && test_tmpdir[0] != '\0') {
    roots.push_back(test_tmpdir);
  }
  roots.push_back("/tmp");
  return roots;
}

}  // namespace

absl::StatusOr<std::string> MakeTempDir(absl::string_view prefix,
                                        bool prefer_shm) {
  std::string errors;
  for (const std::string& root : CandidateRoots(prefer_shm)) {
    std::string templ = absl::StrCat(root, "/", prefix, "XXXXXX");
    if (mkdtemp(templ.data()) != nullptr) return templ;
    absl::StrAppend(&errors, " ", root, ": ", std::strerror(errno), ";");
  }
  return absl::UnavailableError(
      absl::StrCat("cannot create a temporary directory:", errors));
}

absl::Status RemoveTree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot remove ", path, ": ", ec.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return absl::InternalError(absl::StrCat("cannot read ", path));
  return contents.str();
}

absl::Status WriteFile(const std::string& path, absl::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    return absl::UnavailableError(absl::StrCat("cannot create ", path));
  }
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

std::string LastLines(absl::string_view text, int max_lines) {
  if (max_lines <= 0) return "";
  size_t end = text.size();
  // A trailing newline ends the last line; it does not start a new one.
  if (end > 0 && text[end - 1] == '\n') --end;
  size_t pos = end;
  int lines = 0;
  while (pos > 0) {
    if (text[pos - 1] == '\n' && ++lines == max_lines) break;
    --pos;
  }
  return std::string(text.substr(pos));
}

}  // namespace conch::test
