// Wording shared by the checks of flag values (common_flags.cc) and the
// parse-error messages (command_line.cc): a private header of the
// common_flags library.
//
// Thread-safe pure functions.
//
// Example:
//   BadValue("--ttl", "5x", "not a duration", true)
//   // invalid --ttl "5x": not a duration
#ifndef CONCH_CONCH_FLAG_TEXT_H_
#define CONCH_CONCH_FLAG_TEXT_H_

#include <cstddef>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace conch::flag_text {

// A value longer than this is shown cut short in a message.
inline constexpr size_t kShownBytes = 80;

// `value` in double quotes, cut short (at a UTF-8 boundary) when long. The
// caller escapes control characters (OneLine) when it prints.
inline std::string Quote(absl::string_view value) {
  if (value.size() <= kShownBytes) return absl::StrCat("\"", value, "\"");
  size_t cut = kShownBytes;
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xc0) == 0x80) {
    --cut;
  }
  return absl::StrCat("\"", value.substr(0, cut), "\"... (", value.size(),
                      " bytes)");
}

inline std::string BadValue(absl::string_view label, absl::string_view value,
                            absl::string_view why, bool show_value) {
  if (!show_value) return absl::StrCat("invalid ", label, ": ", why);
  return absl::StrCat("invalid ", label, " ", Quote(value), ": ", why);
}

// `message` without `prefix`, or all of it if it does not start so.
inline std::string After(absl::string_view message, absl::string_view prefix) {
  absl::ConsumePrefix(&message, prefix);
  return std::string(message);
}

}  // namespace conch::flag_text

#endif  // CONCH_CONCH_FLAG_TEXT_H_
