#include "conch/observe/status_json.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "conch/observe/sample_view.h"
#include "core/records/records.h"
#include "core/view/cluster_view.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace conch::observe {
namespace {

using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;
using sample::kHostile;
using sample::SampleContext;
using sample::SampleView;

// `json` parsed by protobuf's JSON parser (which rejects anything that is
// not JSON), after checking what it does not: valid UTF-8 and no raw
// control characters.
Struct Parse(const std::string& json) {
  EXPECT_EQ(records::SanitizeUtf8(json), json);
  int controls = 0;
  for (char c : json) controls += static_cast<unsigned char>(c) < 0x20;
  EXPECT_EQ(controls, 0) << json;
  Struct s;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &s);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return s;
}

bool Has(const Struct& s, const std::string& key) {
  return s.fields().count(key) > 0;
}

const Value& Get(const Struct& s, const std::string& key) {
  static const Value* const kMissing = new Value;
  auto it = s.fields().find(key);
  if (it == s.fields().end()) {
    ADD_FAILURE() << "no member \"" << key << "\"";
    return *kMissing;
  }
  return it->second;
}

const std::string& Str(const Struct& s, const std::string& key) {
  return Get(s, key).string_value();
}

double Num(const Struct& s, const std::string& key) {
  const Value& v = Get(s, key);
  EXPECT_EQ(v.kind_case(), Value::kNumberValue) << key;
  return v.number_value();
}

const ListValue& List(const Struct& s, const std::string& key) {
  const Value& v = Get(s, key);
  EXPECT_EQ(v.kind_case(), Value::kListValue) << key;
  return v.list_value();
}

const Struct& Obj(const Struct& s, const std::string& key) {
  const Value& v = Get(s, key);
  EXPECT_EQ(v.kind_case(), Value::kStructValue) << key;
  return v.struct_value();
}

const Struct& At(const ListValue& list, int i) {
  static const Struct* const kMissing = new Struct;
  if (i >= list.values_size()) {
    ADD_FAILURE() << "no element " << i;
    return *kMissing;
  }
  return list.values(i).struct_value();
}

// Members holding "" anywhere in `v`; elements of "argv" arrays (which may
// be empty arguments) are exempt.
int EmptyStrings(const Value& v, const std::string& path) {
  int n = 0;
  switch (v.kind_case()) {
    case Value::kStringValue:
      if (v.string_value().empty()) {
        ADD_FAILURE() << path << " is \"\"";
        ++n;
      }
      break;
    case Value::kStructValue:
      for (const auto& [key, member] : v.struct_value().fields()) {
        n += EmptyStrings(member, absl::StrCat(path, ".", key));
      }
      break;
    case Value::kListValue:
      if (absl::EndsWith(path, ".argv")) break;
      for (int i = 0; i < v.list_value().values_size(); ++i) {
        n += EmptyStrings(v.list_value().values(i),
                          absl::StrCat(path, "[", i, "]"));
      }
      break;
    default:
      break;
  }
  return n;
}

const Struct& JobNamed(const Struct& doc, const std::string& name) {
  const ListValue& jobs = List(doc, "jobs");
  for (int i = 0; i < jobs.values_size(); ++i) {
    if (Str(At(jobs, i), "name") == name) return At(jobs, i);
  }
  ADD_FAILURE() << "no job " << name;
  static const Struct* const kMissing = new Struct;
  return *kMissing;
}

