#include "conch/observe/sample_view.h"

#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/cron/cron.h"
#include "core/cron/cron_state.h"
#include "core/records/records.h"

namespace conch::observe::sample {
namespace {

absl::Time At(const char* rfc3339) { return *records::ParseRfc3339(rfc3339); }

// The daemons alive in the sample: id → lease.
const std::map<std::string, std::string>& Live() {
  static const auto* live = new std::map<std::string, std::string>{
      {"d1", "00000000000000d1"}, {"d2", "00000000000000d2"}};
  return *live;
}

etcd::CronTick Claimed(const char* instant, const std::string& daemon,
                       const std::string& lease, int64_t rev) {
  etcd::CronTick t;
  t.instant = At(instant);
  t.claim.emplace();
  t.claim->set_daemon(daemon);
  t.claim->set_lease(lease);
  t.claim->set_claimed_at(instant);
  t.claim_revision = rev;
  return t;
}

records::Result Ran(const std::string& daemon, const char* started,
                    const char* ended) {
  records::Result r;
  r.set_daemon(daemon);
  r.set_started(started);
  r.set_ended(ended);
  return r;
}

TickView Tick(etcd::CronTick t) {
  TickView v;
  v.state = etcd::StateOfTick(t, Live());
  v.tick = std::move(t);
  return v;
}

HolderView Holder(const std::string& key, int64_t rev, const std::string& host,
                  int pid) {
  HolderView h;
  h.key = key;
  h.revision = rev;
  h.record.set_host(host);
  h.record.set_pid(pid);
  h.record.set_user("ops");
  h.record.set_since("2026-12-03T06:00:00.000Z");
  h.record.set_lease("00000000000000aa");
  h.record.add_argv("sleep");
  h.record.add_argv("60");
  return h;
}

}  // namespace

absl::Time ReadAt() { return At("2026-12-03T06:59:30Z"); }
absl::Time Now() { return At("2026-12-03T06:59:31Z"); }
absl::Time BerlinNext() { return At("2026-12-03T07:00:00Z"); }

ClusterView SampleView() {
  ClusterView v;
  v.prefix = "/conch/";
  v.read_at = ReadAt();
  v.revision = 4242;

  for (const char* id : {"d1", "d2", "d3"}) {
    DaemonView d;
    d.id = id;
    d.lease = absl::StrCat("00000000000000", id);
    if (d.id == "d3") {
      d.error = "bad Daemon record: <garbage>";
    } else {
      d.record.set_host(d.id == "d2" ? kHostile : "node-1");
      d.record.set_pid(d.id == "d2" ? 222 : 111);
      d.record.set_since("2026-12-01T00:00:00.000Z");
      d.record.set_version("1.2.3");
    }
    v.daemons.push_back(std::move(d));
  }

  JobView backup;
  backup.name = "backup";
  backup.job.set_schedule("0 8 * * *");
  backup.job.set_tz("Europe/Berlin");
  backup.job.set_overlap("skip");
  backup.job.add_argv("sh");
  backup.job.add_argv("-c");
  backup.job.add_argv("echo 'hi' && date");
  backup.next = BerlinNext();
  backup.ticks.push_back(
      Tick(Claimed("2026-12-02T07:00:00.000Z", "d9", "00000000000000d9", 901)));
  {
    etcd::CronTick ok =
        Claimed("2026-12-01T07:00:00.000Z", "d1", "00000000000000d1", 900);
    ok.result =
        Ran("d1", "2026-12-01T07:00:00.010Z", "2026-12-01T07:00:01.510Z");
    ok.result->set_exit_code(0);
    ok.result->set_output_tail("saved\n");
    backup.ticks.push_back(Tick(std::move(ok)));
    etcd::CronTick failed =
        Claimed("2026-11-30T07:00:00.000Z", "d2", "00000000000000d2", 899);
    failed.result =
        Ran("d2", "2026-11-30T07:00:00.000Z", "2026-11-30T07:00:02.000Z");
    failed.result->set_exit_code(3);
    backup.ticks.push_back(Tick(std::move(failed)));
  }
  v.jobs.push_back(std::move(backup));

  JobView hostile;
  hostile.name = kHostile;
  hostile.job.set_schedule("@every 1m");
  hostile.job.set_tz("UTC");
  hostile.job.set_overlap("allow");
  for (const char* arg : {"ls", "-l", "my file", "a'b", ""}) {
    hostile.job.add_argv(arg);
  }
  hostile.next = At("2026-12-03T07:00:00Z");
  {
    etcd::CronTick t =
        Claimed("2026-12-03T06:59:00.000Z", "d2", "00000000000000d2", 700);
    t.result = Ran("d2", "2026-12-03T06:59:00.000Z", "bad time");
    t.result->set_signal(9);
    std::string output = absl::StrCat(kHostile, "\n");
    for (int i = 1; i <= 30; ++i) absl::StrAppend(&output, "line ", i, "\n");
    t.result->set_output_tail(output);
    t.result->set_output_cut(5000);  // 5000 bytes before the tail were cut
    hostile.ticks.push_back(Tick(std::move(t)));
  }
  v.jobs.push_back(std::move(hostile));

  JobView broken;
  broken.name = "broken";
  broken.job.set_schedule("0 * * * *");
  broken.job.set_tz("Mars/Base");
  broken.job.set_overlap("allow");
  broken.job.add_argv("true");
  broken.schedule_error = "unknown time zone \"Mars/Base\"";
  v.jobs.push_back(std::move(broken));

  JobView running;
  running.name = "long";
  running.job.set_schedule("@every 1h");
  running.job.set_tz("UTC");
  running.job.set_overlap("skip");
  running.job.add_argv("sleep");
  running.job.add_argv("7200");
  running.next = At("2026-12-03T07:00:00Z");
  running.ticks.push_back(
      Tick(Claimed("2026-12-03T06:59:01.000Z", "d1", "00000000000000d1", 950)));
  v.jobs.push_back(std::move(running));

  v.bad_jobs.push_back({"/conch/cron/job/%zz", "invalid name: bad escape"});

  OfficeView db;
  db.name = "db-primary";
  db.candidates.push_back(Holder("/conch/elect/db-primary/a", 500, "db1", 100));
  db.candidates.push_back(Holder("/conch/elect/db-primary/b", 510, "db2", 200));
  HolderView bad;
  bad.key = "/conch/elect/db-primary/c";
  bad.revision = 520;
  bad.error = "bad Holder record: not JSON";
  db.candidates.push_back(std::move(bad));
  v.offices.push_back(std::move(db));
  OfficeView odd;
  odd.name = kHostile;
  odd.candidates.push_back(Holder("/conch/elect/x/a", 530, kHostile, 300));
  v.offices.push_back(std::move(odd));

  SemaphoreView pool;
  pool.name = "pool";
  pool.max = 3;
  pool.holders.push_back({0, Holder("/conch/sema/pool/3/s0", 600, "h0", 10)});
  pool.holders.push_back({2, Holder("/conch/sema/pool/3/s2", 602, "h2", 12)});
  for (int i = 1; i <= 7; ++i) {
    pool.waiters.push_back(Holder(absl::StrCat("/conch/sema/pool/3/q", i),
                                  610 + i, absl::StrCat("w", i), 20 + i));
  }
  v.semaphores.push_back(std::move(pool));
  return v;
}

PageContext SampleContext() {
  PageContext ctx;
  ctx.self_id = "d1";
  ctx.now = Now();
  ctx.ready = true;
  return ctx;
}

}  // namespace conch::observe::sample
