#include "conch/observe/status_html.h"

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "core/cron/cron.h"
#include "core/cron/cron_state.h"
#include "core/records/records.h"

namespace conch::observe {
namespace {

using etcd::TickState;

// Lines of a tick's output tail shown on the page (the record keeps up to
// 4 KiB: the rest is in the JSON API).
constexpr int kTailLines = 20;
// Standbys of an office and waiters of a semaphore listed by name.
constexpr int kListed = 5;

constexpr char kStyle[] =
    "body{font-family:system-ui,sans-serif;margin:.5em;font-size:15px}"
    "h1{font-size:1.3em;margin:.2em 0}"
    "h2{font-size:1.1em;margin:1em 0 .3em}"
    ".scroll{overflow-x:auto;max-width:100%}"
    "table{border-collapse:collapse;font-size:.9em}"
    "th,td{border:1px solid #bbb;padding:2px 6px;text-align:left;"
    "vertical-align:top;white-space:nowrap}"
    "thead th{background:#eee}"
    "td.cmd{white-space:normal;min-width:12em;font-family:monospace}"
    "pre{margin:0;max-height:20em;overflow:auto;font-size:.85em}"
    "tr.self{background:#e3efff}"
    "tr.failed{background:#fdd}"
    "tr.unreadable{background:#fea}"
    "tr.zombie{background:#c00;color:#fff;font-weight:bold}"
    "#error{background:#c00;color:#fff;padding:.5em;font-weight:bold}"
    ".error{color:#c00}"
    ".notready{color:#c00;font-weight:bold}"
    ".none{color:#777}"
    ".tag{font-size:.8em;border:1px solid currentColor;padding:0 3px}";

// Whether `t` is a real instant (see "Times" in the header).
bool IsSet(absl::Time t) {
  return t != absl::InfinitePast() && t != absl::InfiniteFuture() &&
         t != absl::UnixEpoch();
}

// RFC 3339 UTC with milliseconds, or "-".
std::string Utc(absl::Time t) {
  return IsSet(t) ? records::FormatRfc3339(t) : "-";
}

// The escaped text, or "-" for an empty one.
std::string OrDash(absl::string_view text) {
  return text.empty() ? std::string("-") : HtmlEscape(text);
}

std::string Num(int64_t n) { return n == 0 ? "-" : absl::StrCat(n); }

// `arg` as a POSIX shell word: as is when it holds only characters no
// shell treats specially, else single-quoted.
std::string ShellQuote(absl::string_view arg) {
  bool plain = !arg.empty();
  for (char c : arg) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') ||
        absl::string_view("_@%+=:,./-").find(c) != absl::string_view::npos;
    if (!ok) {
      plain = false;
      break;
    }
  }
  if (plain) return std::string(arg);
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

std::string Command(const records::Job& job) {
  std::vector<std::string> words;
  for (const std::string& arg : job.argv()) words.push_back(ShellQuote(arg));
  return absl::StrJoin(words, " ");
}

// The last `n` lines of `text` (a final newline does not start a line);
// `*total` gets the number of lines.
absl::string_view LastLines(absl::string_view text, int n, int* total) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  *total = text.empty() ? 0 : 1;
  size_t start = 0;
  int seen = 0;
  for (size_t i = text.size(); i > 0; --i) {
    if (text[i - 1] != '\n') continue;
    ++*total;
    if (++seen == n) start = i;
  }
  return seen >= n ? text.substr(start) : text;
}

// ended - started of the tick's result, when both parse.
std::optional<absl::Duration> RunTime(const etcd::CronTick& t) {
  if (!t.result.has_value()) return std::nullopt;
  absl::StatusOr<absl::Time> started =
      records::ParseRfc3339(t.result->started());
  absl::StatusOr<absl::Time> ended = records::ParseRfc3339(t.result->ended());
  if (!started.ok() || !ended.ok()) return std::nullopt;
  return *ended - *started;
}

// A table's start: its <div>, <table id> and <thead>, then <tbody>.
void OpenTable(std::string* out, absl::string_view id,
               const std::vector<absl::string_view>& columns) {
  absl::StrAppend(out, "<div class=\"scroll\"><table id=\"", id,
                  "\"><thead><tr>");
  for (absl::string_view c : columns) absl::StrAppend(out, "<th>", c, "</th>");
  absl::StrAppend(out, "</tr></thead><tbody>\n");
}

void CloseTable(std::string* out, size_t rows) {
  absl::StrAppend(out, "</tbody></table></div>\n");
  if (rows == 0) absl::StrAppend(out, "<p class=\"none\">none</p>\n");
}

void Heading(std::string* out, absl::string_view title, size_t count) {
  absl::StrAppend(out, "<h2>", title, " (", count, ")</h2>\n");
}

// "db1 pid 42", or "unreadable: …".
std::string Who(const HolderView& h) {
  if (!h.error.empty())
    return absl::StrCat("unreadable: ", HtmlEscape(h.error));
  return absl::StrCat(OrDash(h.record.host()), " pid ", Num(h.record.pid()));
}

void Summary(std::string* out, const ClusterView& view,
             const PageContext& ctx) {
  absl::StrAppend(out, "<div class=\"scroll\"><table id=\"summary\"><tbody>\n");
  auto row = [out](absl::string_view name, absl::string_view html) {
    absl::StrAppend(out, "<tr><th>", name, "</th><td>", html, "</td></tr>\n");
  };
  row("prefix", OrDash(view.prefix));
  row("read at", Utc(view.read_at));
  row("rendered at", Utc(ctx.now));
  row("etcd revision", Num(view.revision));
  if (ctx.ready) {
    row("status", "ready");
  } else {
    row("status", absl::StrCat("<span class=\"notready\">not ready",
                               ctx.not_ready_reason.empty() ? "" : ": ",
                               HtmlEscape(ctx.not_ready_reason), "</span>"));
  }
  absl::StrAppend(out, "</tbody></table></div>\n");
}

void Daemons(std::string* out, const ClusterView& view,
             const PageContext& ctx) {
  Heading(out, "Daemons", view.daemons.size());
  OpenTable(out, "daemons", {"id", "host", "pid", "version", "since", "lease"});
  for (const DaemonView& d : view.daemons) {
    const bool self = !ctx.self_id.empty() && d.id == ctx.self_id;
    std::string cls = "daemon";
    if (self) cls += " self";
    if (!d.error.empty()) cls += " unreadable";
    absl::StrAppend(out, "<tr class=\"", cls, "\"><td>", HtmlEscape(d.id),
                    self ? " <span class=\"tag\">this</span>" : "", "</td>");
    if (!d.error.empty()) {
      absl::StrAppend(
          out, "<td colspan=\"4\">unreadable: ", HtmlEscape(d.error), "</td>");
    } else {
      const records::Daemon& r = d.record;
      absl::StrAppend(out, "<td>", OrDash(r.host()), "</td><td>", Num(r.pid()),
                      "</td><td>", OrDash(r.version()), "</td><td>",
                      OrDash(r.since()), "</td>");
    }
    absl::StrAppend(out, "<td>", OrDash(d.lease), "</td></tr>\n");
  }
  CloseTable(out, view.daemons.size());
}

// The next tick in the job's zone and in UTC, or why there is none.
std::string NextTick(const JobView& j) {
  if (!j.next.has_value()) {
    return j.schedule_error.empty()
               ? std::string("-")
               : absl::StrCat("<span class=\"error\">",
                              HtmlEscape(j.schedule_error), "</span>");
  }
  const std::string utc =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", *j.next, absl::UTCTimeZone());
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(j.job.tz(), &zone)) {
    return absl::StrCat(HtmlEscape(utc), " (zone ", HtmlEscape(j.job.tz()),
                        " unknown here)");
  }
  const std::string local =
      absl::FormatTime("%Y-%m-%d %H:%M:%E*S %Z", *j.next, zone);
  return absl::StrCat("<span class=\"local\">", HtmlEscape(local),
                      "</span><br><span class=\"utc\">", HtmlEscape(utc),
                      "</span>");
}