TEST(StatusJsonTest, TopLevelSaysWhoWhenAndWhether) {
  const Struct doc =
      Parse(RenderStatusJson(SampleView(), SampleContext(), JsonSection::kAll));
  EXPECT_EQ(Str(doc, "api"), "v1");
  EXPECT_EQ(Str(doc, "daemon"), "d1");
  EXPECT_EQ(Str(doc, "prefix"), "/conch/");
  EXPECT_EQ(Str(doc, "read_at"), "2026-12-03T06:59:30.000Z");
  EXPECT_EQ(Str(doc, "rendered_at"), "2026-12-03T06:59:31.000Z");
  EXPECT_EQ(Num(doc, "revision"), 4242);
  EXPECT_TRUE(Get(doc, "ready").bool_value());
  EXPECT_FALSE(Has(doc, "not_ready_reason"));
  EXPECT_FALSE(Has(doc, "error"));
  EXPECT_EQ(List(doc, "daemons").values_size(), 3);
  EXPECT_EQ(List(doc, "jobs").values_size(), 4);
  EXPECT_EQ(List(doc, "bad_jobs").values_size(), 1);
  EXPECT_EQ(List(doc, "offices").values_size(), 2);
  EXPECT_EQ(List(doc, "semaphores").values_size(), 1);
}

TEST(StatusJsonTest, SectionsHoldOnlyTheirArrays) {
  struct Case {
    JsonSection section;
    std::vector<std::string> present;
  };
  const std::vector<std::string> all = {"daemons", "jobs", "bad_jobs",
                                        "offices", "semaphores"};
  for (const Case& c : std::vector<Case>{
           {JsonSection::kDaemons, {"daemons"}},
           {JsonSection::kJobs, {"jobs", "bad_jobs"}},
           {JsonSection::kOffices, {"offices"}},
           {JsonSection::kSemaphores, {"semaphores"}},
       }) {
    const Struct doc =
        Parse(RenderStatusJson(SampleView(), SampleContext(), c.section));
    EXPECT_EQ(Str(doc, "api"), "v1");
    EXPECT_TRUE(Has(doc, "ready"));
    for (const std::string& key : all) {
      const bool want =
          std::find(c.present.begin(), c.present.end(), key) != c.present.end();
      EXPECT_EQ(Has(doc, key), want) << key;
    }
  }
}

TEST(StatusJsonTest, HostileValuesStayValidJson) {
  const std::string json =
      RenderStatusJson(SampleView(), SampleContext(), JsonSection::kAll);
  const Struct doc = Parse(json);
  EXPECT_EQ(json.find("<script>alert(1)</script>\"'&"), std::string::npos);
  const std::string clean = records::SanitizeUtf8(kHostile);
  EXPECT_EQ(clean, "<script>alert(1)</script>\"'&\x01\xEF\xBF\xBD");
  EXPECT_EQ(Str(At(List(doc, "jobs"), 1), "name"), clean);
  EXPECT_EQ(Str(At(List(doc, "daemons"), 1), "host"), clean);
  EXPECT_EQ(Str(At(List(doc, "offices"), 1), "name"), clean);
  const Struct& tick = At(List(At(List(doc, "jobs"), 1), "ticks"), 0);
  EXPECT_TRUE(absl::StartsWith(Str(tick, "output_tail"),
                               absl::StrCat(clean, "\nline 1\n")));
  EXPECT_EQ(Num(tick, "output_cut"), 5000);
  // A self id and an error with quotes and controls.
  PageContext ctx = SampleContext();
  ctx.self_id = "\"\n\\";
  ctx.error = "bad\x02\xC0";
  const Struct odd =
      Parse(RenderStatusJson(ClusterView(), ctx, JsonSection::kAll));
  EXPECT_EQ(Str(odd, "daemon"), "\"\n\\");
  EXPECT_EQ(Str(odd, "error"), "bad\x02\xEF\xBF\xBD");
}

TEST(StatusJsonTest, AbsentValuesAreOmittedNotEmpty) {
  const Struct doc =
      Parse(RenderStatusJson(SampleView(), SampleContext(), JsonSection::kAll));
  Value root;
  *root.mutable_struct_value() = doc;
  EXPECT_EQ(EmptyStrings(root, ""), 0);
  // ...but an empty argument stays in argv.
  const ListValue& argv =
      List(JobNamed(doc, records::SanitizeUtf8(kHostile)), "argv");
  ASSERT_EQ(argv.values_size(), 5);
  EXPECT_EQ(argv.values(2).string_value(), "my file");
  EXPECT_EQ(argv.values(4).string_value(), "");
}

