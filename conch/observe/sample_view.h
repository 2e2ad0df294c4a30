// Hand-built ClusterViews for the renderers' tests (status_html_test,
// status_json_test): no etcd, every field known in advance.
//
// Contract: SampleView() returns the same view on every call, with
//   - prefix "/conch/", read at ReadAt(), revision 4242;
//   - daemons (3): "d1" (the serving daemon in SampleContext), "d2" whose
//     host is kHostile, and "d3" whose record is unreadable;
//   - jobs (4), in this order:
//       "backup"  "0 8 * * *" in Europe/Berlin, next tick BerlinNext()
//                 (08:00 CET), argv {"sh", "-c", "echo 'hi' && date"}; ticks
//                 newest first: a zombie (claimed by "d9", rev 901), an ok
//                 one (rev 900, ran 1.5 s, output "saved\n") and a failed
//                 one (code 3, rev 899);
//       kHostile  "@every 1m" in UTC; argv {"ls", "-l", "my file", "a'b",
//                 ""}; one tick failed by signal 9 (rev 700) whose output
//                 is kHostile, a line break, then "line 1".."line 30";
//       "broken"  tz "Mars/Base", no next tick, schedule_error set, no
//                 ticks;
//       "long"    "@every 1h" in UTC; one tick running on "d1" (rev 950),
//                 claimed 30 s before Now();
//   - bad_jobs (1): key "/conch/cron/job/%zz";
//   - offices (2): "db-primary" held by db1 pid 100 (rev 500) with standbys
//     db2 pid 200 (rev 510) and an unreadable record (rev 520); and one
//     named kHostile held by host kHostile;
//   - semaphores (1): "pool" N=3, slots 0 (h0 pid 10, rev 600) and 2 (h2
//     pid 12, rev 602) held, 7 waiters w1…w7 (revs 611…617).
// SampleContext(): self "d1", now Now(), ready, refresh 5 s, no error.
//
// Thread-safe (pure functions).
//
// Example:
//   ClusterView view = SampleView();
//   std::string html = RenderStatusHtml(view, SampleContext());
#ifndef CONCH_CONCH_OBSERVE_SAMPLE_VIEW_H_
#define CONCH_CONCH_OBSERVE_SAMPLE_VIEW_H_

#include "absl/time/time.h"
#include "conch/observe/status_html.h"
#include "core/view/cluster_view.h"

namespace conch::observe::sample {

// Markup, quotes, ampersand, a control character and a byte that is not
// UTF-8 — what a stored value could hold.
inline constexpr char kHostile[] = "<script>alert(1)</script>\"'&\x01\xff";

// 2026-12-03T06:59:30Z.
absl::Time ReadAt();
// 2026-12-03T06:59:31Z.
absl::Time Now();
// 2026-12-03T07:00:00Z, 08:00 in Berlin (CET, UTC+1).
absl::Time BerlinNext();

ClusterView SampleView();
PageContext SampleContext();

}  // namespace conch::observe::sample

#endif  // CONCH_CONCH_OBSERVE_SAMPLE_VIEW_H_
