#include "conch/observe/status_html.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "conch/observe/sample_view.h"
#include "core/records/records.h"
#include "core/view/cluster_view.h"
#include "gtest/gtest.h"

namespace conch::observe {
namespace {

using sample::kHostile;
using sample::SampleContext;
using sample::SampleView;

int Count(absl::string_view haystack, absl::string_view needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != absl::string_view::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

// The text between `<table id="ID">` and its `</table>`; "" if absent.
absl::string_view Table(absl::string_view html, absl::string_view id) {
  const std::string open = absl::StrCat("<table id=\"", id, "\">");
  const size_t start = html.find(open);
  if (start == absl::string_view::npos) return "";
  const size_t end = html.find("</table>", start);
  return html.substr(start, end - start);
}

// The <tbody> of table `id`.
absl::string_view Body(absl::string_view html, absl::string_view id) {
  absl::string_view table = Table(html, id);
  const size_t start = table.find("<tbody>");
  const size_t end = table.find("</tbody>");
  if (start == absl::string_view::npos || end == absl::string_view::npos) {
    return "";
  }
  return table.substr(start, end - start);
}

// The rows of tbody `id`, each from "<tr" to "</tr>".
std::vector<absl::string_view> Rows(absl::string_view html,
                                    absl::string_view id) {
  std::vector<absl::string_view> rows;
  absl::string_view body = Body(html, id);
  for (size_t at = body.find("<tr"); at != absl::string_view::npos;
       at = body.find("<tr", at + 1)) {
    const size_t end = body.find("</tr>", at);
    rows.push_back(body.substr(at, end - at));
  }
  return rows;
}

// The row of tbody `id` that contains `text`; "" if none.
absl::string_view RowWith(absl::string_view html, absl::string_view id,
                          absl::string_view text) {
  for (absl::string_view row : Rows(html, id)) {
    if (absl::StrContains(row, text)) return row;
  }
  return "";
}

TEST(HtmlEscapeTest, EscapesMarkupQuotesAndControls) {
  EXPECT_EQ(HtmlEscape("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;");
  EXPECT_EQ(HtmlEscape("\"'&"), "&quot;&#39;&amp;");
  EXPECT_EQ(HtmlEscape("a\tb\nc"), "a\tb\nc");
  EXPECT_EQ(HtmlEscape("a\r\nb\rc"), "a\nb\\x0dc");
  EXPECT_EQ(HtmlEscape(absl::string_view("\x00\x01\x1b\x7f", 4)),
            "\\x00\\x01\\x1b\\x7f");
  // A C1 control (U+0085) and a byte that is not UTF-8.
  EXPECT_EQ(HtmlEscape("x\xC2\x85y\xFFz"), "x\\u0085y\xEF\xBF\xBDz");
  // Other UTF-8 passes: é (U+00E9 starts with 0xC3), € and U+00A0.
  EXPECT_EQ(HtmlEscape("\xC3\xA9\xE2\x82\xAC\xC2\xA0"),
            "\xC3\xA9\xE2\x82\xAC\xC2\xA0");
  EXPECT_EQ(HtmlEscape(""), "");
}

TEST(StatusHtmlTest, IsAScriptFreeSelfContainedRefreshingPage) {
  const std::string html = RenderStatusHtml(SampleView(), SampleContext());
  EXPECT_TRUE(absl::StartsWith(html, "<!DOCTYPE html>\n"));
  EXPECT_TRUE(absl::EndsWith(html, "</html>\n"));
  const std::string lower = absl::AsciiStrToLower(html);
  EXPECT_FALSE(absl::StrContains(lower, "<script")) << html;
  // No external resource of any kind.
  EXPECT_FALSE(absl::StrContains(lower, "src=")) << html;
  EXPECT_FALSE(absl::StrContains(lower, "href=")) << html;
  EXPECT_FALSE(absl::StrContains(lower, "http:")) << html;
  EXPECT_FALSE(absl::StrContains(lower, "https:")) << html;
  EXPECT_FALSE(absl::StrContains(lower, "url(")) << html;
  EXPECT_FALSE(absl::StrContains(lower, "@import")) << html;
  EXPECT_EQ(Count(html, "<style>"), 1);
  EXPECT_TRUE(absl::StrContains(html, "<meta charset=\"utf-8\">"));
  EXPECT_TRUE(
      absl::StrContains(html,
                        "<meta name=\"viewport\" content=\"width=device-width, "
                        "initial-scale=1\">"));
  EXPECT_TRUE(
      absl::StrContains(html, "<meta http-equiv=\"refresh\" content=\"5\">"));
  EXPECT_TRUE(absl::StrContains(html, ".scroll{overflow-x:auto"));
  // Every table scrolls inside its div.
  EXPECT_EQ(Count(html, "<table"), Count(html, "<div class=\"scroll\"><table"));
  EXPECT_TRUE(absl::StrContains(html, "<h1>conchd d1</h1>"));
}

TEST(StatusHtmlTest, RefreshIsRoundedUpOrLeftOut) {
  PageContext ctx = SampleContext();
  ctx.refresh = absl::Milliseconds(2500);
  EXPECT_TRUE(absl::StrContains(RenderStatusHtml(SampleView(), ctx),
                                "<meta http-equiv=\"refresh\" content=\"3\">"));
  ctx.refresh = absl::ZeroDuration();
  EXPECT_FALSE(absl::StrContains(RenderStatusHtml(SampleView(), ctx),
                                 "http-equiv=\"refresh\""));
}

TEST(StatusHtmlTest, HeaderSaysPrefixTimesRevisionAndReadiness) {
  PageContext ctx = SampleContext();
  std::string html = RenderStatusHtml(SampleView(), ctx);
  absl::string_view summary = Table(html, "summary");
  EXPECT_TRUE(absl::StrContains(summary, "<td>/conch/</td>"));
  EXPECT_TRUE(absl::StrContains(summary, "2026-12-03T06:59:30.000Z"));
  EXPECT_TRUE(absl::StrContains(summary, "2026-12-03T06:59:31.000Z"));
  EXPECT_TRUE(absl::StrContains(summary, "<td>4242</td>"));
  EXPECT_TRUE(absl::StrContains(summary, "<td>ready</td>"));
  EXPECT_FALSE(absl::StrContains(html, "id=\"error\""));

  ctx.ready = false;
  ctx.not_ready_reason = "job watch not synced <yet>";
  ctx.error = "etcd: Unavailable \"connection refused\"";
  html = RenderStatusHtml(SampleView(), ctx);
  EXPECT_TRUE(absl::StrContains(
      html, "not ready: job watch not synced &lt;yet&gt;</span>"));
  EXPECT_TRUE(
      absl::StrContains(html,
                        "<p id=\"error\">cannot read etcd: etcd: Unavailable "
                        "&quot;connection refused&quot;</p>"));
  // The view given is still rendered.
  EXPECT_EQ(Rows(html, "jobs").size(), 4u);
}

TEST(StatusHtmlTest, OneRowPerItemInEverySection) {
  const std::string html = RenderStatusHtml(SampleView(), SampleContext());
  for (const char* id :
       {"daemons", "jobs", "bad-jobs", "ticks", "offices", "semaphores"}) {
    SCOPED_TRACE(id);
    absl::string_view table = Table(html, id);
    ASSERT_FALSE(table.empty());
    EXPECT_TRUE(absl::StrContains(table, "<thead><tr><th>"));
  }
  EXPECT_EQ(Rows(html, "daemons").size(), 3u);
  EXPECT_EQ(Rows(html, "jobs").size(), 4u);
  EXPECT_EQ(Count(Body(html, "jobs"), "<tr class=\"job"), 4);
  EXPECT_EQ(Rows(html, "bad-jobs").size(), 1u);
  EXPECT_EQ(Rows(html, "ticks").size(), 5u);  // 3 + 1 + 0 + 1
  EXPECT_EQ(Count(html, "<tr class=\"tick "), 5);
  EXPECT_EQ(Rows(html, "offices").size(), 2u);
  EXPECT_EQ(Rows(html, "semaphores").size(), 1u);
  EXPECT_TRUE(absl::StrContains(html, "<h2>Cron jobs (4)</h2>"));
  EXPECT_TRUE(absl::StrContains(html, "<h2>Recent ticks (5)</h2>"));
  EXPECT_FALSE(absl::StrContains(html, "class=\"none\""));
}

TEST(StatusHtmlTest, EmptyViewSaysNoneAndKeepsTheTables) {
  ClusterView empty;
  PageContext ctx = SampleContext();
  ctx.error = "deadline exceeded";
  const std::string html = RenderStatusHtml(empty, ctx);
  for (const char* id : {"daemons", "jobs", "ticks", "offices", "semaphores"}) {
    SCOPED_TRACE(id);
    EXPECT_FALSE(Table(html, id).empty());
    EXPECT_TRUE(absl::StrContains(Table(html, id), "<tbody>"));
    EXPECT_TRUE(Rows(html, id).empty());
  }
  EXPECT_EQ(Count(html, "<p class=\"none\">none</p>"), 5);
  // No bad job records: no table for them.
  EXPECT_TRUE(Table(html, "bad-jobs").empty());
  // Unset times and revision show "-".
  EXPECT_TRUE(
      absl::StrContains(Table(html, "summary"), "<th>read at</th><td>-</td>"));
  EXPECT_TRUE(absl::StrContains(Table(html, "summary"),
                                "<th>etcd revision</th><td>-</td>"));
  EXPECT_TRUE(absl::StrContains(html, "<p id=\"error\">"));
}

TEST(StatusHtmlTest, MarksTheServingDaemonAndUnreadableOnes) {
  const std::string html = RenderStatusHtml(SampleView(), SampleContext());
  std::vector<absl::string_view> rows = Rows(html, "daemons");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(absl::StartsWith(rows[0], "<tr class=\"daemon self\"><td>d1 "));
  EXPECT_TRUE(absl::StrContains(rows[0],
                                "<td>node-1</td><td>111</td>"
                                "<td>1.2.3</td>"
                                "<td>2026-12-01T00:00:00.000Z</td>"
                                "<td>00000000000000d1</td>"));
  EXPECT_EQ(Count(html, " self\""), 1);
  EXPECT_TRUE(absl::StartsWith(rows[2], "<tr class=\"daemon unreadable\">"));
  EXPECT_TRUE(absl::StrContains(
      rows[2], "unreadable: bad Daemon record: &lt;garbage&gt;"));
}

TEST(StatusHtmlTest, JobsShowNextTickInTheirZoneAndInUtc) {
  const std::string html = RenderStatusHtml(SampleView(), SampleContext());
  absl::string_view backup = RowWith(html, "jobs", "data-job=\"backup\"");
  ASSERT_FALSE(backup.empty());
  EXPECT_TRUE(absl::StrContains(backup, "2026-12-03 08:00:00 CET"));
  EXPECT_TRUE(absl::StrContains(backup, "2026-12-03T07:00:00Z"));
  EXPECT_TRUE(absl::StrContains(backup, "<td>0 8 * * *</td>"));
  EXPECT_TRUE(absl::StrContains(backup, "<td>Europe/Berlin</td>"));
  EXPECT_TRUE(absl::StrContains(backup, "<td>skip</td>"));
  // A summer tick is in CEST, two hours ahead.
  ClusterView summer = SampleView();
  summer.jobs[0].next = summer.jobs[0].next.value() + absl::Hours(24 * 210);
  const std::string june = RenderStatusHtml(summer, SampleContext());
  absl::string_view row = RowWith(june, "jobs", "data-job=\"backup\"");
  EXPECT_TRUE(absl::StrContains(row, "2027-07-01 09:00:00 CEST"));
  EXPECT_TRUE(absl::StrContains(row, "2027-07-01T07:00:00Z"));
  // No next tick: the schedule error, escaped.
  absl::string_view broken = RowWith(html, "jobs", "data-job=\"broken\"");
  EXPECT_TRUE(
      absl::StrContains(broken, "unknown time zone &quot;Mars/Base&quot;"));
  EXPECT_TRUE(absl::StartsWith(broken, "<tr class=\"job\" "));
}

TEST(StatusHtmlTest, CommandIsShellQuoted) {
  const std::string html = RenderStatusHtml(SampleView(), SampleContext());
  EXPECT_TRUE(
      absl::StrContains(html, HtmlEscape("sh -c 'echo '\\''hi'\\'' && date'")));
  EXPECT_TRUE(
      absl::StrContains(html, HtmlEscape("ls -l 'my file' 'a'\\''b' ''")));
}

TEST(StatusHtmlTest, LastOutcomeAndRowClassesFollowTheLastTick) {
  const std::string html = RenderStatusHtml(SampleView(), SampleContext());
  absl::string_view backup = RowWith(html, "jobs", "data-job=\"backup\"");
  EXPECT_TRUE(absl::StartsWith(backup, "<tr class=\"job zombie\" "));
  EXPECT_TRUE(absl::StrContains(backup,
                                "<td>zombie<br>at "
                                "2026-12-02T07:00:00.000Z</td>"));
  absl::string_view hostile = RowWith(
      html, "jobs", absl::StrCat("data-job=\"", HtmlEscape(kHostile), "\""));
  EXPECT_TRUE(absl::StartsWith(hostile, "<tr class=\"job failed\" "));
  EXPECT_TRUE(absl::StrContains(hostile, "failed (signal 9)"));
  absl::string_view running = RowWith(html, "jobs", "data-job=\"long\"");
  EXPECT_TRUE(absl::StartsWith(running, "<tr class=\"job running\" "));
  EXPECT_TRUE(absl::StrContains(running, "running on d1"));
}

TEST(StatusHtmlTest, TicksShowOutcomeRunnerTimingAndFencingToken) {
  const std::string html = RenderStatusHtml(SampleView(), SampleContext());
  absl::string_view zombie = RowWith(html, "ticks", "data-state=\"zombie\"");
  EXPECT_TRUE(absl::StartsWith(
      zombie,
      "<tr class=\"tick zombie\" data-job=\"backup\" data-state=\"zombie\">"));
  EXPECT_TRUE(absl::StrContains(zombie, "<strong>zombie</strong>"));
  EXPECT_TRUE(absl::StrContains(zombie, "<td>d9</td>"));
  EXPECT_TRUE(absl::StrContains(zombie, "<td>901</td>"));
  EXPECT_TRUE(
      absl::StrContains(zombie, "<td>2026-12-02T07:00:00.000Z (claimed)</td>"));
  // Zombie rows stand out.
  EXPECT_TRUE(absl::StrContains(html, "tr.zombie{background:#c00;"));

  absl::string_view ok = RowWith(html, "ticks", "data-state=\"ok\"");
  EXPECT_TRUE(absl::StrContains(ok,
                                "<td>ok</td><td>d1</td>"
                                "<td>2026-12-01T07:00:00.010Z</td>"
                                "<td>1.5s</td><td>900</td>"));
  EXPECT_TRUE(absl::StrContains(
      ok, "<details><summary>1 line</summary><pre>saved</pre></details>"));

  absl::string_view failed = RowWith(html, "ticks", "failed (code 3)");
  EXPECT_TRUE(absl::StartsWith(failed, "<tr class=\"tick failed\" "));
  EXPECT_TRUE(absl::StrContains(failed, "<td>2s</td><td>899</td><td>-</td>"));

  // Running: how long since the claim, as of the page's time.
  absl::string_view running = RowWith(html, "ticks", "data-state=\"running\"");
  EXPECT_TRUE(absl::StrContains(running, "<td>30s since claim</td>"));
  EXPECT_TRUE(absl::StrContains(running, "<td>950</td>"));
}

TEST(StatusHtmlTest, OutputTailShowsTheLastLinesEscaped) {
  const std::string html = RenderStatusHtml(SampleView(), SampleContext());
  absl::string_view row = RowWith(html, "ticks", "failed (signal 9)");
  ASSERT_FALSE(row.empty());
  // A bad end time: no duration.
  EXPECT_TRUE(absl::StrContains(row, "<td>-</td><td>700</td>"));
  // Failed output is open; 31 lines kept, the last 20 shown.
  EXPECT_TRUE(absl::StrContains(
      row,
      "<details open><summary>last 20 of 31 lines kept; 5000 bytes before "
      "them were not</summary><pre>line 11\n"));
  EXPECT_TRUE(absl::StrContains(row, "line 30</pre>"));
  EXPECT_FALSE(absl::StrContains(row, "line 10\n"));
}

TEST(StatusHtmlTest, HostileValuesAreShownAsText) {
  const std::string html = RenderStatusHtml(SampleView(), SampleContext());
  const std::string escaped =
      "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;\\x01\xEF\xBF\xBD";
  EXPECT_EQ(HtmlEscape(kHostile), escaped);
  EXPECT_FALSE(absl::StrContains(html, "<script>"));
  EXPECT_FALSE(absl::StrContains(html, "alert(1)</script>"));
  // Daemon host, job name (cell and attribute), command, office name and
  // holder: every one escaped.
  EXPECT_GE(Count(html, escaped), 6);
  EXPECT_TRUE(absl::StrContains(html, absl::StrCat("data-job=\"", escaped)));
  EXPECT_TRUE(absl::StrContains(
      Body(html, "offices"), absl::StrCat("<td>", escaped, " pid 300</td>")));
  // The page itself is valid UTF-8 with no control bytes but tab and LF.
  EXPECT_EQ(records::SanitizeUtf8(html), html);
  int controls = 0;
  for (char c : html) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
      ++controls;
    }
  }
  EXPECT_EQ(controls, 0);
  // The self id is escaped too.
  PageContext ctx = SampleContext();
  ctx.self_id = "<b>";
  const std::string mine = RenderStatusHtml(SampleView(), ctx);
  EXPECT_TRUE(absl::StrContains(mine, "<h1>conchd &lt;b&gt;</h1>"));
  EXPECT_TRUE(absl::StrContains(mine, "<title>conchd &lt;b&gt;</title>"));
}

TEST(StatusHtmlTest, OfficesShowHolderTokenAndStandbys) {
  const std::string html = RenderStatusHtml(SampleView(), SampleContext());
  absl::string_view db = RowWith(html, "offices", "db-primary");
  EXPECT_TRUE(absl::StrContains(db,
                                "<td>db1 pid 100</td>"
                                "<td>2026-12-03T06:00:00.000Z</td>"
                                "<td>500</td>"));
  EXPECT_TRUE(absl::StrContains(
      db, "<td>2: db2 pid 200, unreadable: bad Holder record: not JSON</td>"));
  // A vacant office and an unreadable leader.
  ClusterView v = SampleView();
  v.offices[0].candidates.erase(v.offices[0].candidates.begin(),
                                v.offices[0].candidates.begin() + 2);
  v.offices[1].candidates.clear();
  const std::string other = RenderStatusHtml(v, SampleContext());
  EXPECT_TRUE(absl::StartsWith(RowWith(other, "offices", "db-primary"),
                               "<tr class=\"office unreadable\">"));
  EXPECT_TRUE(absl::StrContains(RowWith(other, "offices", "db-primary"),
                                "<td>520</td><td>0</td>"));
  EXPECT_TRUE(
      absl::StrContains(RowWith(other, "offices", "vacant"),
                        "<td>vacant</td><td>-</td><td>-</td><td>0</td>"));
}

TEST(StatusHtmlTest, SemaphoresShowSlotsAndTheFirstWaiters) {
  const std::string html = RenderStatusHtml(SampleView(), SampleContext());
  absl::string_view pool = RowWith(html, "semaphores", "pool");
  EXPECT_TRUE(absl::StrContains(
      pool,
      "<td>pool</td><td>3</td><td>slot 0: h0 pid 10 since "
      "2026-12-03T06:00:00.000Z rev 600<br>slot 2: h2 pid 12 since "
      "2026-12-03T06:00:00.000Z rev 602</td>"));
  EXPECT_TRUE(absl::StrContains(
      pool, "<td>7<br>1. w1 pid 21 since 2026-12-03T06:00:00.000Z rev 611"));
  EXPECT_TRUE(absl::StrContains(pool, "<br>5. w5 pid 25"));
  EXPECT_FALSE(absl::StrContains(pool, "w6"));
  EXPECT_TRUE(absl::StrContains(pool, "<br>and 2 more</td>"));
}

}  // namespace
}  // namespace conch::observe
