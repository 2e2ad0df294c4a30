// main() for integration tests: registers EtcdEnvironment (one shared etcd
// per test binary, see etcd_env.h) and runs every test. Depend on
// //testing:etcd_test_main instead of @system//:gtest_main.

#include <memory>

#include "gtest/gtest.h"
#include "testing/etcd_env.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // GoogleTest takes ownership of registered environments.
  ::testing::AddGlobalTestEnvironment(
      std::make_unique<conch::test::EtcdEnvironment>().release());
  return RUN_ALL_TESTS();
}
