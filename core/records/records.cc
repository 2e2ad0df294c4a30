#include "core/records/records.h"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

namespace conch::records {
namespace {

using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::Message;
using ::google::protobuf::Reflection;

constexpr char kReplacementChar[] = "\xEF\xBF\xBD";  // U+FFFD in UTF-8.

// The length of the valid UTF-8 sequence (RFC 3629: no overlong forms, no
// surrogates, at most U+10FFFF) starting at s[i], or 0 if there is none.
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // Bounds of the second byte.
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // Overlong.
    if (c == 0xED) hi = 0x9F;  // Surrogates.
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;  // Overlong.
    if (c == 0xF4) hi = 0x8F;  // Above U+10FFFF.
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = i + 2; k < i + len; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return 0;
  }
  return len;
}

bool IsValidUtf8(absl::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// Finds the first string field of `m` (recursively) that is not valid UTF-8
// and names it in the error, e.g. "Holder field argv[1]".
absl::Status CheckUtf8(const Message& m) {
  const Reflection* r = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const FieldDescriptor* f : fields) {
    if (f->type() == FieldDescriptor::TYPE_STRING) {
      if (f->is_repeated()) {
        for (int k = 0; k < r->FieldSize(m, f); ++k) {
          if (!IsValidUtf8(r->GetRepeatedString(m, f, k))) {
            return absl::InvalidArgumentError(
                absl::StrCat(m.GetDescriptor()->name(), " field ", f->name(),
                             "[", k, "] is not valid UTF-8"));
          }
        }
      } else if (!IsValidUtf8(r->GetString(m, f))) {
        return absl::InvalidArgumentError(
            absl::StrCat(m.GetDescriptor()->name(), " field ", f->name(),
                         " is not valid UTF-8"));
      }
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (f->is_repeated()) {
        for (int k = 0; k < r->FieldSize(m, f); ++k) {
          absl::Status s = CheckUtf8(r->GetRepeatedMessage(m, f, k));
          if (!s.ok()) return s;
        }
      } else {
        absl::Status s = CheckUtf8(r->GetMessage(m, f));
        if (!s.ok()) return s;
      }
    }
  }
  return absl::OkStatus();
}

// protobuf's messages may span lines (a caret under the offending input):
// keep the first line only.
std::string FirstLine(absl::string_view text) {
  const absl::string_view line =
      absl::StripAsciiWhitespace(text.substr(0, text.find('\n')));
  return std::string(line.data(), line.size());
}

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

}  // namespace

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& record) {
  absl::Status utf8 = CheckUtf8(record);
  if (!utf8.ok()) return utf8;

  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  const google::protobuf::util::Status s =
      google::protobuf::util::MessageToJsonString(record, &out, options);
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write ", record.GetDescriptor()->name(),
                     " as JSON: ", FirstLine(s.message().ToString())));
  }
  return out;
}

