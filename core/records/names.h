// Names in etcd keys (spec 05 "Name encoding"): the office, semaphore or job
// NAME a user gives is percent-encoded before it becomes one key segment.
//
// Contract: a name is 1 to 256 arbitrary bytes (NUL, '/', '%', UTF-8, 0xff
// included). EncodeName keeps the bytes [A-Za-z0-9._-] and writes every
// other byte as '%' and two upper-case hex digits, so an encoded name never
// contains '/' and is at most 768 bytes. DecodeName accepts exactly the
// strings EncodeName produces (the canonical encodings) and nothing else: a
// truncated or non-hex escape, lower-case hex ("%2f"), an escaped byte that
// needs no escape ("%41" for "A"), or a raw byte outside [A-Za-z0-9._%-] is
// InvalidArgument. Encode and decode are therefore mutually inverse
// bijections between names and canonical encodings: one name, one key.
//
// Because the encoded segment holds no '/' and the key helpers always put a
// '/' after it, distinct names get disjoint key ranges: the range of "ab"
// never holds a key of "abc", and "a", "a/b", "a%2Fb" stay apart. "." and
// ".." are plain names ("/conch/elect/../" is one flat etcd key, not a path),
// so they cannot reach outside their own range either.
//
// Pure functions, thread-safe.
//
// Example:
//   absl::StatusOr<std::string> enc = EncodeName("db/primary");  //
//   db%2Fprimary if (!enc.ok()) return enc.status(); std::string range =
//   NameKeyPrefix("/conch/", "elect", *enc);
//   // "/conch/elect/db%2Fprimary/": read with PrefixRangeEnd(range).
#ifndef CONCH_CORE_RECORDS_NAMES_H_
#define CONCH_CORE_RECORDS_NAMES_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace conch {

// Bounds of a name, in bytes, before encoding.
inline constexpr size_t kMinNameBytes = 1;
inline constexpr size_t kMaxNameBytes = 256;

// Checks a name a user gives for a new office, semaphore or job: besides
// the length, no control characters (bytes 0x00-0x1f and 0x7f), which
// would split a table row or reach the terminal as escape sequences.
// InvalidArgument naming the first one. Names already stored are still
// decoded whatever their bytes (DecodeName).
absl::Status CheckNewName(absl::string_view name);

// Percent-encodes `name`. InvalidArgument "name must be 1 to 256 bytes" when
// it is empty or longer than 256 bytes.
absl::StatusOr<std::string> EncodeName(absl::string_view name);

// Inverse of EncodeName: decodes a canonical encoding back to the name.
// InvalidArgument for anything EncodeName would not have produced.
absl::StatusOr<std::string> DecodeName(absl::string_view encoded);

// The key prefix that holds everything of one name of one kind:
// "<prefix><kind>/<encoded_name>/", e.g. NameKeyPrefix("/conch/", "elect",
// "a%2Fb") == "/conch/elect/a%2Fb/". `prefix` is the --prefix flag (it
// normally ends in '/'); `kind` is a fixed schema segment such as "elect",
// "sema", "cron/tick" or "cron/result"; `encoded_name` must come from
// EncodeName. Always ends in '/', so no name's range contains another's.
std::string NameKeyPrefix(absl::string_view prefix, absl::string_view kind,
                          absl::string_view encoded_name);

// The single key of a name of one kind, "<prefix><kind>/<encoded_name>",
// e.g. NameKey("/conch/", "cron/job", "nightly") == "/conch/cron/job/nightly".
// Same preconditions as NameKeyPrefix.
std::string NameKey(absl::string_view prefix, absl::string_view kind,
                    absl::string_view encoded_name);

}  // namespace conch

#endif  // CONCH_CORE_RECORDS_NAMES_H_
