#include "conch/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "conch/exit_codes.h"
#include "conch/json_writer.h"
#include "conch/output.h"
#include "core/base/log.h"

namespace conch {
namespace {

int TerminalWidth() {
  struct winsize ws {};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    return ws.ws_col;
  }
  return 80;
}

// The first `columns` code points of `s`.
std::string Cut(const std::string& s, int columns) {
  int seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (seen++ == columns) return s.substr(0, i);
  }
  return s;
}

std::string PlaceJson(const Contenders& c, const Place& p) {
  JsonWriter w;
  w.BeginObject()
      .Field("event", "waiting")
      .Field("name", c.name)
      .Field("position", int64_t{p.position})
      .Field("of", int64_t{p.of});
  w.Key("holders").BeginArray();
  for (const Contender* h : p.holders) {
    w.BeginObject();
    if (h->slot >= 0) w.Field("slot", int64_t{h->slot});
    w.Field("host", h->holder.record.host())
        .Field("pid", int64_t{h->holder.record.pid()})
        .Field("since", StoredTimestamp(h->holder.record.since()))
        .Field("rev", h->holder.revision)
        .EndObject();
  }
  w.EndArray().EndObject();
  return w.Finish();
}

}  // namespace

Progress::Mode Progress::Choose(bool json) {
  if (json) return Mode::kJson;
  if (LogEnabled(LogLevel::kInfo)) return Mode::kLines;
  if (isatty(STDERR_FILENO) == 1) return Mode::kInPlace;
  return Mode::kOff;
}

Progress::Progress(Mode mode, std::ostream& out, int width)
    : mode_(mode),
      out_(out),
      width_(width > 0 ? width
                       : (mode == Mode::kInPlace ? TerminalWidth() : 80)) {}

Progress::~Progress() { Clear(); }

void Progress::Waiting(const Contenders& c, const std::string& key) {
  std::optional<Place> p = FindPlace(c, key);
  if (mode_ == Mode::kOff || !p.has_value()) return;
  const std::string line = PlaceLine(c, key);
  if (line == shown_) return;
  shown_ = line;
  switch (mode_) {
    case Mode::kJson:
      out_ << PlaceJson(c, *p) << "\n" << std::flush;
      break;
    case Mode::kLines:
      Log(LogLevel::kInfo, line);
      break;
    case Mode::kInPlace:
      Draw(line);
      break;
    case Mode::kOff:
      break;
  }
}

void Progress::Draw(const std::string& line) {
  // Cut one column short: a line that fills the last column would wrap on
  // some terminals, and "\r" would then redraw only its second row.
  out_ << "\r" << Cut(line, width_ - 1) << "\x1b[K" << std::flush;
  drawn_ = true;
}

void Progress::Clear() {
  if (!drawn_) return;
  out_ << "\r\x1b[K" << std::flush;
  drawn_ = false;
  shown_.clear();
}

void Progress::Acquired(
    const std::string& name,
    const std::vector<std::pair<std::string, std::string>>& env) {
  Clear();
  if (mode_ != Mode::kJson) return;
  JsonWriter w;
  w.BeginObject().Field("event", "acquired").Field("name", name);
  w.Key("env").BeginObject();
  for (const auto& [k, v] : env) w.Field(k, v);
  w.EndObject().EndObject();
  out_ << w.Finish() << "\n" << std::flush;
}

void Progress::Exited(int exit_code) {
  Clear();
  if (mode_ != Mode::kJson) return;
  JsonWriter w;
  w.BeginObject()
      .Field("event", "exited")
      .Field("exit_code", int64_t{exit_code})
      .EndObject();
  out_ << w.Finish() << "\n" << std::flush;
}

void Progress::Restarting(int exit_code, absl::Duration delay) {
  Clear();
  if (mode_ != Mode::kJson) return;
  JsonWriter w;
  w.BeginObject()
      .Field("event", "restarting")
      .Field("exit_code", int64_t{exit_code})
      .Field("delay_ms", absl::ToInt64Milliseconds(delay))
      .EndObject();
  out_ << w.Finish() << "\n" << std::flush;
}

void Progress::Lost(const absl::Status& why) {
  Clear();
  if (mode_ != Mode::kJson) return;
  JsonWriter w;
  w.BeginObject()
      .Field("event", "lost")
      .Field("reason", OneLine(why.message()))
      .EndObject();
  out_ << w.Finish() << "\n" << std::flush;
}

}  // namespace conch
