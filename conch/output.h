// How conch's commands print what they found: the output format chosen by
// -o/--output (or -w/--write-out, for etcdctl users, or --json), tables
// that are aligned for a person and tab-separated for a program, and the
// one timestamp format used everywhere.
//
// Formats:
//   * auto (no flag): a table, aligned when stdout is a terminal and
//     tab-separated (TSV) when it is piped;
//   * table / tsv: aligned / tab-separated whatever stdout is;
//   * wide: auto with more columns (NEXT in UTC beside the job's zone, the
//     command, …); aligned on a terminal, TSV when piped;
//   * json: one JSON document (or one per line for --watch and --follow).
//
// Tables: every cell is made one line (OneLine: a tab becomes "\t", so a
// TSV row always has as many fields as the header); an empty cell prints
// as "-". Aligned columns are separated by three spaces and padded by
// display width (UTF-8 code points); the last column is never padded.
//
// Timestamps: RFC 3339, to the second, with milliseconds only when the
// instant has a fraction of a second (a run's start does; a schedule's
// tick does not), in UTC ("Z") or with the zone's offset ("+01:00").
//
// Thread-compatible value types; IsTerminal reads no state of its own.
//
// Example:
//   Table t({"NAME", "NEXT"});
//   t.AddRow({"backup", Timestamp(next, zone)});
//   std::cout << t.Render(Aligned(options.output));
#ifndef CONCH_CONCH_OUTPUT_H_
#define CONCH_CONCH_OUTPUT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace conch {

enum class OutputFormat { kAuto, kTable, kTsv, kWide, kJson };

// "json", "wide", "table" or "tsv"; InvalidArgument for anything else.
absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text);

// "" when ParseOutputFormat accepts `text`, otherwise the reason.
std::string WhyNotOutputFormat(const std::string& text);

// The accepted values, for help texts and completion: "json|wide|table|tsv".
inline constexpr char kOutputFormats[] = "json|wide|table|tsv";

// Whether stdout is a terminal (isatty(1)).
bool StdoutIsTerminal();

// Whether a table printed in `format` is aligned (true) or TSV (false).
bool Aligned(OutputFormat format);

// Whether `format` asks for the wide columns.
inline bool Wide(OutputFormat format) { return format == OutputFormat::kWide; }

class Table {
 public:
  explicit Table(std::vector<std::string> header);

  // A row with as many cells as the header (missing cells print as "-";
  // extra cells are dropped).
  void AddRow(std::vector<std::string> cells);

  bool empty() const { return rows_.empty(); }

  // The header and the rows, each line ending in '\n'.
  std::string Render(bool aligned) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// The instant in RFC 3339 (see the file comment), in UTC.
std::string Timestamp(absl::Time t);
// In `zone`: "2026-03-07T02:30:00+01:00" ("Z" for UTC itself).
std::string Timestamp(absl::Time t, absl::TimeZone zone);
// A time stored as RFC 3339 text in a record, re-printed by Timestamp;
// text that does not parse is returned as it is (empty stays empty).
std::string StoredTimestamp(absl::string_view stored);

}  // namespace conch

#endif  // CONCH_CONCH_OUTPUT_H_
