// Test-only: the fixture of the end-to-end tests of `conch cron` and conchd
// (cron_test, conchd_lifecycle_test, cron_logs_test, cron_output_test,
// cron_run_as_test, conchd_http_test). It gives each test a fresh key
// prefix on a real etcd, a CronStore to read the jobs' history back, real
// conchd processes by id, and the `conch cron` commands run against that
// prefix.
//
// Contract:
//   * SetUp dials etcd() (the binary's shared etcd unless a subclass
//     overrides it, e.g. with a private server it starts first) and fails
//     fatally if it cannot. TearDown SIGKILLs every conchd still running.
//   * Daemon() starts `conchd --id ID` and waits (20 s) until the id is
//     registered; if it is not, the test fails fatally (the caller's next
//     statements still run; in SetUp, the test body is skipped).
//   * The readers (History, TickAt, Results, Live) fail the test
//     (non-fatally) on an etcd error and return what an empty store
//     would; the waiters (WaitForResultOf, WaitForResults) poll them with
//     a deadline.
//   * Jobs added with Add() fire `@every 1s`; AddJob() takes any schedule.
//     Their scripts run under `sh -c`, and may append to files in d_ (read
//     with Lines()).
//   * Needs //testing:etcd_test_main (the shared etcd) and the :conch and
//     :conchd binaries in the test's data.
//
// Thread-compatible: use a fixture from the test's thread only.
//
// Example:
//   class CronTest : public CronFixture {};
//
//   TEST_F(CronTest, EachTickRunsOnce) {
//     Daemon("d1");
//     Add("every", absl::StrCat("echo $CONCH_TICK >> ", d_.Path("runs")));
//     WaitForResults("every", 3, absl::Seconds(20));
//     ASSERT_EQ(Cron({"rm", "every"}).exit_code, 0);
//     EXPECT_EQ(StopDaemon("d1"), 0);
//   }
#ifndef CONCH_CONCH_CRON_TEST_UTIL_H_
#define CONCH_CONCH_CRON_TEST_UTIL_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "conch/test_util.h"
#include "core/cron/cron.h"
#include "core/etcd/connection.h"
#include "gtest/gtest.h"
#include "testing/etcd_server.h"
#include "testing/subprocess.h"

namespace conch {

class CronFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The etcd the test runs against.
  virtual test::EtcdServer& etcd();

  // Starts conchd --id ID (with --ttl 2s unless `flags` has a --ttl) and
  // waits until it is registered (on another lease than `replacing`, when
  // the id is registered already). A daemon started again under the same
  // id replaces the previous one.
  ConchProcess& Daemon(const std::string& id,
                       std::vector<std::string> flags = {},
                       const std::string& kill_after = "500ms",
                       const std::string& replacing = "");

  // SIGTERM, and the exit code.
  int StopDaemon(const std::string& id);

  // `conch ARGS` against the test's prefix, to completion.
  test::CommandResult Conch(std::vector<std::string> args);
  // `conch cron ARGS`.
  test::CommandResult Cron(std::vector<std::string> args);

  // `cron add NAME --schedule @every 1s FLAGS -- sh -c SCRIPT`, which must
  // succeed.
  void Add(const std::string& name, const std::string& script,
           std::vector<std::string> flags = {});
  // The same with any schedule.
  void AddJob(const std::string& name, const std::string& schedule,
              const std::string& script, std::vector<std::string> flags = {});

  // The job's history, newest first.
  std::vector<etcd::CronTick> History(const std::string& name);

  // The tick of `name` whose instant prints as `tick` (RFC 3339, as the
  // jobs see CONCH_TICK), if it is in the history.
  std::optional<etcd::CronTick> TickAt(const std::string& name,
                                       const std::string& tick);

  // Waits (20 s) until that tick has its result; returns it.
  std::optional<etcd::CronTick> WaitForResultOf(const std::string& name,
                                                const std::string& tick);

  // How many of the job's ticks have a result.
  int Results(const std::string& name);

  // Waits until the job has `n` results; a fatal failure otherwise.
  void WaitForResults(const std::string& name, int n, absl::Duration within);

  // The live daemons: id -> lease (hex).
  std::map<std::string, std::string> Live();

  // Lets `n` seconds of @every 1s ticks pass. For a scenario that needs
  // ticks to go by unclaimed; there is no event to wait for instead.
  static void LetTicksPass(int n);

  // The non-empty lines of a file in d_ the jobs append to.
  std::vector<std::string> Lines(const std::string& file);

  std::string prefix_;
  Scratch d_;
  std::unique_ptr<etcd::Connection> conn_;
  std::unique_ptr<etcd::CronStore> store_;
  // The daemons started by Daemon(), by id.
  std::map<std::string, std::unique_ptr<ConchProcess>> daemons_;

 private:
  void WaitUntilRegistered(const std::string& id, const std::string& replacing);
};

}  // namespace conch

#endif  // CONCH_CONCH_CRON_TEST_UTIL_H_
