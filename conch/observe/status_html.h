// The status page of conchd: one server-rendered HTML5 document showing a
// ClusterView (core/view/cluster_view.h) to people, on a desktop or a
// phone. conchd serves it at `/`; the same data as JSON is status_json.h.
//
// Contract:
// - Self-contained and script-free: no <script>, no external resource of
//   any kind (styles are one small inline <style>; a Content-Security-Policy
//   <meta> forbids everything else). It refreshes itself with
//   <meta http-equiv="refresh"> every PageContext::refresh (rounded up to
//   whole seconds; no refresh tag when refresh <= 0), and has a viewport
//   <meta>; every table sits in a <div class="scroll"> (overflow-x:auto) so
//   that a narrow screen scrolls the table, not the page.
// - Every value taken from the view or the context goes through HtmlEscape:
//   stored values may hold anything (markup, quotes, control characters,
//   invalid UTF-8), and the page shows them as text.
// - Structure (stable, for browser tests and for people scraping it):
//     <h1>                    "conchd <self_id>"
//     <table id="summary">    prefix, read at, rendered at, revision, ready
//     <p id="error">          only when PageContext::error is set
//     <table id="daemons">    one <tr> per daemon; the serving one has
//                             class "self", unreadable ones "unreadable"
//     <table id="jobs">       one <tr class="job" data-job="NAME"> per job;
//                             a job with ticks also has the class of its
//                             last tick's state (etcd::TickStateName: "ok",
//                             "failed", "zombie", …)
//     <table id="bad-jobs">   only when view.bad_jobs is not empty: one
//                             <tr class="bad-job unreadable"> per record
//     <table id="ticks">      one <tr class="tick STATE" data-job="NAME"
//                             data-state="STATE"> per tick of every job
//                             (jobs in view order, newest tick first), STATE
//                             being etcd::TickStateName; zombie rows have a
//                             red background and say "zombie"
//     <table id="offices">    one <tr class="office"> per office
//     <table id="semaphores"> one <tr class="semaphore"> per name and N
//   Each section has an <h2> with its item count. Every section table has
//   a <thead> and a <tbody>; tbody holds exactly one <tr> per item, so an
//   empty section has an empty tbody, followed by <p class="none">none</p>.
//   A tick's output shows its last 20 lines in a <pre> inside a <details>
//   (open for failed ticks).
// - Times: instants as RFC 3339 UTC (records::FormatRfc3339, milliseconds);
//   a job's next tick both in its own zone ("2026-12-03 08:00:00 CET") and
//   in UTC ("2026-12-03T07:00:00Z"). An unset time (absl's infinities, or
//   the Unix epoch, which is what a default absl::Time holds) shows "-".
//
// Pure functions of their arguments (no clock, no I/O); thread-safe.
//
// Example:
//   PageContext ctx;
//   ctx.self_id = "d1";
//   ctx.now = absl::Now();
//   ctx.ready = true;
//   std::string page = RenderStatusHtml(view, ctx);  // serve as text/html
#ifndef CONCH_CONCH_OBSERVE_STATUS_HTML_H_
#define CONCH_CONCH_OBSERVE_STATUS_HTML_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/view/cluster_view.h"

namespace conch::observe {

// What the page says about the daemon serving it (also used by
// status_json.h).
struct PageContext {
  std::string self_id;           // this conchd's --id
  absl::Time now;                // when the page is rendered
  bool ready = false;            // session held and job watch synced
  std::string not_ready_reason;  // when !ready
  absl::Duration refresh = absl::Seconds(5);  // <meta http-equiv=refresh>
  // Non-empty: the view could not be read (etcd down). The page shows it
  // prominently and still renders whatever view it is given (maybe empty).
  std::string error;
};

std::string RenderStatusHtml(const ClusterView& view, const PageContext& ctx);

// `text` as HTML text, safe both between tags and inside a double- or
// single-quoted attribute value:
//   & < > " '                    → &amp; &lt; &gt; &quot; &#39;
//   control bytes 0x00–0x1F and 0x7F, except tab and line feed,
//                                → \xNN (two lower-case hex digits), shown
//                                  literally; "\r\n" becomes "\n" first
//   C1 controls U+0080–U+009F    → \u00NN likewise
//   bytes that are not UTF-8     → U+FFFD (records::SanitizeUtf8)
// Everything else (valid UTF-8, backslashes included) is kept as is, so
// "\x07" in the page may also be those four characters in the value.
std::string HtmlEscape(absl::string_view text);

}  // namespace conch::observe

#endif  // CONCH_CONCH_OBSERVE_STATUS_HTML_H_
