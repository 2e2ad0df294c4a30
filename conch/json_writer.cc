#include "conch/json_writer.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace conch {

std::string JsonWriter::Quote(absl::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppend(&out, absl::StrFormat("\\u%04x", c));
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += "\"";
  return out;
}

void JsonWriter::Name(absl::string_view name) {
  if (!first_) out_ += ",";
  first_ = false;
  absl::StrAppend(&out_, Quote(name), ":");
}

void JsonWriter::Field(absl::string_view name, absl::string_view value) {
  Name(name);
  out_ += Quote(value);
}

void JsonWriter::Field(absl::string_view name, int64_t value) {
  Name(name);
  absl::StrAppend(&out_, value);
}

void JsonWriter::Field(absl::string_view name, bool value) {
  Name(name);
  out_ += value ? "true" : "false";
}

std::string JsonWriter::Finish() {
  out_ += "}";
  return std::move(out_);
}

}  // namespace conch
