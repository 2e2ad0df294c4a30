// conchd's status page in a real browser: headless Chromium (Debian's
// `chromium`) loads it from a real conchd against a real etcd holding
// jobs (one ok, one failing, one zombie), an office with a standby and a
// semaphore with a waiter; the DOM must have the expected rows. The
// screenshots (desktop and phone width) go to the test's outputs;
// tools/screenshot_status.sh copies them into docs/img.
#include <signal.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "conch/listening_daemon.h"
#include "conch/test_util.h"
#include "core/cron/cron.h"
#include "core/etcd/connection.h"
#include "core/etcd/test_dial.h"
#include "core/records/names.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/chromium.h"
#include "testing/etcd_env.h"
#include "testing/files.h"
#include "testing/poll.h"

namespace conch {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

absl::Time In(absl::Duration d) { return absl::Now() + d; }

int Count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// The <tbody> of the table with id `id` in `dom`.
std::string Body(const std::string& dom, const std::string& id) {
  const size_t table = dom.find(absl::StrCat("<table id=\"", id, "\""));
  if (table == std::string::npos) return "";
  const size_t from = dom.find("<tbody>", table);
  const size_t to = dom.find("</tbody>", from);
  if (from == std::string::npos || to == std::string::npos) return "";
  return dom.substr(from, to - from);
}

TEST(StatusPageBrowserTest, ChromiumShowsEveryRow) {
  absl::StatusOr<test::HeadlessChromium> chromium =
      test::HeadlessChromium::Create();
  ASSERT_TRUE(chromium.ok()) << chromium.status();
  const std::string prefix = test::UniquePrefix();
  const std::string endpoints = test::SharedEtcd().endpoint();
  absl::StatusOr<std::unique_ptr<etcd::Connection>> conn =
      etcd::DialTestServer(test::SharedEtcd());
  ASSERT_TRUE(conn.ok()) << conn.status();
  etcd::CronStore store(conn->get(), prefix);
  auto add = [&](const std::string& name, const std::string& schedule,
                 const std::string& script) {
    test::CommandResult r =
        RunConch({"cron", "add", name, "--schedule", schedule, "--tz",
                  "Europe/Berlin", "--", "sh", "-c", script},
                 prefix, test::SharedEtcd());
    ASSERT_EQ(r.exit_code, 0) << r.DebugString();
  };

  // A zombie first: a daemon killed while it runs a tick.
  {
    std::unique_ptr<ListeningDaemon> doomed =
        ListeningDaemon::Start("node3", prefix, endpoints);
    ASSERT_NE(doomed, nullptr);
    add("reindex", "@hourly", "sleep 60");
    test::CommandResult run =
        RunConch({"cron", "run", "reindex"}, prefix, test::SharedEtcd());
    ASSERT_EQ(run.exit_code, 0) << run.DebugString();
    ASSERT_TRUE(test::PollUntil(
                    [&] {
                      absl::StatusOr<std::vector<etcd::CronTick>> h =
                          store.History(*EncodeName("reindex"), 1,
                                        etcd::Soon());
                      return h.ok() && !h->empty() && (*h)[0].claim.has_value();
                    },
                    In(absl::Seconds(15)))
                    .ok());
    ASSERT_TRUE(doomed->process().Signal(SIGKILL).ok());
    doomed->process().ExitCode(In(absl::Seconds(10)));
  }
  std::unique_ptr<ListeningDaemon> d1 =
      ListeningDaemon::Start("node1", prefix, endpoints);
  std::unique_ptr<ListeningDaemon> d2 =
      ListeningDaemon::Start("node2", prefix, endpoints);
  ASSERT_NE(d1, nullptr);
  ASSERT_NE(d2, nullptr);
  add("report", "@every 2s", "echo 'rows: 42'; echo '<i>done</i>'");
  add("sync-mirror", "@every 3s", "echo 'mirror unreachable' >&2; exit 3");
  std::vector<std::unique_ptr<ConchProcess>> holders;
  for (int i = 0; i < 2; ++i) {
    holders.push_back(
        ConchProcess::Start({"elect", "db-primary", "--", "sleep", "120"},
                            prefix, test::SharedEtcd()));
    holders.push_back(ConchProcess::Start(
        {"sema", "backup-slots", "--max", "1", "--", "sleep", "120"}, prefix,
        test::SharedEtcd()));
  }

  // Wait until the page has what the browser should see: both jobs with
  // a run, the zombie, the standby and the waiter. A job's row shows its
  // latest tick, so the failing job's row is polled for too: its next
  // tick may be running when the page is read (seen under ASan).
  std::string dom;
  const absl::Status complete = test::PollUntil(
      [&] {
        absl::StatusOr<std::string> got =
            chromium->DumpDom(d1->url() + "/", In(absl::Seconds(30)));
        if (!got.ok()) return false;
        dom = *got;
        return Count(Body(dom, "ticks"), "data-state=\"failed\"") >= 1 &&
               Count(Body(dom, "ticks"), "data-state=\"ok\"") >= 1 &&
               Count(Body(dom, "ticks"), "data-state=\"zombie\"") == 1 &&
               absl::StrContains(
                   Body(dom, "jobs"),
                   "class=\"job failed\" data-job=\"sync-mirror\"") &&
               absl::StrContains(Body(dom, "offices"), "<td>1: ") &&
               absl::StrContains(Body(dom, "semaphores"), "<td>1<br>1. ");
      },
      In(absl::Seconds(60)), absl::Seconds(1));
  ASSERT_TRUE(complete.ok()) << complete << "\n" << dom;

  EXPECT_THAT(dom, HasSubstr("<h1>conchd node1</h1>"));
  // The two live daemons, this one marked; not the dead one.
  const std::string daemons = Body(dom, "daemons");
  EXPECT_EQ(Count(daemons, "<tr"), 2) << daemons;
  EXPECT_EQ(Count(daemons, " self\""), 1) << daemons;
  EXPECT_THAT(daemons, Not(HasSubstr("node3")));
  // Three jobs; the zombie's and the failing job's rows say so.
  const std::string jobs = Body(dom, "jobs");
  EXPECT_EQ(Count(jobs, "<tr class=\"job"), 3) << jobs;
  EXPECT_THAT(jobs, HasSubstr("data-job=\"reindex\""));
  EXPECT_THAT(jobs, HasSubstr("class=\"job zombie\" data-job=\"reindex\""));
  EXPECT_THAT(jobs, HasSubstr("class=\"job failed\" data-job=\"sync-mirror\""));
  // Next ticks in Berlin and in UTC.
  EXPECT_THAT(jobs, testing::AnyOf(HasSubstr(" CET"), HasSubstr(" CEST")));
  EXPECT_THAT(jobs, HasSubstr("Z</span>"));
  // Output tails, escaped: the markup a job printed is text.
  const std::string ticks = Body(dom, "ticks");
  EXPECT_THAT(ticks, HasSubstr("rows: 42"));
  EXPECT_THAT(ticks, HasSubstr("&lt;i&gt;done&lt;/i&gt;"));
  EXPECT_THAT(ticks, HasSubstr("mirror unreachable"));
  EXPECT_THAT(ticks, HasSubstr("zombie"));
  // One office with its holder and a standby; one semaphore with its
  // holder and a waiter.
  EXPECT_EQ(Count(Body(dom, "offices"), "<tr class=\"office"), 1);
  EXPECT_EQ(Count(Body(dom, "semaphores"), "<tr class=\"semaphore"), 1);
  // Nothing runs in the page.
  EXPECT_THAT(dom, Not(HasSubstr("<script")));

  // Screenshots for the docs: a desktop window and a phone's width.
  const char* outputs = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  const std::string dir = outputs != nullptr ? outputs : ::testing::TempDir();
  for (const auto& [name, w, h] :
       std::vector<std::tuple<std::string, int, int>>{
           {"status-page.png", 1280, 1500},
           {"status-page-phone.png", 390, 1400}}) {
    const std::string path = absl::StrCat(dir, "/", name);
    const absl::Status shot = chromium->Screenshot(d1->url() + "/", path, w, h,
                                                   In(absl::Seconds(60)));
    ASSERT_TRUE(shot.ok()) << shot;
    absl::StatusOr<std::string> png = test::ReadFile(path);
    ASSERT_TRUE(png.ok()) << png.status();
    EXPECT_GT(png->size(), 10000u) << name;
    EXPECT_EQ(png->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  }

  for (std::unique_ptr<ConchProcess>& p : holders) {
    p->Signal(SIGTERM).IgnoreError();
    p->ExitCode(In(absl::Seconds(10)));
  }
}

}  // namespace
}  // namespace conch
