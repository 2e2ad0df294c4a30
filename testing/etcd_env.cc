#include "testing/etcd_env.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace conch::test {
namespace {

// The server of the environment that is set up, if any. Written only by
// SetUp and TearDown, which GoogleTest runs on the main thread outside of
// any test.
std::atomic<EtcdServer*> shared_server{nullptr};

}  // namespace

EtcdEnvironment::EtcdEnvironment(EtcdServerOptions options)
    : options_(std::move(options)) {}

EtcdEnvironment::~EtcdEnvironment() = default;

void EtcdEnvironment::SetUp() {
  absl::StatusOr<std::unique_ptr<EtcdServer>> server =
      EtcdServer::Start(options_);
  ASSERT_TRUE(server.ok()) << "cannot start the shared etcd: "
                           << server.status();
  server_ = *std::move(server);
  shared_server.store(server_.get());
}

void EtcdEnvironment::TearDown() {
  shared_server.store(nullptr);
  if (server_ == nullptr) return;
  absl::Status s = server_->Stop();
  EXPECT_TRUE(s.ok()) << "stopping the shared etcd: " << s;
  server_.reset();
}

EtcdServer& SharedEtcd() {
  EtcdServer* server = shared_server.load();
  if (server == nullptr) {
    std::fprintf(stderr,
                 "SharedEtcd() called without a running EtcdEnvironment; "
                 "link the test with //testing:etcd_test_main\n");
    std::abort();
  }
  return *server;
}

std::string UniquePrefix() {
  static std::atomic<int64_t> counter{0};
  std::string test = "no-test";
  const ::testing::TestInfo* info =
      ::testing::UnitTest::GetInstance()->current_test_info();
  if (info != nullptr) {
    test = absl::StrReplaceAll(
        absl::StrCat(info->test_suite_name(), ".", info->name()), {{"/", "_"}});
  }
  return absl::StrCat("/t/", test, "/", getpid(), "-", counter++, "/");
}

}  // namespace conch::test