void Jobs(std::string* out, const ClusterView& view) {
  Heading(out, "Cron jobs", view.jobs.size());
  OpenTable(out, "jobs",
            {"name", "schedule", "zone", "next tick", "overlap", "command",
             "last outcome"});
  for (const JobView& j : view.jobs) {
    std::string cls = "job";
    std::string last = "-";
    if (!j.ticks.empty()) {
      const TickView& t = j.ticks.front();
      absl::StrAppend(&cls, " ", etcd::TickStateName(t.state.kind));
      last = absl::StrCat(HtmlEscape(etcd::FormatTickState(t.state)), "<br>at ",
                          Utc(t.tick.instant));
    }
    absl::StrAppend(out, "<tr class=\"", cls, "\" data-job=\"",
                    HtmlEscape(j.name), "\"><td>", HtmlEscape(j.name),
                    "</td><td>", OrDash(j.job.schedule()), "</td><td>",
                    OrDash(j.job.tz()), "</td><td>", NextTick(j), "</td><td>",
                    OrDash(j.job.overlap()), "</td><td class=\"cmd\">",
                    OrDash(Command(j.job)), "</td><td>", last, "</td></tr>\n");
  }
  CloseTable(out, view.jobs.size());
  if (view.bad_jobs.empty()) return;
  Heading(out, "Unreadable job records", view.bad_jobs.size());
  OpenTable(out, "bad-jobs", {"key", "error"});
  for (const etcd::BadCronJob& b : view.bad_jobs) {
    absl::StrAppend(
        out, "<tr class=\"bad-job unreadable\"><td>", HtmlEscape(b.key),
        "</td><td>unreadable: ", HtmlEscape(b.error), "</td></tr>\n");
  }
  CloseTable(out, view.bad_jobs.size());
}

