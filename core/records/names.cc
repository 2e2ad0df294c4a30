#include "core/records/names.h"

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace conch {
namespace {

constexpr char kHexDigits[] = "0123456789ABCDEF";

// The bytes a name keeps as they are: [A-Za-z0-9._-].
bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

// The value of an upper-case hex digit, or -1 (lower case is not canonical).
int UpperHexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::Status BadLength() {
  return absl::InvalidArgumentError("name must be 1 to 256 bytes");
}

}  // namespace

absl::Status CheckNewName(absl::string_view name) {
  if (name.size() < kMinNameBytes || name.size() > kMaxNameBytes) {
    return BadLength();
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "name \"%s\" has a control character (byte 0x%02x at %d): not "
          "allowed",
          absl::CHexEscape(name), c, i));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeName(absl::string_view name) {
  if (name.size() < kMinNameBytes || name.size() > kMaxNameBytes) {
    return BadLength();
  }
  std::string out;
  out.reserve(name.size() * 3);
  for (char ch : name) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHexDigits[c >> 4]);
      out.push_back(kHexDigits[c & 0xf]);
    }
  }
  return out;
}

absl::StatusOr<std::string> DecodeName(absl::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(encoded[i]);
    if (IsUnreserved(c)) {
      out.push_back(encoded[i]);
      continue;
    }
    if (c != '%') {
      const char hex[] = {kHexDigits[c >> 4], kHexDigits[c & 0xf], '\0'};
      return absl::InvalidArgumentError(absl::StrCat(
          "encoded name has an unescaped byte 0x", hex, " at offset ", i));
    }
    if (encoded.size() - i < 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("encoded name has a truncated escape at offset ", i));
    }
    const int hi = UpperHexValue(encoded[i + 1]);
    const int lo = UpperHexValue(encoded[i + 2]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "encoded name has an escape that is not two upper-case hex digits "
          "at offset ",
          i));
    }
    const unsigned char byte = static_cast<unsigned char>(hi * 16 + lo);
    if (IsUnreserved(byte)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "encoded name escapes '", std::string(1, static_cast<char>(byte)),
          "', which must be written as is, at offset ", i));
    }
    out.push_back(static_cast<char>(byte));
    i += 2;
  }
  if (out.size() < kMinNameBytes || out.size() > kMaxNameBytes) {
    return BadLength();
  }
  return out;
}

std::string NameKeyPrefix(absl::string_view prefix, absl::string_view kind,
                          absl::string_view encoded_name) {
  return absl::StrCat(prefix, kind, "/", encoded_name, "/");
}

std::string NameKey(absl::string_view prefix, absl::string_view kind,
                    absl::string_view encoded_name) {
  return absl::StrCat(prefix, kind, "/", encoded_name);
}

}  // namespace conch
