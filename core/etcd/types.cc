#include "core/etcd/types.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace conch::etcd {

std::string LeaseHex(LeaseId id) {
  return absl::StrFormat("%016x", static_cast<uint64_t>(id));
}

absl::StatusOr<LeaseId> ParseLeaseHex(absl::string_view text) {
  uint64_t value = 0;
  bool digits_ok = !text.empty() && text.size() <= 16;
  for (char c : text) digits_ok = digits_ok && absl::ascii_isxdigit(c);
  if (!digits_ok || !absl::SimpleHexAtoi(text, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid lease id \"", text, "\": expected hex digits"));
  }
  return static_cast<LeaseId>(value);
}

std::string PrefixRangeEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

}  // namespace conch::etcd
