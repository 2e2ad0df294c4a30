// End-to-end tests of conchd's HTTP side (--listen): metrics that move as
// jobs run on two daemons, /healthz and /readyz through a partition, the
// status page and /api/v1 over jobs, offices and semaphores (zombies
// included), hostile clients that must not move the tick lag, `conch
// status`, and bad --listen values. Real etcd, real conchd processes.
#include <arpa/inet.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "conch/cron_test_util.h"
#include "conch/listening_daemon.h"
#include "conch/test_util.h"
#include "core/cron/cron.h"
#include "core/etcd/test_dial.h"
#include "core/records/records.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/etcd_env.h"
#include "testing/poll.h"
#include "testing/prometheus_server.h"
#include "testing/tcp_proxy.h"

namespace conch {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

absl::Time In(absl::Duration d) { return absl::Now() + d; }

google::protobuf::Struct ParseJson(const std::string& text) {
  google::protobuf::Struct s;
  const auto status = google::protobuf::util::JsonStringToMessage(text, &s);
  EXPECT_TRUE(status.ok()) << status.ToString() << ": " << text;
  return s;
}

const google::protobuf::ListValue& List(const google::protobuf::Struct& s,
                                        const std::string& key) {
  return s.fields().at(key).list_value();
}

class ConchdHttpTest : public CronFixture {
 protected:
  std::string endpoints() const { return test::SharedEtcd().endpoint(); }

  std::string Metrics(ListeningDaemon& d) {
    absl::StatusOr<test::HttpResponse> r = d.Get("/metrics");
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return "";
    EXPECT_EQ(r->status_code, 200);
    return r->body;
  }
};

TEST_F(ConchdHttpTest, MetricsMoveAsJobsRunOnTwoDaemons) {
  std::unique_ptr<ListeningDaemon> d1 =
      ListeningDaemon::Start("d1", prefix_, endpoints());
  std::unique_ptr<ListeningDaemon> d2 =
      ListeningDaemon::Start("d2", prefix_, endpoints());
  ASSERT_NE(d1, nullptr);
  ASSERT_NE(d2, nullptr);
  Add("good", "exit 0");
  Add("bad", "exit 3");
  // Both daemons together: at least four ok and four failed runs.
  std::string m1, m2;
  auto both = [&](absl::string_view name, std::vector<std::string> labels) {
    return MetricSum(m1, name, labels) + MetricSum(m2, name, labels);
  };
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    m1 = Metrics(*d1);
                    m2 = Metrics(*d2);
                    return both("conch_cron_runs_total",
                                {"cron_job=\"good\"", "outcome=\"ok\""}) >= 4 &&
                           both("conch_cron_runs_total",
                                {"cron_job=\"bad\"", "outcome=\"failed\""}) >=
                               4;
                  },
                  In(absl::Seconds(30)))
                  .ok())
      << m1 << "\n----\n"
      << m2;
  for (const std::string* m : {&m1, &m2}) {
    EXPECT_EQ(MetricSum(*m, "conch_cron_jobs"), 2) << *m;
    EXPECT_EQ(MetricSum(*m, "conch_cron_live_daemons"), 2) << *m;
    EXPECT_EQ(MetricSum(*m, "conch_session_up"), 1) << *m;
    EXPECT_EQ(MetricSum(*m, "conch_session_losses_total"), 0) << *m;
    // Every daemon sees every tick come due.
    EXPECT_GE(
        MetricSum(*m, "conch_cron_ticks_due_total", {"cron_job=\"good\""}), 2)
        << *m;
  }
  // Each tick is won once, in all: the runs recorded are the ticks won.
  const double won = both("conch_cron_ticks_won_total", {});
  const double runs = both("conch_cron_runs_total", {});
  EXPECT_GE(won, runs) << m1 << m2;
  EXPECT_LE(won - runs, 4) << "runs still going: " << m1 << m2;
  // The daemon that is not preferred for a job finds its ticks taken.
  EXPECT_GT(both("conch_cron_ticks_lost_total", {}), 0) << m1 << m2;
  EXPECT_GE(both("conch_cron_run_start_lag_seconds_count", {}), runs - 4);
  EXPECT_GE(both("conch_cron_claim_latency_seconds_count", {}), won);
  // What the counters say agrees with etcd's history (results are written
  // in batches, after they are counted: wait for them).
  const double ok_counted =
      both("conch_cron_runs_total", {"cron_job=\"good\"", "outcome=\"ok\""});
  int ok_in_history = 0;
  EXPECT_TRUE(test::PollUntil(
                  [&] {
                    ok_in_history = 0;
                    for (const etcd::CronTick& t : History("good")) {
                      ok_in_history += t.result.has_value() &&
                                       t.result->has_exit_code() &&
                                       t.result->exit_code() == 0;
                    }
                    return ok_in_history >= ok_counted;
                  },
                  In(absl::Seconds(5)))
                  .ok())
      << ok_in_history << " ok in history, " << ok_counted << " counted";
  // promtool accepts the exposition.
  EXPECT_TRUE(test::PromtoolCheckMetrics(m1).ok())
      << test::PromtoolCheckMetrics(m1) << "\n"
      << m1;

  // A removed job's series go.
  test::CommandResult rm =
      RunConch({"cron", "rm", "bad"}, prefix_, test::SharedEtcd());
  ASSERT_EQ(rm.exit_code, 0) << rm.DebugString();
  EXPECT_TRUE(test::PollUntil(
                  [&] {
                    m1 = Metrics(*d1);
                    return !absl::StrContains(m1, "cron_job=\"bad\"") &&
                           MetricSum(m1, "conch_cron_jobs") == 1;
                  },
                  In(absl::Seconds(10)))
                  .ok())
      << m1;
}

