// conchd's JSON API (/api/v1/…): a ClusterView (core/view/cluster_view.h)
// as JSON for programs. The page for people is status_html.h; both take the
// same PageContext.
//
// Contract (API v1; fields are only ever added, never renamed or retyped):
// - The document is one JSON object (RFC 8259, valid UTF-8: bytes of a
//   stored value that are not UTF-8 come out as U+FFFD). Member names are
//   snake_case. Times are RFC 3339 in UTC with milliseconds, as
//   records::FormatRfc3339 writes them ("2026-12-03T07:00:00.000Z"), except
//   `next_local`; durations are numbers of seconds (with a fraction).
// - Absent values: a member whose value would be an empty string, or a
//   pid / rev / revision of 0 (meaning unknown), is OMITTED, never written
//   as "" or 0. Members holding an object (`last`, `holder`) are null when
//   there is none. Arrays are always present, maybe empty. A record that
//   cannot be read keeps its identifying members (id / key / rev) and gets
//   `error`; the record's own members are then absent.
//
// Top level (every answer):
//   api               "v1"
//   daemon            the serving conchd's --id (PageContext::self_id)
//   prefix            the etcd --prefix the view was read under
//   read_at           when the view was read (omitted when unset)
//   rendered_at       PageContext::now (omitted when unset)
//   revision          etcd store revision of the read (omitted when 0)
//   ready             true when the daemon is ready (see PageContext)
//   not_ready_reason  why not, when !ready
//   error             PageContext::error, when set (the view is stale/empty)
// then per JsonSection (kAll: all of them, in this order):
//   daemons     [daemon]      kDaemons
//   jobs        [job]         kJobs, together with
//   bad_jobs    [bad_job]     job records that cannot be read
//   offices     [office]      kOffices
//   semaphores  [semaphore]   kSemaphores
// RenderJobJson writes the top level and `job` (one job, all its ticks).
//
// daemon:    id, self (bool: the serving daemon), host, pid, version, since,
//            boot_id, lease (16 hex digits), error
// job:       name, schedule, tz, overlap, created, argv [string],
//            next (UTC), next_local (RFC 3339 with the zone's offset,
//            seconds precision, e.g. "2026-12-03T08:00:00+01:00"; fractional
//            seconds only when the tick has them), schedule_error (only when
//            there is no `next`), last (the newest tick, or null),
//            ticks [tick] (newest first)
// tick:      tick (the instant), state ("ok", "failed", "skipped",
//            "running", "zombie", "unreadable": etcd::TickStateName),
//            text (etcd::FormatTickState: "failed (code 3)"), daemon (the
//            runner's id), rev (the claim's revision: the run's fencing
//            token CONCH_REV), lease (the runner's lease), claimed_at,
//            started, ended, duration_seconds (ended - started, when both
//            parse), elapsed_seconds (running and zombie ticks: rendered_at
//            - claimed_at), exit_code / signal / skipped (whichever the
//            result holds; exit_code 0 is written), output_tail (the whole
//            stored tail, ≤ 4 KiB), error (a record that could not be read)
// bad_job:   key, error
// office:    name, holder (candidates[0], or null), standbys [holder]
//            (line order)
// holder:    key, rev (create revision: the fencing token), host, pid,
//            user, since, lease, argv [string], error
// semaphore: name, max (N), holders [holder + slot (0…N-1)] by slot,
//            waiters [holder + position (1-based)] in queue order
//
// Pure functions of their arguments (no clock, no I/O); thread-safe.
//
// Example:
//   std::string body = RenderStatusJson(view, ctx, JsonSection::kJobs);
//   // {"api":"v1","daemon":"d1",…,"ready":true,"jobs":[…],"bad_jobs":[]}
//   absl::StatusOr<std::string> one = RenderJobJson(view, ctx, "backup");
//   if (absl::IsNotFound(one.status())) { /* 404 */ }
#ifndef CONCH_CONCH_OBSERVE_STATUS_JSON_H_
#define CONCH_CONCH_OBSERVE_STATUS_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "conch/observe/status_html.h"
#include "core/view/cluster_view.h"

namespace conch::observe {

enum class JsonSection { kAll, kDaemons, kJobs, kOffices, kSemaphores };

std::string RenderStatusJson(const ClusterView& view, const PageContext& ctx,
                             JsonSection section);

// One job with all its ticks (for /api/v1/jobs/<name>): the top level and
// "job". NotFound when the view has no job `name`.
absl::StatusOr<std::string> RenderJobJson(const ClusterView& view,
                                          const PageContext& ctx,
                                          absl::string_view name);

}  // namespace conch::observe

#endif  // CONCH_CONCH_OBSERVE_STATUS_JSON_H_
