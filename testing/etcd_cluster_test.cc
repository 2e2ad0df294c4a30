#include "testing/etcd_cluster.h"

#include <signal.h>
#include <unistd.h>

#include <functional>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/poll.h"
#include "testing/subprocess.h"

namespace conch::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Generous bounds for what normally takes well under a second: the machine
// may be busy with other tests.
constexpr absl::Duration kWait = absl::Seconds(10);
constexpr absl::Duration kEtcdctlPollInterval = absl::Milliseconds(100);

std::unique_ptr<EtcdCluster> StartCluster(EtcdClusterOptions options = {}) {
  absl::StatusOr<std::unique_ptr<EtcdCluster>> cluster =
      EtcdCluster::Start(std::move(options));
  EXPECT_TRUE(cluster.ok()) << cluster.status();
  return cluster.ok() ? *std::move(cluster) : nullptr;
}

// Runs etcdctl against all members and expects it to succeed; returns its
// stdout.
std::string MustEtcdctl(const EtcdCluster& cluster,
                        const std::vector<std::string>& args) {
  absl::StatusOr<CommandResult> r = cluster.Etcdctl(args);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return "";
  EXPECT_TRUE(r->Succeeded())
      << absl::StrJoin(args, " ") << ": " << r->DebugString();
  return r->out;
}

// Member i's own copy of `key` (a serializable read, answered from its
// local store without asking the leader), or an error.
absl::StatusOr<std::string> LocalValueAt(const EtcdCluster& cluster, int i,
                                         const std::string& key) {
  absl::StatusOr<CommandResult> r =
      cluster.EtcdctlAt(i, {"get", key, "--print-value-only", "--consistency=s",
                            "--command-timeout=1s"});
  if (!r.ok()) return r.status();
  if (!r->Succeeded()) return absl::UnavailableError(r->DebugString());
  return r->out;
}

// Polls until member i's own copy of `key` is `want` (plus etcdctl's
// newline).
absl::Status WaitForLocalValue(const EtcdCluster& cluster, int i,
                               const std::string& key,
                               const std::string& want) {
  return PollUntilOk(
      [&]() -> absl::Status {
        absl::StatusOr<std::string> got = LocalValueAt(cluster, i, key);
        if (!got.ok()) return got.status();
        if (*got != want + "\n") {
          return absl::NotFoundError(
              absl::StrCat(cluster.name(i), " has \"", *got, "\" for ", key));
        }
        return absl::OkStatus();
      },
      absl::Now() + kWait, kEtcdctlPollInterval);
}

// Retries a put until it succeeds: writes sent while a leader is being
// elected fail with "leader changed" or "no leader".
absl::Status PutEventually(const EtcdCluster& cluster, const std::string& key,
                           const std::string& value) {
  return PollUntilOk(
      [&]() -> absl::Status {
        absl::StatusOr<CommandResult> r =
            cluster.Etcdctl({"put", key, value, "--command-timeout=2s"});
        if (!r.ok()) return r.status();
        if (!r->Succeeded()) return absl::UnavailableError(r->DebugString());
        return absl::OkStatus();
      },
      absl::Now() + kWait, kEtcdctlPollInterval);
}

// Polls Leader() until it names a member for which `accept` holds.
absl::StatusOr<int> WaitForLeader(
    const EtcdCluster& cluster,
    const std::function<bool(int)>& accept = [](int) { return true; }) {
  int leader = -1;
  absl::Status s = PollUntilOk(
      [&]() -> absl::Status {
        absl::StatusOr<int> l = cluster.Leader();
        if (!l.ok()) return l.status();
        if (!accept(*l)) {
          return absl::FailedPreconditionError(
              absl::StrCat("the leader is still ", cluster.name(*l)));
        }
        leader = *l;
        return absl::OkStatus();
      },
      absl::Now() + kWait, absl::Milliseconds(20));
  if (!s.ok()) return s;
  return leader;
}

