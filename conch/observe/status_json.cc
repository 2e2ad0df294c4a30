#include "conch/observe/status_json.h"

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "conch/json_writer.h"
#include "core/cron/cron.h"
#include "core/cron/cron_state.h"
#include "core/records/records.h"

namespace conch::observe {
namespace {

using etcd::TickState;

// Whether `t` is a real instant: not absl's infinities, not the Unix epoch
// (a default absl::Time).
bool IsSet(absl::Time t) {
  return t != absl::InfinitePast() && t != absl::InfiniteFuture() &&
         t != absl::UnixEpoch();
}

// A string member, as valid UTF-8; omitted when empty.
void Str(JsonWriter& w, absl::string_view key, absl::string_view value) {
  if (!value.empty()) w.Key(key).String(records::SanitizeUtf8(value));
}

// A number member, omitted when 0 (unknown).
void Num(JsonWriter& w, absl::string_view key, int64_t value) {
  if (value != 0) w.Field(key, value);
}

void TimeField(JsonWriter& w, absl::string_view key, absl::Time t) {
  if (IsSet(t)) w.Field(key, records::FormatRfc3339(t));
}

void Argv(JsonWriter& w,
          const google::protobuf::RepeatedPtrField<std::string>& argv) {
  w.Key("argv").BeginArray();
  for (const std::string& arg : argv) w.String(records::SanitizeUtf8(arg));
  w.EndArray();
}

// Seconds with the records' millisecond precision.
double Seconds(absl::Duration d) {
  return absl::ToDoubleSeconds(absl::Trunc(d, absl::Milliseconds(1)));
}

void Header(JsonWriter& w, const ClusterView& view, const PageContext& ctx) {
  w.Field("api", "v1");
  Str(w, "daemon", ctx.self_id);
  Str(w, "prefix", view.prefix);
  TimeField(w, "read_at", view.read_at);
  TimeField(w, "rendered_at", ctx.now);
  Num(w, "revision", view.revision);
  w.Field("ready", ctx.ready);
  if (!ctx.ready) Str(w, "not_ready_reason", ctx.not_ready_reason);
  Str(w, "error", ctx.error);
}

void WriteDaemon(JsonWriter& w, const DaemonView& d, const PageContext& ctx) {
  w.BeginObject();
  Str(w, "id", d.id);
  w.Field("self", !ctx.self_id.empty() && d.id == ctx.self_id);
  if (d.error.empty()) {
    const records::Daemon& r = d.record;
    Str(w, "host", r.host());
    Num(w, "pid", r.pid());
    Str(w, "version", r.version());
    Str(w, "since", r.since());
    Str(w, "boot_id", r.boot_id());
  }
  Str(w, "lease", d.lease);
  Str(w, "error", d.error);
  w.EndObject();
}

void WriteTick(JsonWriter& w, const TickView& t, const PageContext& ctx) {
  const etcd::CronTick& tick = t.tick;
  w.BeginObject();
  TimeField(w, "tick", tick.instant);
  w.Field("state", etcd::TickStateName(t.state.kind));
  Str(w, "text", etcd::FormatTickState(t.state));
  Str(w, "daemon", t.state.runner);
  Num(w, "rev", tick.claim_revision);
  if (tick.claim.has_value()) {
    Str(w, "lease", tick.claim->lease());
    Str(w, "claimed_at", tick.claim->claimed_at());
  }
  if (tick.result.has_value()) {
    const records::Result& r = *tick.result;
    Str(w, "started", r.started());
    Str(w, "ended", r.ended());
    absl::StatusOr<absl::Time> started = records::ParseRfc3339(r.started());
    absl::StatusOr<absl::Time> ended = records::ParseRfc3339(r.ended());
    if (started.ok() && ended.ok()) {
      w.Field("duration_seconds", Seconds(*ended - *started));
    }
    if (r.has_exit_code()) w.Field("exit_code", int64_t{r.exit_code()});
    if (r.has_signal()) w.Field("signal", int64_t{r.signal()});
    if (r.has_skipped()) Str(w, "skipped", r.skipped());
    Str(w, "output_tail", r.output_tail());
    if (r.output_cut() > 0) {
      w.Field("output_cut", int64_t{r.output_cut()});
    }
  } else if (tick.claim.has_value() &&
             (t.state.kind == TickState::Kind::kRunning ||
              t.state.kind == TickState::Kind::kZombie)) {
    absl::StatusOr<absl::Time> claimed =
        records::ParseRfc3339(tick.claim->claimed_at());
    if (claimed.ok() && IsSet(ctx.now) && ctx.now >= *claimed) {
      w.Field("elapsed_seconds", Seconds(ctx.now - *claimed));
    }
  }
  Str(w, "error", tick.error);
  w.EndObject();
}

void WriteJob(JsonWriter& w, const JobView& j, const PageContext& ctx) {
  const records::Job& job = j.job;
  w.BeginObject();
  Str(w, "name", j.name);
  Str(w, "schedule", job.schedule());
  Str(w, "tz", job.tz());
  Str(w, "overlap", job.overlap());
  Str(w, "created", job.created());
  Argv(w, job.argv());
  if (j.next.has_value()) {
    TimeField(w, "next", *j.next);
    absl::TimeZone zone;
    if (IsSet(*j.next) && absl::LoadTimeZone(job.tz(), &zone)) {
      w.Field("next_local",
              absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*S%Ez", *j.next, zone));
    }
  } else {
    Str(w, "schedule_error", j.schedule_error);
  }
  w.Key("last");
  if (j.ticks.empty()) {
    w.Null();
  } else {
    WriteTick(w, j.ticks.front(), ctx);
  }
  w.Key("ticks").BeginArray();
  for (const TickView& t : j.ticks) WriteTick(w, t, ctx);
  w.EndArray();
  w.EndObject();
}

// The members of a holder (inside an object the caller opened).
void HolderMembers(JsonWriter& w, const HolderView& h) {
  Str(w, "key", h.key);
  Num(w, "rev", h.revision);
  if (h.error.empty()) {
    const records::Holder& r = h.record;
    Str(w, "host", r.host());
    Num(w, "pid", r.pid());
    Str(w, "user", r.user());
    Str(w, "since", r.since());
    Str(w, "lease", r.lease());
    Argv(w, r.argv());
  }
  Str(w, "error", h.error);
}

void WriteHolder(JsonWriter& w, const HolderView& h) {
  w.BeginObject();
  HolderMembers(w, h);
  w.EndObject();
}

void WriteOffice(JsonWriter& w, const OfficeView& o) {
  w.BeginObject();
  Str(w, "name", o.name);
  w.Key("holder");
  if (o.candidates.empty()) {
    w.Null();
  } else {
    WriteHolder(w, o.candidates.front());
  }
  w.Key("standbys").BeginArray();
  for (size_t i = 1; i < o.candidates.size(); ++i) {
    WriteHolder(w, o.candidates[i]);
  }
  w.EndArray();
  w.EndObject();
}

void WriteSemaphore(JsonWriter& w, const SemaphoreView& s) {
  w.BeginObject();
  Str(w, "name", s.name);
  w.Field("max", s.max);
  w.Key("holders").BeginArray();
  for (const SemaphoreView::Slot& slot : s.holders) {
    w.BeginObject().Field("slot", int64_t{slot.slot});
    HolderMembers(w, slot.holder);
    w.EndObject();
  }
  w.EndArray();
  w.Key("waiters").BeginArray();
  for (size_t i = 0; i < s.waiters.size(); ++i) {
    w.BeginObject().Field("position", static_cast<int64_t>(i + 1));
    HolderMembers(w, s.waiters[i]);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

}  // namespace

std::string RenderStatusJson(const ClusterView& view, const PageContext& ctx,
                             JsonSection section) {
  const bool all = section == JsonSection::kAll;
  JsonWriter w;
  w.BeginObject();
  Header(w, view, ctx);
  if (all || section == JsonSection::kDaemons) {
    w.Key("daemons").BeginArray();
    for (const DaemonView& d : view.daemons) WriteDaemon(w, d, ctx);
    w.EndArray();
  }
  if (all || section == JsonSection::kJobs) {
    w.Key("jobs").BeginArray();
    for (const JobView& j : view.jobs) WriteJob(w, j, ctx);
    w.EndArray();
    w.Key("bad_jobs").BeginArray();
    for (const etcd::BadCronJob& b : view.bad_jobs) {
      w.BeginObject();
      Str(w, "key", b.key);
      Str(w, "error", b.error);
      w.EndObject();
    }
    w.EndArray();
  }
  if (all || section == JsonSection::kOffices) {
    w.Key("offices").BeginArray();
    for (const OfficeView& o : view.offices) WriteOffice(w, o);
    w.EndArray();
  }
  if (all || section == JsonSection::kSemaphores) {
    w.Key("semaphores").BeginArray();
    for (const SemaphoreView& s : view.semaphores) WriteSemaphore(w, s);
    w.EndArray();
  }
  w.EndObject();
  return w.Finish();
}

absl::StatusOr<std::string> RenderJobJson(const ClusterView& view,
                                          const PageContext& ctx,
                                          absl::string_view name) {
  for (const JobView& j : view.jobs) {
    if (j.name != name) continue;
    JsonWriter w;
    w.BeginObject();
    Header(w, view, ctx);
    w.Key("job");
    WriteJob(w, j, ctx);
    w.EndObject();
    return w.Finish();
  }
  return absl::NotFoundError(
      absl::StrCat("no cron job \"", records::SanitizeUtf8(name), "\""));
}

}  // namespace conch::observe
