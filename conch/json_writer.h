// JsonWriter: builds the JSON document of a --json answer (objects,
// arrays, strings escaped per RFC 8259), and splices in JSON that is
// already written (records stored in etcd use protobuf's JSON mapping).
// Every `--json` of conch goes through it.
//
// Calls must form a document: a Key before each value inside an object,
// containers closed in order. A misuse is a programming error, not input:
// it is not detected beyond what Finish() can see (unclosed containers
// are closed there).
//
// Thread-compatible.
//
// Example:
//   JsonWriter w;
//   w.BeginObject().Field("name", "db").Key("holders").BeginArray();
//   w.BeginObject().Members(stored_record).Field("rev", int64_t{7});
//   w.EndObject().EndArray().EndObject();
//   std::cout << w.Finish();  // {"name":"db","holders":[{...,"rev":7}]}
#ifndef CONCH_CONCH_JSON_WRITER_H_
#define CONCH_CONCH_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace conch {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // The name of the next member of the current object.
  JsonWriter& Key(absl::string_view name);

  JsonWriter& String(absl::string_view value);
  JsonWriter& Int(int64_t value);
  // The shortest decimal that reads back as `value` ("0.25", "1e+21");
  // NaN and the infinities, which JSON cannot hold, as null.
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // A value that is JSON already, written as is.
  JsonWriter& Raw(absl::string_view json);
  // The members of `object`, a JSON object's text (a stored record), as
  // members of the current object. Anything but an object adds nothing.
  JsonWriter& Members(absl::string_view object);

  // Key(name), then the value.
  JsonWriter& Field(absl::string_view name, absl::string_view value);
  JsonWriter& Field(absl::string_view name, const char* value) {
    return Field(name, absl::string_view(value));
  }
  JsonWriter& Field(absl::string_view name, int64_t value);
  JsonWriter& Field(absl::string_view name, double value);
  JsonWriter& Field(absl::string_view name, bool value);

  // The document; the writer must not be used afterwards.
  std::string Finish();

  // `text` as a quoted JSON string.
  static std::string Quote(absl::string_view text);

 private:
  // The comma before a value or key, unless it is the first in its
  // container or follows its key.
  void Separate();
  JsonWriter& Open(char bracket);
  JsonWriter& Close(char bracket);

  std::string out_;
  std::string open_;         // the open containers' closing brackets
  std::vector<bool> empty_;  // per open container: nothing in it yet
  bool after_key_ = false;
};

}  // namespace conch

#endif  // CONCH_CONCH_JSON_WRITER_H_
