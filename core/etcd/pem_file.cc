#include "core/etcd/pem_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace conch::etcd {
namespace {

absl::Status Bad(absl::string_view flag, const std::string& path,
                 absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat(flag, " file \"", absl::CHexEscape(path), "\" ", why));
}

// The labels of the well-formed PEM blocks in `text` ("CERTIFICATE",
// "PRIVATE KEY", ...); false if a block is malformed.
bool PemLabels(absl::string_view text, std::vector<std::string>* labels) {
  std::string label;  // of the open block, if any
  std::string body;
  bool open = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripTrailingAsciiWhitespace(line);
    if (absl::ConsumePrefix(&line, "-----BEGIN ")) {
      if (open || !absl::ConsumeSuffix(&line, "-----")) return false;
      label = std::string(line);
      body.clear();
      open = true;
    } else if (absl::ConsumePrefix(&line, "-----END ")) {
      std::string decoded;
      if (!open || !absl::ConsumeSuffix(&line, "-----") || line != label ||
          body.empty() || !absl::Base64Unescape(body, &decoded)) {
        return false;
      }
      labels->push_back(label);
      open = false;
    } else if (open && !absl::StrContains(line, ':')) {  // not a header
      body.append(line.data(), line.size());
    }
  }
  return !open;
}

}  // namespace

absl::Status CheckPem(absl::string_view flag, const std::string& path,
                      absl::string_view text, PemKind kind) {
  std::vector<std::string> labels;
  if (!PemLabels(text, &labels)) {
    return Bad(flag, path, "is not valid PEM (a BEGIN/END block is broken)");
  }
  const bool want_key = kind == PemKind::kPrivateKey;
  const absl::string_view wanted = want_key ? "PRIVATE KEY" : "CERTIFICATE";
  bool found = false;
  bool other_kind = false;
  for (const std::string& l : labels) {
    const bool is_key = absl::EndsWith(l, "PRIVATE KEY");
    const bool is_cert = l == "CERTIFICATE";
    found = found || (want_key ? is_key : is_cert);
    other_kind = other_kind || (want_key ? is_cert : is_key);
  }
  if (found) return absl::OkStatus();
  if (labels.empty()) {
    return Bad(flag, path, absl::StrCat("holds no PEM ", wanted, " block"));
  }
  if (other_kind) {
    return Bad(flag, path,
               absl::StrCat("holds no ", wanted, " block (it holds a ",
                            want_key ? "CERTIFICATE" : "PRIVATE KEY",
                            want_key ? ": swapped with --cert?)"
                                     : ": swapped with --key?)"));
  }
  return Bad(
      flag, path,
      absl::StrCat("holds no ", wanted, " block (found ", labels[0], ")"));
}

absl::StatusOr<std::string> ReadPemFile(absl::string_view flag,
                                        const std::string& path, PemKind kind) {
  // O_NONBLOCK: opening a fifo must not wait for a writer.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    return Bad(flag, path,
               absl::StrCat("cannot be read: ", std::strerror(errno)));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return Bad(flag, path, "is not a regular file");
  }
  if (static_cast<size_t>(st.st_size) > kMaxPemBytes) {
    close(fd);
    return Bad(flag, path,
               absl::StrCat("is too large (", st.st_size, " bytes, at most ",
                            kMaxPemBytes, ")"));
  }
  std::string text;
  char buf[65536];
  while (text.size() <= kMaxPemBytes) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      close(fd);
      return Bad(flag, path,
                 absl::StrCat("cannot be read: ", std::strerror(err)));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (text.size() > kMaxPemBytes) {
    return Bad(flag, path, "is too large");
  }
  absl::Status ok = CheckPem(flag, path, text, kind);
  if (!ok.ok()) return ok;
  return text;
}

}  // namespace conch::etcd