TEST(StatusJsonTest, DaemonsMarkSelfAndUnreadable) {
  const Struct doc = Parse(
      RenderStatusJson(SampleView(), SampleContext(), JsonSection::kDaemons));
  const ListValue& daemons = List(doc, "daemons");
  const Struct& d1 = At(daemons, 0);
  EXPECT_EQ(Str(d1, "id"), "d1");
  EXPECT_TRUE(Get(d1, "self").bool_value());
  EXPECT_EQ(Str(d1, "host"), "node-1");
  EXPECT_EQ(Num(d1, "pid"), 111);
  EXPECT_EQ(Str(d1, "version"), "1.2.3");
  EXPECT_EQ(Str(d1, "since"), "2026-12-01T00:00:00.000Z");
  EXPECT_EQ(Str(d1, "lease"), "00000000000000d1");
  EXPECT_FALSE(Has(d1, "error"));
  EXPECT_FALSE(Has(d1, "boot_id"));
  EXPECT_FALSE(Get(At(daemons, 1), "self").bool_value());
  const Struct& d3 = At(daemons, 2);
  EXPECT_EQ(Str(d3, "id"), "d3");
  EXPECT_EQ(Str(d3, "error"), "bad Daemon record: <garbage>");
  EXPECT_EQ(Str(d3, "lease"), "00000000000000d3");
  EXPECT_FALSE(Has(d3, "host"));
  EXPECT_FALSE(Has(d3, "pid"));
}

TEST(StatusJsonTest, JobsHaveNextTickInUtcAndInTheirZone) {
  const Struct doc = Parse(
      RenderStatusJson(SampleView(), SampleContext(), JsonSection::kJobs));
  const Struct& backup = JobNamed(doc, "backup");
  EXPECT_EQ(Str(backup, "schedule"), "0 8 * * *");
  EXPECT_EQ(Str(backup, "tz"), "Europe/Berlin");
  EXPECT_EQ(Str(backup, "overlap"), "skip");
  EXPECT_EQ(Str(backup, "next"), "2026-12-03T07:00:00.000Z");
  EXPECT_EQ(Str(backup, "next_local"), "2026-12-03T08:00:00+01:00");
  EXPECT_FALSE(Has(backup, "schedule_error"));
  const ListValue& argv = List(backup, "argv");
  ASSERT_EQ(argv.values_size(), 3);
  EXPECT_EQ(argv.values(2).string_value(), "echo 'hi' && date");

  const Struct& broken = JobNamed(doc, "broken");
  EXPECT_FALSE(Has(broken, "next"));
  EXPECT_FALSE(Has(broken, "next_local"));
  EXPECT_EQ(Str(broken, "schedule_error"), "unknown time zone \"Mars/Base\"");
  EXPECT_EQ(Get(broken, "last").kind_case(), Value::kNullValue);
  EXPECT_EQ(List(broken, "ticks").values_size(), 0);

  EXPECT_EQ(Str(JobNamed(doc, "long"), "next_local"),
            "2026-12-03T07:00:00+00:00");

  const Struct& bad = At(List(doc, "bad_jobs"), 0);
  EXPECT_EQ(Str(bad, "key"), "/conch/cron/job/%zz");
  EXPECT_EQ(Str(bad, "error"), "invalid name: bad escape");
}