TEST_F(ConchdHttpTest, ReadinessFollowsTheSessionAndHealthTheLoop) {
  absl::StatusOr<std::unique_ptr<test::TcpProxy>> proxy =
      test::TcpProxy::Start(test::SharedEtcd().client_port());
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  std::unique_ptr<ListeningDaemon> d =
      ListeningDaemon::Start("solo", prefix_, (*proxy)->endpoint());
  ASSERT_NE(d, nullptr);
  absl::StatusOr<test::HttpResponse> h = d->Get("/healthz");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->status_code, 200);
  EXPECT_EQ(h->body, "ok\n");
  absl::StatusOr<test::HttpResponse> r = d->Get("/readyz");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "ready\n");

  // Cut etcd off: the session is lost at its 2 s TTL; the loop goes on.
  (*proxy)->SetMode(test::TcpProxy::Mode::kBlackhole);
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    r = d->Get("/readyz");
                    return r.ok() && r->status_code == 503;
                  },
                  In(absl::Seconds(15)))
                  .ok())
      << d->process().Stderr();
  EXPECT_THAT(r->body, HasSubstr("no etcd session")) << r->body;
  h = d->Get("/healthz");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->status_code, 200) << h->body;
  // Metrics still answer, and say so.
  const std::string cut = Metrics(*d);
  EXPECT_EQ(MetricSum(cut, "conch_session_up"), 0) << cut;
  EXPECT_GE(MetricSum(cut, "conch_session_losses_total"), 1) << cut;
  // The page answers too, with what it last read and the error.
  absl::StatusOr<test::HttpResponse> page = d->Get("/", absl::Seconds(10));
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(page->body, HasSubstr("no etcd session"));

  // Heal: ready again.
  (*proxy)->SetMode(test::TcpProxy::Mode::kPass);
  EXPECT_TRUE(test::PollUntil(
                  [&] {
                    r = d->Get("/readyz");
                    return r.ok() && r->status_code == 200;
                  },
                  In(absl::Seconds(30)))
                  .ok())
      << d->process().Stderr();
  const std::string healed = Metrics(*d);
  EXPECT_EQ(MetricSum(healed, "conch_session_up"), 1) << healed;
  EXPECT_GE(MetricSum(healed, "conch_etcd_rpc_errors_total"), 1) << healed;

  // A frozen daemon (SIGSTOP) answers nothing at all; once continued,
  // /healthz says ok again.
  ASSERT_TRUE(d->process().Signal(SIGSTOP).ok());
  absl::StatusOr<test::HttpResponse> frozen =
      d->Get("/healthz", absl::Seconds(1));
  EXPECT_FALSE(frozen.ok());
  ASSERT_TRUE(d->process().Signal(SIGCONT).ok());
  h = d->Get("/healthz");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->status_code, 200);
}

