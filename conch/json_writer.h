// JsonWriter: builds one flat JSON object for --json output, escaping
// strings per RFC 8259. Records stored in etcd use protobuf's JSON mapping
// instead; this is only for small command-line answers.
//
// Thread-compatible.
//
// Example:
//   JsonWriter w;
//   w.Field("version", "3.4.23");
//   w.Field("revision", int64_t{17});
//   std::cout << w.Finish();  // {"version":"3.4.23","revision":17}
#ifndef CONCH_CONCH_JSON_WRITER_H_
#define CONCH_CONCH_JSON_WRITER_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace conch {

class JsonWriter {
 public:
  void Field(absl::string_view name, absl::string_view value);
  void Field(absl::string_view name, const char* value) {
    Field(name, absl::string_view(value));
  }
  void Field(absl::string_view name, int64_t value);
  void Field(absl::string_view name, bool value);
  // The object; the writer must not be used afterwards.
  std::string Finish();

  // `text` as a quoted JSON string.
  static std::string Quote(absl::string_view text);

 private:
  void Name(absl::string_view name);
  std::string out_ = "{";
  bool first_ = true;
};

}  // namespace conch

#endif  // CONCH_CONCH_JSON_WRITER_H_