TEST(StatusJsonTest, TicksCarryStateTimingAndOutcome) {
  const Struct doc = Parse(
      RenderStatusJson(SampleView(), SampleContext(), JsonSection::kJobs));
  const Struct& backup = JobNamed(doc, "backup");
  const ListValue& ticks = List(backup, "ticks");
  ASSERT_EQ(ticks.values_size(), 3);

  const Struct& zombie = At(ticks, 0);
  EXPECT_EQ(Str(zombie, "tick"), "2026-12-02T07:00:00.000Z");
  EXPECT_EQ(Str(zombie, "state"), "zombie");
  EXPECT_EQ(Str(zombie, "text"), "zombie");
  EXPECT_EQ(Str(zombie, "daemon"), "d9");
  EXPECT_EQ(Num(zombie, "rev"), 901);
  EXPECT_EQ(Str(zombie, "lease"), "00000000000000d9");
  EXPECT_EQ(Str(zombie, "claimed_at"), "2026-12-02T07:00:00.000Z");
  EXPECT_EQ(Num(zombie, "elapsed_seconds"), 86371);  // 23h59m31s
  for (const char* absent :
       {"started", "ended", "duration_seconds", "exit_code", "signal",
        "skipped", "output_tail", "error"}) {
    EXPECT_FALSE(Has(zombie, absent)) << absent;
  }
  // `last` is the newest tick.
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      Obj(backup, "last"), zombie));

  const Struct& ok = At(ticks, 1);
  EXPECT_EQ(Str(ok, "state"), "ok");
  EXPECT_EQ(Num(ok, "exit_code"), 0);
  EXPECT_EQ(Str(ok, "started"), "2026-12-01T07:00:00.010Z");
  EXPECT_EQ(Str(ok, "ended"), "2026-12-01T07:00:01.510Z");
  EXPECT_EQ(Num(ok, "duration_seconds"), 1.5);
  EXPECT_EQ(Str(ok, "output_tail"), "saved\n");
  EXPECT_FALSE(Has(ok, "output_cut"));  // nothing was cut
  EXPECT_FALSE(Has(ok, "elapsed_seconds"));
  EXPECT_FALSE(Has(ok, "signal"));

  const Struct& failed = At(ticks, 2);
  EXPECT_EQ(Str(failed, "state"), "failed");
  EXPECT_EQ(Str(failed, "text"), "failed (code 3)");
  EXPECT_EQ(Num(failed, "exit_code"), 3);
  EXPECT_EQ(Num(failed, "duration_seconds"), 2);

  const Struct& killed =
      At(List(JobNamed(doc, records::SanitizeUtf8(kHostile)), "ticks"), 0);
  EXPECT_EQ(Str(killed, "text"), "failed (signal 9)");
  EXPECT_EQ(Num(killed, "signal"), 9);
  EXPECT_FALSE(Has(killed, "exit_code"));
  EXPECT_EQ(Str(killed, "ended"), "bad time");
  EXPECT_FALSE(Has(killed, "duration_seconds"));

  const Struct& running = At(List(JobNamed(doc, "long"), "ticks"), 0);
  EXPECT_EQ(Str(running, "state"), "running");
  EXPECT_EQ(Str(running, "text"), "running on d1");
  EXPECT_EQ(Num(running, "elapsed_seconds"), 30);
  EXPECT_EQ(Num(running, "rev"), 950);
}

TEST(StatusJsonTest, OfficesHaveHolderAndStandbys) {
  ClusterView view = SampleView();
  OfficeView vacant;
  vacant.name = "vacant";
  view.offices.push_back(vacant);
  const Struct doc =
      Parse(RenderStatusJson(view, SampleContext(), JsonSection::kOffices));
  const ListValue& offices = List(doc, "offices");
  ASSERT_EQ(offices.values_size(), 3);
  const Struct& db = At(offices, 0);
  EXPECT_EQ(Str(db, "name"), "db-primary");
  const Struct& holder = Obj(db, "holder");
  EXPECT_EQ(Str(holder, "key"), "/conch/elect/db-primary/a");
  EXPECT_EQ(Num(holder, "rev"), 500);
  EXPECT_EQ(Str(holder, "host"), "db1");
  EXPECT_EQ(Num(holder, "pid"), 100);
  EXPECT_EQ(Str(holder, "user"), "ops");
  EXPECT_EQ(Str(holder, "since"), "2026-12-03T06:00:00.000Z");
  EXPECT_EQ(Str(holder, "lease"), "00000000000000aa");
  EXPECT_EQ(List(holder, "argv").values_size(), 2);
  const ListValue& standbys = List(db, "standbys");
  ASSERT_EQ(standbys.values_size(), 2);
  EXPECT_EQ(Str(At(standbys, 0), "host"), "db2");
  EXPECT_EQ(Num(At(standbys, 0), "rev"), 510);
  const Struct& bad = At(standbys, 1);
  EXPECT_EQ(Num(bad, "rev"), 520);
  EXPECT_EQ(Str(bad, "error"), "bad Holder record: not JSON");
  EXPECT_FALSE(Has(bad, "host"));
  EXPECT_FALSE(Has(bad, "argv"));
  EXPECT_EQ(Get(At(offices, 2), "holder").kind_case(), Value::kNullValue);
  EXPECT_EQ(List(At(offices, 2), "standbys").values_size(), 0);
}