TEST(EtcdClusterTest, StartsThreeMembersThatAllServeReplicatedWrites) {
  std::unique_ptr<EtcdCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  ASSERT_EQ(cluster->size(), 3);

  std::set<std::string> endpoints;
  std::set<pid_t> pids;
  std::vector<std::string> expected_endpoints;
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(cluster->endpoint(i), StartsWith("127.0.0.1:"));
    EXPECT_EQ(cluster->name(i), absl::StrCat("m", i));
    EXPECT_TRUE(cluster->Running(i));
    EXPECT_GT(cluster->pid(i), 0);
    endpoints.insert(cluster->endpoint(i));
    pids.insert(cluster->pid(i));
    expected_endpoints.push_back(cluster->endpoint(i));
  }
  EXPECT_EQ(endpoints.size(), 3u);
  EXPECT_EQ(pids.size(), 3u);
  EXPECT_EQ(cluster->endpoints(), absl::StrJoin(expected_endpoints, ","));
  EXPECT_EQ(cluster->Freeze(3).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cluster->Restart(-1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cluster->EtcdctlAt(3, {"get", "/x"}).status().code(),
            absl::StatusCode::kInvalidArgument);

  // One cluster of three named, started members.
  const std::string members = MustEtcdctl(*cluster, {"member", "list"});
  std::vector<std::string> lines =
      absl::StrSplit(members, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 3u) << members;
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(members, HasSubstr(absl::StrCat(", started, m", i, ", ")))
        << members;
  }
  absl::StatusOr<int> leader = cluster->Leader();
  ASSERT_TRUE(leader.ok()) << leader.status();
  EXPECT_GE(*leader, 0);
  EXPECT_LT(*leader, 3);

  MustEtcdctl(*cluster, {"put", "/greeting", "hello cluster"});
  for (int i = 0; i < 3; ++i) {
    // Each member's own store gets the write...
    absl::Status s =
        WaitForLocalValue(*cluster, i, "/greeting", "hello cluster");
    EXPECT_TRUE(s.ok()) << s;
    // ...and each answers linearizable reads through the leader.
    absl::StatusOr<CommandResult> r = cluster->EtcdctlAt(
        i, {"get", "/greeting", "--print-value-only", "--consistency=l"});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->Succeeded()) << r->DebugString();
    EXPECT_EQ(r->out, "hello cluster\n");
  }

  // The destructor kills every member and removes the data directories.
  std::vector<std::string> data_dirs;
  for (int i = 0; i < 3; ++i) data_dirs.push_back(cluster->data_dir(i));
  EXPECT_EQ(access(data_dirs[0].c_str(), F_OK), 0);
  cluster.reset();
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(access(data_dirs[i].c_str(), F_OK), 0) << data_dirs[i];
  }
  for (pid_t pid : pids) {
    EXPECT_NE(kill(pid, 0), 0) << "etcd " << pid << " outlived its fixture";
  }
}

TEST(EtcdClusterTest, KillingTheLeaderElectsAnotherAndTheMemberRejoins) {
  std::unique_ptr<EtcdCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  absl::StatusOr<int> old_leader = WaitForLeader(*cluster);
  ASSERT_TRUE(old_leader.ok()) << old_leader.status();
  const int killed = *old_leader;
  const pid_t old_pid = cluster->pid(killed);

  const absl::Time killed_at = absl::Now();
  ASSERT_TRUE(cluster->Kill(killed).ok());
  EXPECT_FALSE(cluster->Running(killed));
  EXPECT_EQ(cluster->pid(killed), 0);
  absl::StatusOr<int> new_leader =
      WaitForLeader(*cluster, [&](int i) { return i != killed; });
  ASSERT_TRUE(new_leader.ok()) << new_leader.status();
  const absl::Duration election = absl::Now() - killed_at;
  EXPECT_NE(*new_leader, killed);
  EXPECT_TRUE(cluster->Running(*new_leader));
  EXPECT_LT(election, absl::Seconds(5));
  RecordProperty("election_ms",
                 static_cast<int>(absl::ToInt64Milliseconds(election)));
  std::cerr << "new leader " << cluster->name(*new_leader) << " elected "
            << absl::FormatDuration(election) << " after killing "
            << cluster->name(killed) << std::endl;

  absl::Status s = PutEventually(*cluster, "/written", "while-down");
  ASSERT_TRUE(s.ok()) << s;

  s = cluster->Restart(killed);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(cluster->Running(killed));
  EXPECT_GT(cluster->pid(killed), 0);
  EXPECT_NE(cluster->pid(killed), old_pid);
  s = WaitForLocalValue(*cluster, killed, "/written", "while-down");
  EXPECT_TRUE(s.ok()) << s;
  s = cluster->WaitHealthy(kWait);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(cluster->Leader().ok());
}