TEST_F(ConchdHttpTest, StatusPageAndApiShowJobsOfficesAndSemaphores) {
  std::unique_ptr<ListeningDaemon> d =
      ListeningDaemon::Start("web1", prefix_, endpoints());
  ASSERT_NE(d, nullptr);
  Add("greet", "echo '<b>hello</b> & bye'");
  AddJob("nightly", "0 3 * * *", "true");
  std::unique_ptr<ConchProcess> leader =
      ConchProcess::Start({"elect", "db-primary", "--", "sleep", "60"}, prefix_,
                          test::SharedEtcd());
  std::unique_ptr<ConchProcess> standby =
      ConchProcess::Start({"elect", "db-primary", "--", "sleep", "60"}, prefix_,
                          test::SharedEtcd());
  std::unique_ptr<ConchProcess> holder = ConchProcess::Start(
      {"sema", "backups", "--max", "1", "--", "sleep", "60"}, prefix_,
      test::SharedEtcd());
  std::unique_ptr<ConchProcess> waiter = ConchProcess::Start(
      {"sema", "backups", "--max", "1", "--", "sleep", "60"}, prefix_,
      test::SharedEtcd());

  google::protobuf::Struct all;
  ASSERT_TRUE(
      test::PollUntil(
          [&] {
            absl::StatusOr<test::HttpResponse> r = d->Get("/api/v1/status");
            if (!r.ok() || r->status_code != 200) return false;
            all = ParseJson(r->body);
            if (List(all, "offices").values_size() != 1) return false;
            const auto& office = List(all, "offices").values(0).struct_value();
            const auto& sema =
                List(all, "semaphores").values_size() == 1
                    ? List(all, "semaphores").values(0).struct_value()
                    : google::protobuf::Struct();
            const auto& jobs = List(all, "jobs");
            bool greeted = false;
            for (const auto& j : jobs.values()) {
              const auto& f = j.struct_value().fields();
              greeted = greeted || (f.at("name").string_value() == "greet" &&
                                    f.at("last").has_struct_value());
            }
            return office.fields().count("standbys") == 1 &&
                   List(office, "standbys").values_size() == 1 &&
                   sema.fields().count("waiters") == 1 &&
                   List(sema, "waiters").values_size() == 1 && greeted;
          },
          In(absl::Seconds(30)))
          .ok())
      << d->process().Stderr();
  EXPECT_EQ(all.fields().at("api").string_value(), "v1");
  EXPECT_EQ(all.fields().at("daemon").string_value(), "web1");
  EXPECT_TRUE(all.fields().at("ready").bool_value());
  EXPECT_EQ(List(all, "daemons").values_size(), 1);
  EXPECT_EQ(List(all, "jobs").values_size(), 2);
  const auto& office = List(all, "offices").values(0).struct_value().fields();
  EXPECT_EQ(office.at("name").string_value(), "db-primary");
  EXPECT_TRUE(office.at("holder").has_struct_value());
  const auto& sema = List(all, "semaphores").values(0).struct_value().fields();
  EXPECT_EQ(sema.at("max").number_value(), 1);
  EXPECT_EQ(sema.at("holders").list_value().values_size(), 1);

  // One job with its history.
  absl::StatusOr<test::HttpResponse> job = d->Get("/api/v1/jobs/greet");
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->status_code, 200) << job->body;
  EXPECT_THAT(job->body, HasSubstr("<b>hello</b> & bye"));  // JSON, not HTML
  absl::StatusOr<test::HttpResponse> none = d->Get("/api/v1/jobs/nosuch");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->status_code, 404) << none->body;
  absl::StatusOr<test::HttpResponse> bad_path = d->Get("/api/v1/nothing");
  ASSERT_TRUE(bad_path.ok()) << bad_path.status();
  EXPECT_EQ(bad_path->status_code, 404);

  // The page: every section, values escaped, no script.
  absl::StatusOr<test::HttpResponse> page = d->Get("/");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->status_code, 200);
  EXPECT_THAT(page->headers, HasSubstr("text/html"));
  EXPECT_THAT(page->body, HasSubstr("db-primary"));
  EXPECT_THAT(page->body, HasSubstr("backups"));
  EXPECT_THAT(page->body, HasSubstr("nightly"));
  EXPECT_THAT(page->body, HasSubstr("&lt;b&gt;hello&lt;/b&gt; &amp; bye"));
  EXPECT_THAT(page->body, Not(HasSubstr("<b>hello")));
  EXPECT_THAT(page->body, Not(HasSubstr("<script")));
  EXPECT_THAT(page->body, HasSubstr("http-equiv=\"refresh\""));

  // conch status counts the same things.
  test::CommandResult st =
      RunConch({"status", "--json"}, prefix_, test::SharedEtcd());
  ASSERT_EQ(st.exit_code, 0) << st.DebugString();
  const google::protobuf::Struct status = ParseJson(st.out);
  const auto& conch = status.fields().at("conch").struct_value().fields();
  EXPECT_EQ(conch.at("jobs").number_value(), 2);
  EXPECT_EQ(conch.at("offices").number_value(), 1);
  EXPECT_EQ(conch.at("semaphores").number_value(), 1);
  EXPECT_EQ(conch.at("sema_holders").number_value(), 1);
  EXPECT_EQ(conch.at("sema_waiters").number_value(), 1);
  EXPECT_EQ(conch.at("daemons").list_value().values_size(), 1);
  test::CommandResult text = RunConch({"status"}, prefix_, test::SharedEtcd());
  ASSERT_EQ(text.exit_code, 0) << text.DebugString();
  EXPECT_THAT(text.out, HasSubstr("daemons:   1 live (web1)"));
  EXPECT_THAT(text.out, HasSubstr("jobs:      2\n"));
  EXPECT_THAT(text.out, HasSubstr("offices:   1\n"));
  EXPECT_THAT(text.out, HasSubstr("semaphores: 1 (1 holding, 1 waiting)"));

  for (ConchProcess* p :
       {leader.get(), standby.get(), holder.get(), waiter.get()}) {
    p->Signal(SIGTERM).IgnoreError();
    EXPECT_NE(p->ExitCode(In(absl::Seconds(10))), -1);
  }
}