TEST(StatusJsonTest, SemaphoresHaveSlotsAndQueuePositions) {
  const Struct doc = Parse(RenderStatusJson(SampleView(), SampleContext(),
                                            JsonSection::kSemaphores));
  const Struct& pool = At(List(doc, "semaphores"), 0);
  EXPECT_EQ(Str(pool, "name"), "pool");
  EXPECT_EQ(Num(pool, "max"), 3);
  const ListValue& holders = List(pool, "holders");
  ASSERT_EQ(holders.values_size(), 2);
  EXPECT_EQ(Num(At(holders, 0), "slot"), 0);  // slot 0 is written
  EXPECT_EQ(Str(At(holders, 0), "host"), "h0");
  EXPECT_EQ(Num(At(holders, 0), "rev"), 600);
  EXPECT_EQ(Num(At(holders, 1), "slot"), 2);
  const ListValue& waiters = List(pool, "waiters");
  ASSERT_EQ(waiters.values_size(), 7);
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(Num(At(waiters, i), "position"), i + 1);
    EXPECT_EQ(Str(At(waiters, i), "host"), absl::StrCat("w", i + 1));
    EXPECT_EQ(Num(At(waiters, i), "rev"), 611 + i);
  }
}

TEST(StatusJsonTest, EmptyViewAndNotReady) {
  PageContext ctx = SampleContext();
  ctx.ready = false;
  ctx.not_ready_reason = "session lost";
  ctx.error = "etcd unavailable";
  const Struct doc =
      Parse(RenderStatusJson(ClusterView(), ctx, JsonSection::kAll));
  EXPECT_FALSE(Get(doc, "ready").bool_value());
  EXPECT_EQ(Str(doc, "not_ready_reason"), "session lost");
  EXPECT_EQ(Str(doc, "error"), "etcd unavailable");
  EXPECT_FALSE(Has(doc, "read_at"));
  EXPECT_FALSE(Has(doc, "revision"));
  EXPECT_FALSE(Has(doc, "prefix"));
  for (const char* key :
       {"daemons", "jobs", "bad_jobs", "offices", "semaphores"}) {
    EXPECT_EQ(List(doc, key).values_size(), 0) << key;
  }
}

TEST(StatusJsonTest, OneJobWithAllItsTicks) {
  absl::StatusOr<std::string> json =
      RenderJobJson(SampleView(), SampleContext(), "backup");
  ASSERT_TRUE(json.ok()) << json.status();
  const Struct doc = Parse(*json);
  EXPECT_EQ(Str(doc, "api"), "v1");
  EXPECT_EQ(Str(doc, "daemon"), "d1");
  EXPECT_FALSE(Has(doc, "jobs"));
  const Struct& job = Obj(doc, "job");
  EXPECT_EQ(Str(job, "name"), "backup");
  EXPECT_EQ(List(job, "ticks").values_size(), 3);

  // Found by its exact (raw) name.
  absl::StatusOr<std::string> odd =
      RenderJobJson(SampleView(), SampleContext(), kHostile);
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(Str(Obj(Parse(*odd), "job"), "name"),
            records::SanitizeUtf8(kHostile));

  absl::StatusOr<std::string> none =
      RenderJobJson(SampleView(), SampleContext(), "nope");
  EXPECT_TRUE(absl::IsNotFound(none.status())) << none.status();
}

}  // namespace
}  // namespace conch::observe
