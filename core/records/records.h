// Records: the JSON values conch stores in etcd (spec 05 "Records") — the
// holder, job, claim, result and daemon messages of core/records/records.proto
// — and the helpers to write, read and check them.
//
// Contract:
// - ToJson writes compact JSON with the proto field names (snake_case:
//   "exit_code", "claimed_at"). Every plain field is always written, even
//   when empty or zero ("user":"", "argv":[]), so a record is self-describing
//   for `--json` and jq; fields with presence (Holder.slot, Result.exit_code,
//   Result.signal) are written only when set, so slot 0 and exit code 0 differ
//   from "absent". Strings must be valid UTF-8 (proto3 rule): ToJson refuses
//   a record with invalid UTF-8 rather than losing it (SanitizeUtf8 first for
//   argv and command output).
// - FromJson is strict about types and syntax (a string for an int, a number
//   for a list, bad JSON, trailing garbage, non-UTF-8 bytes, both exit_code
//   and signal → InvalidArgument with a one-line message naming the record
//   type and the field) but ignores unknown fields, so newer writers do not
//   break older readers. Per protobuf's JSON mapping it also accepts integers
//   written as JSON strings ("pid":"12") or as integral floats (12.0), the
//   lowerCamel field names ("exitCode"), and null for "absent".
// - Times are RFC 3339 in UTC with exactly three fractional digits
//   ("2026-11-27T02:45:33.123Z"): fixed width, so strings sort as times.
//
// Pure functions, no I/O; thread-safe. The messages are ordinary protobuf
// values: thread-compatible.
//
// Example:
//   conch::records::Holder h;
//   h.set_host("db1");
//   h.set_pid(getpid());
//   h.set_since(conch::records::FormatRfc3339(absl::Now()));
//   h.set_lease(conch::etcd::LeaseHex(lease));
//   absl::StatusOr<std::string> value = conch::records::ToJson(h);
//   ...
//   conch::records::Holder read;
//   RETURN_IF_ERROR(conch::records::FromJson(kv.value, &read));
//   RETURN_IF_ERROR(conch::records::ValidateHolder(read));
#ifndef CONCH_CORE_RECORDS_RECORDS_H_
#define CONCH_CORE_RECORDS_RECORDS_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/records/records.pb.h"
#include "google/protobuf/message.h"

namespace conch::records {

// How much output a Result keeps by default (spec 04/05: the last 4 KiB),
// and at most (Job.keep_output): 64 results go out in one Txn, which etcd
// takes up to 1.5 MiB.
inline constexpr size_t kOutputTailBytes = 4096;
inline constexpr size_t kMaxOutputTailBytes = 16 * 1024;

// The largest record conch writes (its JSON). etcd refuses a request over
// 1.5 MiB by default, and one Txn may carry a record twice (a semaphore's
// queue and slot keys) beside other keys: a command line whose record is
// larger is refused (64) before anything is written.
inline constexpr size_t kMaxRecordBytes = 256 * 1024;

// Serializes `record` as compact JSON (see the contract above).
// InvalidArgument when a string field holds invalid UTF-8.
absl::StatusOr<std::string> ToJson(const google::protobuf::Message& record);

// The same for a Holder, written directly rather than through protobuf's
// reflection: every wrapper writes one on its way to a slot, and the first
// reflective write costs a short-lived process ~0.4 ms of descriptor set-up.
// Same fields, order and values; strings are escaped minimally ('"', '\\'
// and control characters), so FromJson reads back exactly the same Holder.
absl::StatusOr<std::string> ToJson(const Holder& holder);

// Parses `json` into `*out` (replacing its contents). On error returns
// InvalidArgument and leaves `*out` cleared. `out` must not be null.
absl::Status FromJson(absl::string_view json, google::protobuf::Message* out);

// Checks the fields every holder record must have: non-empty host, pid > 0,
// lease of exactly 16 lower-case hex digits (the LeaseHex form, as in the
// key), since in RFC 3339, and slot >= 0 when set. Returns InvalidArgument
// naming the first bad field.
absl::Status ValidateHolder(const Holder& holder);

// Formats a finite `t` as RFC 3339 in UTC with millisecond precision
// (truncated toward the past), e.g. "2026-11-27T02:45:33.123Z".
std::string FormatRfc3339(absl::Time t);

// Parses an RFC 3339 time with any offset and any number of fractional
// digits (absl::RFC3339_full). InvalidArgument for anything else, including
// surrounding whitespace and absl's "infinite-future"/"infinite-past".
absl::StatusOr<absl::Time> ParseRfc3339(absl::string_view text);

// Returns `bytes` with each byte that is not part of a valid UTF-8 sequence
// replaced by U+FFFD; valid UTF-8 is returned unchanged.
std::string SanitizeUtf8(absl::string_view bytes);

// The end of `bytes`, at most `max_bytes` long, sanitized as by SanitizeUtf8
// and cut on a character boundary (never half a character): for
// Result.output_tail with kOutputTailBytes.
std::string Utf8Tail(absl::string_view bytes, size_t max_bytes);

// What a Result keeps of a run's output: `tail` (the end of `bytes`, at
// most `max_bytes`, as Utf8Tail) and `cut`, how many bytes of the whole
// output (`total_bytes`, which may exceed bytes.size() when its start was
// dropped while reading) are not in it. A cut output starts after the
// first line break in the kept window, when there is one and text follows
// it, so that a reader sees whole lines.
struct OutputTail {
  std::string tail;
  int64_t cut = 0;
};
OutputTail LineTail(absl::string_view bytes, uint64_t total_bytes,
                    size_t max_bytes);

}  // namespace conch::records

#endif  // CONCH_CORE_RECORDS_RECORDS_H_