TEST_F(ConchdHttpTest, AZombieStandsOutOnThePageAndInMetrics) {
  // d1 runs a long job and is killed: its tick stays claimed with no
  // result, its lease expires: a zombie.
  {
    std::unique_ptr<ListeningDaemon> d1 =
        ListeningDaemon::Start("doomed", prefix_, endpoints());
    ASSERT_NE(d1, nullptr);
    AddJob("long", "@every 1h", "sleep 30");
    test::CommandResult run =
        RunConch({"cron", "run", "long"}, prefix_, test::SharedEtcd());
    ASSERT_EQ(run.exit_code, 0) << run.DebugString();
    ASSERT_TRUE(test::PollUntil(
                    [&] {
                      std::vector<etcd::CronTick> h = History("long");
                      return !h.empty() && h[0].claim.has_value();
                    },
                    In(absl::Seconds(15)))
                    .ok());
    ASSERT_TRUE(d1->process().Signal(SIGKILL).ok());
    d1->process().ExitCode(In(absl::Seconds(10)));
  }
  std::unique_ptr<ListeningDaemon> d2 =
      ListeningDaemon::Start("witness", prefix_, endpoints());
  ASSERT_NE(d2, nullptr);
  std::string m;
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    m = Metrics(*d2);
                    return MetricSum(m, "conch_cron_zombie_ticks",
                                     {"cron_job=\"long\""}) == 1;
                  },
                  In(absl::Seconds(40)), absl::Seconds(1))
                  .ok())
      << m;
  absl::StatusOr<test::HttpResponse> page = d2->Get("/");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(page->body, HasSubstr("zombie"));
  EXPECT_THAT(page->body, HasSubstr("class=\"tick zombie"));
}

// Opens `n` TCP connections to `port` that send nothing.
std::vector<int> IdleConnections(int port, int n) {
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a {};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      close(fd);
      continue;
    }
    fds.push_back(fd);
  }
  return fds;
}

// The start lag (started - instant) of every run of `job` whose tick is in
// [from, to).
std::vector<absl::Duration> Lags(const std::vector<etcd::CronTick>& history,
                                 absl::Time from, absl::Time to) {
  std::vector<absl::Duration> out;
  for (const etcd::CronTick& t : history) {
    if (t.instant < from || t.instant >= to || !t.result.has_value()) continue;
    absl::StatusOr<absl::Time> started =
        records::ParseRfc3339(t.result->started());
    if (started.ok()) out.push_back(*started - t.instant);
  }
  return out;
}