// The started and duration cells of a tick.
std::pair<std::string, std::string> Timing(const TickView& t,
                                           const PageContext& ctx) {
  const etcd::CronTick& tick = t.tick;
  if (tick.result.has_value()) {
    std::optional<absl::Duration> d = RunTime(tick);
    return {OrDash(tick.result->started()),
            d.has_value() ? HtmlEscape(absl::FormatDuration(*d)) : "-"};
  }
  if (!tick.claim.has_value()) return {"-", "-"};
  // Claimed, no result: running or a zombie. Show the claim's time.
  std::string started =
      tick.claim->claimed_at().empty()
          ? std::string("-")
          : absl::StrCat(HtmlEscape(tick.claim->claimed_at()), " (claimed)");
  absl::StatusOr<absl::Time> claimed =
      records::ParseRfc3339(tick.claim->claimed_at());
  if (!claimed.ok() || !IsSet(ctx.now) || ctx.now < *claimed) {
    return {started, "-"};
  }
  const absl::Duration elapsed =
      absl::Trunc(ctx.now - *claimed, absl::Seconds(1));
  return {started, absl::StrCat(HtmlEscape(absl::FormatDuration(elapsed)),
                                " since claim")};
}

std::string Output(const TickView& t) {
  if (!t.tick.result.has_value() || t.tick.result->output_tail().empty()) {
    return "-";
  }
  int total = 0;
  absl::string_view tail =
      LastLines(t.tick.result->output_tail(), kTailLines, &total);
  std::string summary =
      total > kTailLines
          ? absl::StrCat("last ", kTailLines, " of ", total, " lines")
          : absl::StrCat(total, total == 1 ? " line" : " lines");
  if (const int cut = t.tick.result->output_cut(); cut > 0) {
    // What `cron logs` marks: the bytes before the kept tail.
    absl::StrAppend(&summary, " kept; ", cut, " bytes before them were not");
  }
  const bool open = t.state.kind == TickState::Kind::kFailed;
  return absl::StrCat("<details", open ? " open" : "", "><summary>", summary,
                      "</summary><pre>", HtmlEscape(tail), "</pre></details>");
}

void Ticks(std::string* out, const ClusterView& view, const PageContext& ctx) {
  size_t rows = 0;
  for (const JobView& j : view.jobs) rows += j.ticks.size();
  Heading(out, "Recent ticks", rows);
  OpenTable(out, "ticks",
            {"job", "tick (UTC)", "outcome", "runner", "started", "duration",
             "fencing token", "output"});
  for (const JobView& j : view.jobs) {
    const std::string job = HtmlEscape(j.name);
    for (const TickView& t : j.ticks) {
      const char* state = etcd::TickStateName(t.state.kind);
      std::string outcome = HtmlEscape(etcd::FormatTickState(t.state));
      if (t.state.kind == TickState::Kind::kZombie) {
        outcome =
            "<strong>zombie</strong>: claimed, never finished, never "
            "rerun";
      }
      auto [started, duration] = Timing(t, ctx);
      absl::StrAppend(out, "<tr class=\"tick ", state, "\" data-job=\"", job,
                      "\" data-state=\"", state, "\"><td>", job, "</td><td>",
                      Utc(t.tick.instant), "</td><td>", outcome, "</td><td>",
                      OrDash(t.state.runner), "</td><td>", started, "</td><td>",
                      duration, "</td><td>", Num(t.tick.claim_revision),
                      "</td><td>", Output(t), "</td></tr>\n");
    }
  }
  CloseTable(out, rows);
}

// "N: who, who, … and K more"; "0" when empty.
std::string Standbys(const std::vector<HolderView>& candidates) {
  if (candidates.size() <= 1) return "0";
  std::vector<std::string> names;
  for (size_t i = 1; i < candidates.size() && names.size() < kListed; ++i) {
    names.push_back(Who(candidates[i]));
  }
  std::string text =
      absl::StrCat(candidates.size() - 1, ": ", absl::StrJoin(names, ", "));
  if (candidates.size() - 1 > names.size()) {
    absl::StrAppend(&text, " and ", candidates.size() - 1 - names.size(),
                    " more");
  }
  return text;
}

