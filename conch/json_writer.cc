#include "conch/json_writer.h"

#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
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

void JsonWriter::Separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (empty_.empty()) return;
  if (!empty_.back()) out_ += ",";
  empty_.back() = false;
}

JsonWriter& JsonWriter::Open(char bracket) {
  Separate();
  out_ += bracket;
  open_ += bracket == '{' ? '}' : ']';
  empty_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::Close(char bracket) {
  if (!open_.empty() && open_.back() == bracket) {
    out_ += bracket;
    open_.pop_back();
    empty_.pop_back();
  }
  return *this;
}

JsonWriter& JsonWriter::BeginObject() { return Open('{'); }
JsonWriter& JsonWriter::EndObject() { return Close('}'); }
JsonWriter& JsonWriter::BeginArray() { return Open('['); }
JsonWriter& JsonWriter::EndArray() { return Close(']'); }

JsonWriter& JsonWriter::Key(absl::string_view name) {
  Separate();
  absl::StrAppend(&out_, Quote(name), ":");
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(absl::string_view value) {
  Separate();
  out_ += Quote(value);
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t value) {
  Separate();
  absl::StrAppend(&out_, value);
  return *this;
}

JsonWriter& JsonWriter::Double(double value) {
  if (!std::isfinite(value)) return Null();
  Separate();
  // %.17g always reads back exactly; fewer digits usually do, and read
  // better ("0.1", not "0.10000000000000001").
  std::string text;
  for (int digits = 15; digits <= 17; ++digits) {
    text = absl::StrFormat("%.*g", digits, value);
    double back = 0;
    if (absl::SimpleAtod(text, &back) && back == value) break;
  }
  out_ += text;
  return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
  Separate();
  out_ += value ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::Null() {
  Separate();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::Raw(absl::string_view json) {
  Separate();
  out_.append(json.data(), json.size());
  return *this;
}

JsonWriter& JsonWriter::Members(absl::string_view object) {
  object = absl::StripAsciiWhitespace(object);
  if (object.size() < 2 || object.front() != '{' || object.back() != '}') {
    return *this;
  }
  absl::string_view inner =
      absl::StripAsciiWhitespace(object.substr(1, object.size() - 2));
  if (inner.empty()) return *this;
  Separate();
  out_.append(inner.data(), inner.size());
  return *this;
}

JsonWriter& JsonWriter::Field(absl::string_view name, absl::string_view value) {
  return Key(name).String(value);
}

JsonWriter& JsonWriter::Field(absl::string_view name, int64_t value) {
  return Key(name).Int(value);
}

JsonWriter& JsonWriter::Field(absl::string_view name, double value) {
  return Key(name).Double(value);
}

JsonWriter& JsonWriter::Field(absl::string_view name, bool value) {
  return Key(name).Bool(value);
}

std::string JsonWriter::Finish() {
  while (!open_.empty()) Close(open_.back());
  return std::move(out_);
}

}  // namespace conch