TEST_F(ConchdHttpTest, HostileClientsDoNotMoveTheTickLag) {
  std::unique_ptr<ListeningDaemon> d =
      ListeningDaemon::Start("sturdy", prefix_, endpoints());
  ASSERT_NE(d, nullptr);
  Add("steady", "true");
  // Five quiet ticks, then five under attack.
  const absl::Time quiet_from = absl::Now() + absl::Seconds(1);
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    return Lags(History("steady"), quiet_from,
                                absl::InfiniteFuture())
                               .size() >= 5;
                  },
                  In(absl::Seconds(20)))
                  .ok());
  const absl::Time attack_from = absl::Now();
  std::vector<int> idle = IdleConnections(d->port(), 400);
  EXPECT_GE(idle.size(), 300u);
  // Meanwhile: a request that announces a 1 GiB body, and one with a
  // 1 MiB header.
  std::vector<int> big = IdleConnections(d->port(), 2);
  ASSERT_EQ(big.size(), 2u);
  const std::string huge_body =
      "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n";
  send(big[0], huge_body.data(), huge_body.size(), MSG_NOSIGNAL);
  const std::string huge_header =
      absl::StrCat("GET / HTTP/1.1\r\nX: ", std::string(1 << 20, 'x'));
  send(big[1], huge_header.data(), huge_header.size(),
       MSG_NOSIGNAL | MSG_DONTWAIT);
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    return Lags(History("steady"), attack_from,
                                absl::InfiniteFuture())
                               .size() >= 5;
                  },
                  In(absl::Seconds(20)))
                  .ok());
  const std::vector<absl::Duration> quiet =
      Lags(History("steady"), quiet_from, attack_from);
  const std::vector<absl::Duration> attacked =
      Lags(History("steady"), attack_from, absl::InfiniteFuture());
  const absl::Duration quiet_max =
      *std::max_element(quiet.begin(), quiet.end());
  const absl::Duration attacked_max =
      *std::max_element(attacked.begin(), attacked.end());
  std::cout << "[measured] tick start lag, max of " << quiet.size()
            << " quiet ticks: " << quiet_max << "; of " << attacked.size()
            << " ticks with " << idle.size()
            << " idle connections and two oversized requests: " << attacked_max
            << "\n";
  EXPECT_LT(attacked_max, Scaled(absl::Milliseconds(250)));
  // The runs are recorded all along (the loop was never held).
  for (int fd : idle) close(fd);
  for (int fd : big) close(fd);
  // Once the crowd is gone the page answers again.
  EXPECT_TRUE(test::PollUntil(
                  [&] {
                    absl::StatusOr<test::HttpResponse> h =
                        d->Get("/healthz", absl::Seconds(2));
                    return h.ok() && h->status_code == 200;
                  },
                  In(absl::Seconds(60)))
                  .ok());
}

TEST_F(ConchdHttpTest, BadListenValuesExit64AndABusyPort69) {
  for (std::vector<std::string> flags : std::vector<std::vector<std::string>>{
           {"--listen", "0.0.0.0:9187"},
           {"--listen", "9187"},
           {"--listen", "127.0.0.1:70000"},
           {"--listen", "example.com:80"},
           {"--listen", ""},
           {"--listen-public"},
       }) {
    std::vector<std::string> args = {kConchdBinary, "--id",      "x",
                                     "--endpoints", endpoints(), "--prefix",
                                     prefix_};
    args.insert(args.end(), flags.begin(), flags.end());
    absl::StatusOr<test::CommandResult> r =
        test::RunCommand(args, absl::Seconds(20));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->exit_code, 64) << r->DebugString();
    EXPECT_TRUE(absl::StartsWith(r->err, "conchd: ")) << r->err;
    EXPECT_EQ(std::count(r->err.begin(), r->err.end(), '\n'), 1) << r->err;
    EXPECT_THAT(r->err, HasSubstr("--listen")) << r->err;
  }
  // A port another daemon serves already.
  std::unique_ptr<ListeningDaemon> first =
      ListeningDaemon::Start("first", prefix_, endpoints());
  ASSERT_NE(first, nullptr);
  absl::StatusOr<test::CommandResult> busy = test::RunCommand(
      {kConchdBinary, "--id", "second", "--endpoints", endpoints(), "--prefix",
       prefix_, "--listen", absl::StrCat("127.0.0.1:", first->port())},
      absl::Seconds(20));
  ASSERT_TRUE(busy.ok()) << busy.status();
  EXPECT_EQ(busy->exit_code, 69) << busy->DebugString();
  EXPECT_THAT(busy->err, HasSubstr("cannot listen on 127.0.0.1:"));
  // It registered nothing.
  absl::StatusOr<std::map<std::string, std::string>> live =
      store_->LiveDaemons(etcd::Soon());
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->count("second"), 0u);
}

}  // namespace
}  // namespace conch