void Offices(std::string* out, const ClusterView& view) {
  Heading(out, "Elect offices", view.offices.size());
  OpenTable(out, "offices",
            {"name", "holder", "since", "fencing token", "standbys"});
  for (const OfficeView& o : view.offices) {
    const bool bad = !o.candidates.empty() && !o.candidates[0].error.empty();
    absl::StrAppend(out, "<tr class=\"office", bad ? " unreadable" : "",
                    "\"><td>", HtmlEscape(o.name), "</td>");
    if (o.candidates.empty()) {
      absl::StrAppend(out, "<td>vacant</td><td>-</td><td>-</td>");
    } else {
      const HolderView& h = o.candidates[0];
      absl::StrAppend(out, "<td>", Who(h), "</td><td>",
                      OrDash(h.record.since()), "</td><td>", Num(h.revision),
                      "</td>");
    }
    absl::StrAppend(out, "<td>", Standbys(o.candidates), "</td></tr>\n");
  }
  CloseTable(out, view.offices.size());
}

void Semaphores(std::string* out, const ClusterView& view) {
  Heading(out, "Semaphores", view.semaphores.size());
  OpenTable(out, "semaphores", {"name", "N", "holders", "waiters"});
  for (const SemaphoreView& s : view.semaphores) {
    std::vector<std::string> holders;
    for (const SemaphoreView::Slot& slot : s.holders) {
      const HolderView& h = slot.holder;
      std::string line = absl::StrCat("slot ", slot.slot, ": ", Who(h));
      if (h.error.empty()) {
        absl::StrAppend(&line, " since ", OrDash(h.record.since()));
      }
      absl::StrAppend(&line, " rev ", Num(h.revision));
      holders.push_back(std::move(line));
    }
    std::string waiters = absl::StrCat(s.waiters.size());
    for (size_t i = 0; i < s.waiters.size() && i < kListed; ++i) {
      const HolderView& h = s.waiters[i];
      absl::StrAppend(&waiters, "<br>", i + 1, ". ", Who(h));
      if (h.error.empty()) {
        absl::StrAppend(&waiters, " since ", OrDash(h.record.since()));
      }
      absl::StrAppend(&waiters, " rev ", Num(h.revision));
    }
    if (s.waiters.size() > kListed) {
      absl::StrAppend(&waiters, "<br>and ", s.waiters.size() - kListed,
                      " more");
    }
    absl::StrAppend(
        out, "<tr class=\"semaphore\"><td>", HtmlEscape(s.name), "</td><td>",
        s.max, "</td><td>",
        holders.empty() ? "none held" : absl::StrJoin(holders, "<br>"),
        "</td><td>", waiters, "</td></tr>\n");
  }
  CloseTable(out, view.semaphores.size());
}

}  // namespace

std::string HtmlEscape(absl::string_view text) {
  const std::string utf8 = records::SanitizeUtf8(text);
  std::string out;
  out.reserve(utf8.size() + utf8.size() / 8);
  for (size_t i = 0; i < utf8.size(); ++i) {
    const unsigned char c = utf8[i];
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\t':
      case '\n':
        out += static_cast<char>(c);
        break;
      default:
        if (c == '\r' && i + 1 < utf8.size() && utf8[i + 1] == '\n') {
          break;  // "\r\n" → "\n"
        }
        if (c < 0x20 || c == 0x7f) {
          absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
        } else if (c == 0xc2 && i + 1 < utf8.size() &&
                   static_cast<unsigned char>(utf8[i + 1]) <= 0x9f) {
          // U+0080–U+009F (valid UTF-8 here: the next byte is 0x80–0x9F).
          absl::StrAppend(&out, "\\u00",
                          absl::Hex(static_cast<unsigned char>(utf8[i + 1]),
                                    absl::kZeroPad2));
          ++i;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

std::string RenderStatusHtml(const ClusterView& view, const PageContext& ctx) {
  const std::string self = HtmlEscape(ctx.self_id);
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
      "'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action "
      "'none'\">\n";
  if (ctx.refresh > absl::ZeroDuration()) {
    const int64_t seconds =
        absl::ToInt64Seconds(absl::Ceil(ctx.refresh, absl::Seconds(1)));
    absl::StrAppend(&out, "<meta http-equiv=\"refresh\" content=\"", seconds,
                    "\">\n");
  }
  absl::StrAppend(&out, "<title>conchd ", self, "</title>\n<style>", kStyle,
                  "</style></head>\n<body>\n<h1>conchd ", self, "</h1>\n");
  Summary(&out, view, ctx);
  if (!ctx.error.empty()) {
    absl::StrAppend(&out,
                    "<p id=\"error\">cannot read etcd: ", HtmlEscape(ctx.error),
                    "</p>\n");
  }
  Daemons(&out, view, ctx);
  Jobs(&out, view);
  Ticks(&out, view, ctx);
  Offices(&out, view);
  Semaphores(&out, view);
  absl::StrAppend(&out, "</body></html>\n");
  return out;
}

}  // namespace conch::observe
