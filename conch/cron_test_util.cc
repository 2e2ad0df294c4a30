#include "conch/cron_test_util.h"

#include <signal.h>

#include <algorithm>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "core/etcd/test_dial.h"
#include "core/records/names.h"
#include "core/records/records.h"
#include "testing/etcd_env.h"
#include "testing/poll.h"

namespace conch {
namespace {

absl::Time In(absl::Duration d) { return absl::Now() + d; }

}  // namespace

void CronFixture::SetUp() {
  prefix_ = test::UniquePrefix();
  absl::StatusOr<std::unique_ptr<etcd::Connection>> conn =
      etcd::DialTestServer(etcd());
  ASSERT_TRUE(conn.ok()) << conn.status();
  conn_ = *std::move(conn);
  store_ = std::make_unique<etcd::CronStore>(conn_.get(), prefix_);
}

void CronFixture::TearDown() {
  for (auto& [id, d] : daemons_) {
    if (d != nullptr && d->Running()) d->Signal(SIGKILL).IgnoreError();
  }
}

test::EtcdServer& CronFixture::etcd() { return test::SharedEtcd(); }

ConchProcess& CronFixture::Daemon(const std::string& id,
                                  std::vector<std::string> flags,
                                  const std::string& kill_after,
                                  const std::string& replacing) {
  std::vector<std::string> args = {"--id", id, "--kill-after", kill_after};
  if (std::find(flags.begin(), flags.end(), "--ttl") == flags.end()) {
    args.insert(args.end(), {"--ttl", "2s"});
  }
  args.insert(args.end(), flags.begin(), flags.end());
  daemons_[id] = ConchProcess::Start(args, prefix_, etcd(), {}, kConchdBinary);
  WaitUntilRegistered(id, replacing);
  return *daemons_[id];
}

void CronFixture::WaitUntilRegistered(const std::string& id,
                                      const std::string& replacing) {
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    absl::StatusOr<std::map<std::string, std::string>> live =
                        store_->LiveDaemons(etcd::Soon());
                    return live.ok() && live->count(id) == 1 &&
                           live->at(id) != replacing;
                  },
                  In(absl::Seconds(20)))
                  .ok())
      << "conchd " << id << " did not register: " << daemons_[id]->Stderr();
}

int CronFixture::StopDaemon(const std::string& id) {
  ConchProcess& d = *daemons_[id];
  EXPECT_TRUE(d.Signal(SIGTERM).ok());
  return d.ExitCode(In(absl::Seconds(20)));
}

test::CommandResult CronFixture::Conch(std::vector<std::string> args) {
  return RunConch(std::move(args), prefix_, etcd());
}

test::CommandResult CronFixture::Cron(std::vector<std::string> args) {
  args.insert(args.begin(), "cron");
  return Conch(std::move(args));
}

void CronFixture::Add(const std::string& name, const std::string& script,
                      std::vector<std::string> flags) {
  AddJob(name, "@every 1s", script, std::move(flags));
}

void CronFixture::AddJob(const std::string& name, const std::string& schedule,
                         const std::string& script,
                         std::vector<std::string> flags) {
  std::vector<std::string> args = {"add", name, "--schedule", schedule};
  args.insert(args.end(), flags.begin(), flags.end());
  args.insert(args.end(), {"--", "sh", "-c", script});
  test::CommandResult r = Cron(args);
  ASSERT_EQ(r.exit_code, 0) << r.DebugString();
}

std::vector<etcd::CronTick> CronFixture::History(const std::string& name) {
  absl::StatusOr<std::vector<etcd::CronTick>> h =
      store_->History(*EncodeName(name), etcd::kCronHistory, etcd::Soon());
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? *h : std::vector<etcd::CronTick>{};
}

std::optional<etcd::CronTick> CronFixture::TickAt(const std::string& name,
                                                  const std::string& tick) {
  for (etcd::CronTick& t : History(name)) {
    if (records::FormatRfc3339(t.instant) == tick) return std::move(t);
  }
  return std::nullopt;
}

std::optional<etcd::CronTick> CronFixture::WaitForResultOf(
    const std::string& name, const std::string& tick) {
  std::optional<etcd::CronTick> found;
  test::PollUntil(
      [&] {
        found = TickAt(name, tick);
        return found.has_value() && found->result.has_value();
      },
      In(absl::Seconds(20)))
      .IgnoreError();
  return found.has_value() && found->result.has_value() ? found : std::nullopt;
}

int CronFixture::Results(const std::string& name) {
  int n = 0;
  for (const etcd::CronTick& t : History(name)) n += t.result.has_value();
  return n;
}

void CronFixture::WaitForResults(const std::string& name, int n,
                                 absl::Duration within) {
  ASSERT_TRUE(
      test::PollUntil([&] { return Results(name) >= n; }, In(within)).ok())
      << name << " has " << Results(name) << " results, want " << n;
}

std::map<std::string, std::string> CronFixture::Live() {
  absl::StatusOr<std::map<std::string, std::string>> live =
      store_->LiveDaemons(etcd::Soon());
  EXPECT_TRUE(live.ok());
  return live.ok() ? *live : std::map<std::string, std::string>{};
}

void CronFixture::LetTicksPass(int n) {
  absl::SleepFor(absl::Seconds(n) + absl::Milliseconds(300));
}

std::vector<std::string> CronFixture::Lines(const std::string& file) {
  std::vector<std::string> out;
  for (absl::string_view l :
       absl::StrSplit(d_.Read(file).value_or(""), '\n', absl::SkipEmpty())) {
    out.emplace_back(l);
  }
  return out;
}

}  // namespace conch
