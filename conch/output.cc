#include "conch/output.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "conch/exit_codes.h"
#include "core/records/records.h"

namespace conch {
namespace {

// Display width, counted in UTF-8 code points (continuation bytes do not
// count): close enough for names and states.
size_t Width(absl::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string Cell(absl::string_view text) {
  return text.empty() ? std::string("-") : OneLine(text);
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text) {
  if (text == "json") return OutputFormat::kJson;
  if (text == "wide") return OutputFormat::kWide;
  if (text == "table") return OutputFormat::kTable;
  if (text == "tsv") return OutputFormat::kTsv;
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid output format \"", OneLine(text), "\": want ", kOutputFormats));
}

std::string WhyNotOutputFormat(const std::string& text) {
  return ParseOutputFormat(text).ok() ? ""
                                      : absl::StrCat("want ", kOutputFormats);
}

bool StdoutIsTerminal() { return isatty(STDOUT_FILENO) == 1; }

bool Aligned(OutputFormat format) {
  switch (format) {
    case OutputFormat::kTable:
      return true;
    case OutputFormat::kTsv:
    case OutputFormat::kJson:
      return false;
    case OutputFormat::kAuto:
    case OutputFormat::kWide:
      return StdoutIsTerminal();
  }
  return false;
}

Table::Table(std::vector<std::string> header) : header_(std::move(header)) {}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(header_.size());
  for (std::string& c : cells) c = Cell(c);
  rows_.push_back(std::move(cells));
}

std::string Table::Render(bool aligned) const {
  std::vector<size_t> widths(header_.size(), 0);
  if (aligned) {
    for (size_t i = 0; i < header_.size(); ++i) widths[i] = Width(header_[i]);
    for (const std::vector<std::string>& row : rows_) {
      for (size_t i = 0; i < row.size(); ++i) {
        widths[i] = std::max(widths[i], Width(row[i]));
      }
    }
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 == cells.size()) break;
      if (aligned) {
        out.append(widths[i] - Width(cells[i]) + 3, ' ');
      } else {
        out += '\t';
      }
    }
    out += '\n';
  };
  line(header_);
  for (const std::vector<std::string>& row : rows_) line(row);
  return out;
}

std::string Timestamp(absl::Time t) {
  return Timestamp(t, absl::UTCTimeZone());
}

std::string Timestamp(absl::Time t, absl::TimeZone zone) {
  // Milliseconds only when there are some.
  const absl::Time second = absl::FromUnixSeconds(absl::ToUnixSeconds(t));
  const bool fraction =
      absl::Trunc(t - second, absl::Milliseconds(1)) != absl::ZeroDuration();
  const bool utc = zone == absl::UTCTimeZone() || zone.name() == "UTC" ||
                   zone.name() == "Etc/UTC";
  return absl::FormatTime(
      absl::StrCat("%Y-%m-%dT%H:%M:", fraction ? "%E3S" : "%S",
                   utc ? "Z" : "%Ez"),
      t, zone);
}

std::string StoredTimestamp(absl::string_view stored) {
  absl::StatusOr<absl::Time> t = records::ParseRfc3339(stored);
  if (!t.ok()) return std::string(stored);
  return Timestamp(*t);
}

}  // namespace conch
