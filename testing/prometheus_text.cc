#include "testing/prometheus_text.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace conch::test {
namespace {

bool IsNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == ':';
}

absl::StatusOr<MetricSample> ParseLine(absl::string_view line) {
  auto malformed = [line](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed metric line (", why, "): ", line));
  };
  MetricSample sample;
  size_t pos = 0;
  while (pos < line.size() && IsNameChar(line[pos])) ++pos;
  if (pos == 0) return malformed("no metric name");
  sample.name = std::string(line.substr(0, pos));
  if (pos < line.size() && line[pos] == '{') {
    const size_t open = pos++;
    bool in_quotes = false;
    while (pos < line.size()) {
      const char c = line[pos];
      if (in_quotes && c == '\\') {
        pos += 2;
        continue;
      }
      if (c == '"') in_quotes = !in_quotes;
      if (c == '}' && !in_quotes) break;
      ++pos;
    }
    if (pos >= line.size()) return malformed("unterminated labels");
    sample.labels = std::string(line.substr(open + 1, pos - open - 1));
    ++pos;
  }
  absl::string_view rest = absl::StripLeadingAsciiWhitespace(line.substr(pos));
  if (rest.size() == line.size() - pos && !rest.empty()) {
    return malformed("no space before the value");
  }
  std::vector<absl::string_view> fields =
      absl::StrSplit(rest, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  if (fields.empty() || fields.size() > 2) return malformed("bad field count");
  if (!absl::SimpleAtod(fields[0], &sample.value)) {
    return malformed("value is not a number");
  }
  return sample;
}

}  // namespace

absl::StatusOr<std::vector<MetricSample>> ParseMetricSamples(
    absl::string_view text) {
  std::vector<MetricSample> samples;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    absl::StatusOr<MetricSample> sample = ParseLine(line);
    if (!sample.ok()) return sample.status();
    samples.push_back(*std::move(sample));
  }
  return samples;
}

absl::StatusOr<double> SumMetricSamples(absl::string_view text,
                                        absl::string_view name) {
  absl::StatusOr<std::vector<MetricSample>> samples = ParseMetricSamples(text);
  if (!samples.ok()) return samples.status();
  double sum = 0;
  bool found = false;
  for (const MetricSample& sample : *samples) {
    if (sample.name != name) continue;
    found = true;
    sum += sample.value;
  }
  if (!found) {
    return absl::NotFoundError(absl::StrCat("no samples of metric ", name));
  }
  return sum;
}

}  // namespace conch::test