TEST(EtcdClusterTest, LosingQuorumStopsWritesUntilMembersReturn) {
  std::unique_ptr<EtcdCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  MustEtcdctl(*cluster, {"put", "/before", "quorum"});
  absl::StatusOr<int> leader = WaitForLeader(*cluster);
  ASSERT_TRUE(leader.ok()) << leader.status();
  const int survivor = *leader;
  const int a = (survivor + 1) % 3;
  const int b = (survivor + 2) % 3;
  // The survivor must have the write before the others go away.
  absl::Status s = WaitForLocalValue(*cluster, survivor, "/before", "quorum");
  ASSERT_TRUE(s.ok()) << s;

  s = cluster->Stop(a);
  ASSERT_TRUE(s.ok()) << s;
  s = cluster->Stop(b);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_FALSE(cluster->Running(a));
  EXPECT_FALSE(cluster->Running(b));
  EXPECT_TRUE(cluster->Stop(a).ok()) << "stopping a stopped member is a no-op";

  // A lone member cannot lead (it steps down, or never wins an election).
  s = PollUntil([&] { return !cluster->Leader().ok(); }, absl::Now() + kWait);
  ASSERT_TRUE(s.ok()) << "still a leader: " << cluster->Leader().status();
  EXPECT_EQ(cluster->Leader().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(cluster->WaitHealthy(absl::Milliseconds(300)).ok());

  absl::StatusOr<CommandResult> put =
      cluster->Etcdctl({"put", "/during", "no-quorum", "--command-timeout=1s"});
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_FALSE(put->Succeeded()) << put->DebugString();
  // Serializable reads are still served from the survivor's own store.
  absl::StatusOr<std::string> local =
      LocalValueAt(*cluster, survivor, "/before");
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_EQ(*local, "quorum\n");

  s = cluster->Restart(a);
  ASSERT_TRUE(s.ok()) << s;
  s = cluster->Restart(b);
  ASSERT_TRUE(s.ok()) << s;
  s = cluster->WaitHealthy(kWait);
  ASSERT_TRUE(s.ok()) << s;
  s = PutEventually(*cluster, "/after", "restored");
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(MustEtcdctl(*cluster, {"get", "/after", "--print-value-only",
                                   "--consistency=l"}),
            "restored\n");
  EXPECT_EQ(MustEtcdctl(*cluster, {"get", "/during", "--print-value-only"}), "")
      << "with no leader anywhere the failed write was dropped, not queued";
  for (int i : {a, b}) {
    s = WaitForLocalValue(*cluster, i, "/after", "restored");
    EXPECT_TRUE(s.ok()) << s;
  }
}

TEST(EtcdClusterTest, FreezingAFollowerKeepsTheClusterWorking) {
  std::unique_ptr<EtcdCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  absl::StatusOr<int> leader = WaitForLeader(*cluster);
  ASSERT_TRUE(leader.ok()) << leader.status();
  const int frozen = (*leader + 1) % 3;

  absl::Status s = cluster->Freeze(frozen);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(cluster->Running(frozen));
  EXPECT_GT(cluster->pid(frozen), 0);

  s = PutEventually(*cluster, "/during-freeze", "still-works");
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(MustEtcdctl(*cluster, {"get", "/during-freeze",
                                   "--print-value-only", "--consistency=l"}),
            "still-works\n");
  absl::StatusOr<int> during = WaitForLeader(*cluster);
  ASSERT_TRUE(during.ok()) << during.status();
  EXPECT_NE(*during, frozen);
  s = cluster->WaitHealthy(kWait);
  EXPECT_TRUE(s.ok()) << s << " (frozen members are left out)";
  // The frozen member itself answers nothing.
  EXPECT_FALSE(LocalValueAt(*cluster, frozen, "/during-freeze").ok());

  s = cluster->Thaw(frozen);
  ASSERT_TRUE(s.ok()) << s;
  s = WaitForLocalValue(*cluster, frozen, "/during-freeze", "still-works");
  EXPECT_TRUE(s.ok()) << s;
  s = cluster->WaitHealthy(kWait);
  EXPECT_TRUE(s.ok()) << s;
}

TEST(EtcdClusterTest, ReportsAClusterThatCannotStart) {
  EtcdClusterOptions options;
  options.members = 0;
  EXPECT_EQ(EtcdCluster::Start(options).status().code(),
            absl::StatusCode::kInvalidArgument);

  options.members = 3;
  options.max_start_attempts = 2;
  options.extra_flags = {"--no-such-flag-for-etcd"};
  absl::StatusOr<std::unique_ptr<EtcdCluster>> cluster =
      EtcdCluster::Start(options);
  ASSERT_FALSE(cluster.ok());
  EXPECT_EQ(cluster.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(cluster.status().message(), HasSubstr("after 2 attempts"));
  EXPECT_THAT(cluster.status().message(), HasSubstr("no-such-flag-for-etcd"));
}

}  // namespace
}  // namespace conch::test
