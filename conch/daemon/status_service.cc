#include "conch/daemon/status_service.h"

#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "conch/json_writer.h"
#include "conch/observe/status_html.h"
#include "conch/observe/status_json.h"
#include "core/base/mono_time.h"
#include "core/cron/cron.h"
#include "core/cron/cron_state.h"

namespace conch::daemon {
namespace {

constexpr char kJson[] = "application/json";
constexpr char kHtml[] = "text/html; charset=utf-8";
// The exposition format's content type (text format 0.0.4).
constexpr char kMetrics[] = "text/plain; version=0.0.4; charset=utf-8";

HttpReply Text(int status, absl::string_view text) {
  return HttpReply{status, "text/plain; charset=utf-8",
                   absl::StrCat(text, "\n")};
}

HttpReply JsonError(int status, absl::string_view message) {
  JsonWriter w;
  w.BeginObject().Field("api", "v1").Field("error", message).EndObject();
  return HttpReply{status, kJson, absl::StrCat(w.Finish(), "\n")};
}

}  // namespace

std::vector<HttpRoute> StatusService::Routes() {
  return {
      {"/metrics", [this](const HttpRequest&) { return Metrics(); }},
      {"/healthz", [this](const HttpRequest&) { return Healthz(); }},
      {"/readyz", [this](const HttpRequest&) { return Readyz(); }},
      {"/", [this](const HttpRequest&) { return Page(); }},
      {"/api/v1/*", [this](const HttpRequest& r) { return Api(r); }},
  };
}

StatusService::View StatusService::Current() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (current_.view != nullptr && absl::Now() - current_.at < o_.view_ttl) {
      return current_;
    }
  }
  // One read at a time; whoever waited here finds the fresh view.
  std::lock_guard<std::mutex> reading(read_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (current_.view != nullptr && absl::Now() - current_.at < o_.view_ttl) {
      return current_;
    }
  }
  absl::StatusOr<observe::ClusterView> read = observe::ReadClusterView(
      conn_, o_.prefix, {.history = o_.history}, absl::Now() + o_.read_timeout);
  std::lock_guard<std::mutex> lock(mu_);
  current_.at = absl::Now();
  if (read.ok()) {
    current_.view =
        std::make_shared<const observe::ClusterView>(*std::move(read));
    current_.error.clear();
    std::map<std::string, int> zombies;
    for (const observe::JobView& j : current_.view->jobs) {
      int n = 0;
      for (const observe::TickView& t : j.ticks) {
        if (t.state.kind == etcd::TickState::Kind::kZombie) ++n;
      }
      zombies[j.name] = n;
    }
    metrics_->SetZombies(zombies);
  } else {
    current_.error = std::string(read.status().message());
  }
  return current_;
}

HttpReply StatusService::Metrics() {
  return HttpReply{200, kMetrics, metrics_->Serialize()};
}

HttpReply StatusService::Healthz() const {
  const absl::Status alive = health_->Alive(MonoNow(), o_.stall);
  return alive.ok() ? Text(200, "ok") : Text(503, alive.message());
}

HttpReply StatusService::Readyz() const {
  const absl::Status ready = health_->Ready(MonoNow(), o_.stall);
  return ready.ok() ? Text(200, "ready") : Text(503, ready.message());
}

observe::PageContext StatusService::Context() const {
  observe::PageContext ctx;
  ctx.self_id = o_.id;
  ctx.now = absl::Now();
  const absl::Status ready = health_->Ready(MonoNow(), o_.stall);
  ctx.ready = ready.ok();
  ctx.not_ready_reason = std::string(ready.message());
  ctx.refresh = o_.refresh;
  return ctx;
}

HttpReply StatusService::Page() {
  View v = Current();
  observe::PageContext ctx = Context();
  ctx.error = v.error;
  if (v.view == nullptr) {
    observe::ClusterView empty;
    empty.prefix = o_.prefix;
    empty.read_at = v.at;
    return HttpReply{503, kHtml, observe::RenderStatusHtml(empty, ctx)};
  }
  return HttpReply{200, kHtml, observe::RenderStatusHtml(*v.view, ctx)};
}

HttpReply StatusService::Api(const HttpRequest& request) {
  absl::string_view what(request.path);
  absl::ConsumePrefix(&what, "/api/v1/");
  observe::PageContext ctx = Context();
  if (absl::ConsumePrefix(&what, "jobs/") && !what.empty()) {
    // One job with its whole kept history: a read of its own.
    absl::StatusOr<observe::ClusterView> read = observe::ReadClusterView(
        conn_, o_.prefix,
        {.history = etcd::kCronHistory, .only_job = std::string(what)},
        absl::Now() + o_.read_timeout);
    if (!read.ok()) return JsonError(503, read.status().message());
    absl::StatusOr<std::string> body = observe::RenderJobJson(*read, ctx, what);
    if (!body.ok()) return JsonError(404, body.status().message());
    return HttpReply{200, kJson, *std::move(body)};
  }
  observe::JsonSection section;
  if (what == "status") {
    section = observe::JsonSection::kAll;
  } else if (what == "daemons") {
    section = observe::JsonSection::kDaemons;
  } else if (what == "jobs") {
    section = observe::JsonSection::kJobs;
  } else if (what == "offices") {
    section = observe::JsonSection::kOffices;
  } else if (what == "semaphores") {
    section = observe::JsonSection::kSemaphores;
  } else {
    return JsonError(404, absl::StrCat("no such API path: ", request.path));
  }
  View v = Current();
  if (!v.error.empty() || v.view == nullptr) {
    return JsonError(503, absl::StrCat("cannot read etcd: ", v.error));
  }
  return HttpReply{200, kJson,
                   observe::RenderStatusJson(*v.view, ctx, section)};
}

}  // namespace conch::daemon
