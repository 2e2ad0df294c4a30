// What the `conch cron` subcommands share when they print jobs, ticks and
// runs (docs/cli.md, "Output formats"): the zone a job's times are shown
// in, a job's command as one table cell, and the JSON members of a
// recorded run (cron ls, cron run --wait --json, cron logs --json).
//
// Contract: times go through Timestamp/StoredTimestamp (conch/output.h):
// RFC 3339, milliseconds only when the instant has some. A job's times in
// a table are in the job's zone; JSON's "tick", "started" and "ended" are
// in UTC.
//
// Pure functions; thread-safe.
//
// Example:
//   const absl::TimeZone zone = JobZone(job.tz());
//   table.AddRow({name, Timestamp(next, zone), CommandLine(job)});
//   w.BeginObject().Field("tick", Timestamp(instant));
//   WriteRunMembers(w, result);
//   w.EndObject();
#ifndef CONCH_CONCH_CRON_FORMAT_H_
#define CONCH_CONCH_CRON_FORMAT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "conch/json_writer.h"
#include "core/cron/cron_state.h"
#include "core/records/records.h"

namespace conch {

// The zone a job's times are shown in: `tz` when a schedule accepts it
// (an IANA name, as `cron add --tz` checks), otherwise UTC.
absl::TimeZone JobZone(absl::string_view tz);

// The job's argv as a shell would read it back: each word as it is, or in
// single quotes when it holds anything but letters, digits and
// `@%+=:,./_-` (an empty word is ''). Control characters are left for
// the table to escape (OneLine).
std::string CommandLine(const records::Job& job);

// The state of a tick from its result alone ("ok", "failed (code 3)",
// "skipped (overlap)"), as `cron ls` words it.
etcd::TickState StateOfResult(absl::Time instant, const records::Result& r);

// The members of a recorded run, into the current object: "started" and
// "ended" (UTC, see the file comment), then "exit_code", "signal" or
// "skipped" (whichever the result holds), then the kept output under
// `output_key` and "output_cut" (how many bytes before it were not kept).
void WriteRunMembers(JsonWriter& w, const records::Result& r,
                     absl::string_view output_key = "output");

}  // namespace conch

#endif  // CONCH_CONCH_CRON_FORMAT_H_