namespace {

void AppendJsonString(std::string* out, absl::string_view s) {
  out->push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\r':
        out->append("\\r");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(
              out, "\\u00",
              absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

}  // namespace

absl::StatusOr<std::string> ToJson(const Holder& holder) {
  const std::pair<const char*, const std::string*> strings[] = {
      {"host", &holder.host()},
      {"user", &holder.user()},
      {"since", &holder.since()},
      {"lease", &holder.lease()},
      {"state", &holder.state()}};
  for (const auto& [name, value] : strings) {
    if (!IsValidUtf8(*value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("Holder field ", name, " is not valid UTF-8"));
    }
  }
  for (int k = 0; k < holder.argv_size(); ++k) {
    if (!IsValidUtf8(holder.argv(k))) {
      return absl::InvalidArgumentError(
          absl::StrCat("Holder field argv[", k, "] is not valid UTF-8"));
    }
  }
  std::string out = "{\"host\":";
  AppendJsonString(&out, holder.host());
  absl::StrAppend(&out, ",\"pid\":", holder.pid(), ",\"user\":");
  AppendJsonString(&out, holder.user());
  out.append(",\"since\":");
  AppendJsonString(&out, holder.since());
  out.append(",\"lease\":");
  AppendJsonString(&out, holder.lease());
  out.append(",\"argv\":[");
  for (int i = 0; i < holder.argv_size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(&out, holder.argv(i));
  }
  out.append("],\"state\":");
  AppendJsonString(&out, holder.state());
  if (holder.has_slot()) absl::StrAppend(&out, ",\"slot\":", holder.slot());
  out.push_back('}');
  return out;
}

absl::Status FromJson(absl::string_view json, google::protobuf::Message* out) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const google::protobuf::util::Status s =
      google::protobuf::util::JsonStringToMessage(
          google::protobuf::StringPiece(json.data(), json.size()), out,
          options);
  if (!s.ok()) {
    out->Clear();
    return absl::InvalidArgumentError(
        absl::StrCat("bad ", out->GetDescriptor()->name(),
                     " record: ", FirstLine(s.message().ToString())));
  }
  return absl::OkStatus();
}

absl::Status ValidateHolder(const Holder& holder) {
  if (holder.host().empty()) {
    return absl::InvalidArgumentError("bad Holder record: host is empty");
  }
  if (holder.pid() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad Holder record: pid must be > 0, got ", holder.pid()));
  }
  const std::string& lease = holder.lease();
  bool lease_ok = lease.size() == 16;
  for (char c : lease) lease_ok = lease_ok && IsLowerHex(c);
  if (!lease_ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad Holder record: lease must be 16 lower-case hex digits, got \"",
        absl::CHexEscape(lease), "\""));
  }
  absl::StatusOr<absl::Time> since = ParseRfc3339(holder.since());
  if (!since.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad Holder record: since: ", since.status().message()));
  }
  if (holder.has_slot() && holder.slot() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad Holder record: slot must be >= 0, got ", holder.slot()));
  }
  return absl::OkStatus();
}

std::string FormatRfc3339(absl::Time t) {
  return absl::FormatTime("%E4Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

absl::StatusOr<absl::Time> ParseRfc3339(absl::string_view text) {
  absl::Time t;
  std::string err;
  if (absl::StripAsciiWhitespace(text) != text ||
      !absl::ParseTime(absl::RFC3339_full, text, &t, &err) ||
      t == absl::InfiniteFuture() || t == absl::InfinitePast()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an RFC 3339 time: \"", absl::CHexEscape(text), "\""));
  }
  return t;
}

std::string SanitizeUtf8(absl::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    const size_t n = Utf8SequenceLength(bytes, i);
    if (n == 0) {
      out.append(kReplacementChar);
      ++i;
    } else {
      out.append(bytes.data() + i, n);
      i += n;
    }
  }
  return out;
}

std::string Utf8Tail(absl::string_view bytes, size_t max_bytes) {
  if (bytes.size() > max_bytes) {
    bytes.remove_prefix(bytes.size() - max_bytes);
    // Skip the continuation bytes of a character cut by the window.
    for (int k = 0; k < 3 && !bytes.empty() &&
                    (static_cast<unsigned char>(bytes[0]) & 0xC0) == 0x80;
         ++k) {
      bytes.remove_prefix(1);
    }
  }
  std::string out = SanitizeUtf8(bytes);
  // Replacement characters may have grown it: drop whole leading characters.
  size_t start = 0;
  while (out.size() - start > max_bytes) {
    start += Utf8SequenceLength(out, start);
  }
  return out.substr(start);
}

OutputTail LineTail(absl::string_view bytes, uint64_t total_bytes,
                    size_t max_bytes) {
  OutputTail out;
  const uint64_t total = std::max<uint64_t>(total_bytes, bytes.size());
  if (total <= max_bytes && bytes.size() == total) {
    out.tail = Utf8Tail(bytes, max_bytes);
    return out;
  }
  if (bytes.size() > max_bytes) bytes.remove_prefix(bytes.size() - max_bytes);
  // Never half a character: skip the continuation bytes of one cut short.
  for (int k = 0; k < 3 && !bytes.empty() &&
                  (static_cast<unsigned char>(bytes[0]) & 0xC0) == 0x80;
       ++k) {
    bytes.remove_prefix(1);
  }
  const size_t newline = bytes.find('\n');
  if (newline != absl::string_view::npos && newline + 1 < bytes.size()) {
    bytes.remove_prefix(newline + 1);
  }
  out.tail = Utf8Tail(bytes, max_bytes);
  // Bytes dropped: everything but what the kept (raw) window held.
  const uint64_t kept = bytes.size();
  out.cut = static_cast<int64_t>(total - kept);
  return out;
}

}  // namespace conch::records
