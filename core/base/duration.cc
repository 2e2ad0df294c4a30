#include "core/base/duration.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace conch {

absl::StatusOr<absl::Duration> ParseDuration(absl::string_view what,
                                             absl::string_view text) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  absl::Duration d;
  // absl accepts a bare "0"; anything else needs a unit.
  const bool has_unit = !trimmed.empty() && absl::ascii_isalpha(trimmed.back());
  if (trimmed.empty() || (!has_unit && trimmed != "0") ||
      !absl::ParseDuration(trimmed, &d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid ", what, " \"", text,
                     "\": expected a duration such as 500ms, 10s, 2m, 1h30m"));
  }
  if (d == absl::InfiniteDuration() || d == -absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid ", what, " \"", text, "\": must be finite"));
  }
  if (d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid ", what, " \"", text, "\": must not be negative"));
  }
  return d;
}

absl::StatusOr<absl::Duration> ParsePositiveDuration(absl::string_view what,
                                                     absl::string_view text) {
  absl::StatusOr<absl::Duration> d = ParseDuration(what, text);
  if (d.ok() && *d == absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid ", what, " \"", text, "\": must be positive"));
  }
  return d;
}

}  // namespace conch
