// Generated bad input (issue 15): hundreds of bad values for every flag and
// argument of every subcommand of conch, and of conchd, against a real
// etcd. Each must end in exit 64 with exactly one line on stderr
// ("conch: ... (see conch SUBCOMMAND --help)", or conchd's), nothing on
// stdout, and nothing written to etcd;
// a bad value taken from an environment variable must be reported naming
// the variable. conchd must refuse before it connects (a conchd that
// starts its loop runs until the case's timeout and fails it).
//
// The values come from families (empty, bad durations, numbers out of
// range, non-numbers, control characters, long strings, bad names,
// schedules, zones, URLs, unsuitable files, incompatible flags, missing
// arguments, unknown flags and subcommands), fixed ones and ones drawn
// from a seeded generator, which also picks the valid command line each
// bad value is put into and where it goes. The seed is printed; set
// CONCH_FUZZ_SEED to another to explore, or to a failing run's seed to
// reproduce it. Only values that the docs (README, docs/*.md) call
// invalid are used: a name may hold '/', a prefix any byte, and cron rm,
// ls and run take names with control characters (stored before they were
// refused).
//
// Also checks that every help page lists the common flags, two or three
// examples and the types of the values.
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "conch/bad_input_cases.h"
#include "conch/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/etcd_env.h"
#include "testing/files.h"
#include "testing/subprocess.h"

namespace conch {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kDefaultSeed = 15;
// Processes run at once: one per core of CI's two. With four, the
// sanitizer builds' conch processes starved the tests Bazel runs beside
// this one (a cron test's etcd calls timed out for seconds).
constexpr int kThreads = 2;
// A case that is wrongly accepted may run (a conchd forever): cut it off.
constexpr absl::Duration kCaseTimeout = absl::Seconds(20);

uint64_t Seed() {
  const char* text = std::getenv("CONCH_FUZZ_SEED");
  uint64_t seed = kDefaultSeed;
  if (text != nullptr && !absl::SimpleAtoi(text, &seed)) {
    ADD_FAILURE() << "CONCH_FUZZ_SEED=\"" << text << "\" is not a number";
  }
  return seed;
}

using Case = BadInputCase;

// What is wrong with the result of `c`, or "".
std::string Check(const Case& c, const test::CommandResult& r) {
  std::vector<std::string> wrong;
  if (r.exit_code != 64) {
    wrong.push_back(absl::StrCat("exit code ", r.exit_code, ", want 64"));
  }
  const std::string program = c.conchd ? "conchd: " : "conch: ";
  if (r.err.empty() || r.err.back() != '\n' ||
      std::count(r.err.begin(), r.err.end(), '\n') != 1) {
    wrong.push_back("stderr is not exactly one line");
  } else if (!absl::StartsWith(r.err, program)) {
    wrong.push_back(
        absl::StrCat("stderr does not start with \"", program, "\""));
  } else if (!absl::EndsWith(r.err, " --help)\n") ||
             !absl::StrContains(
                 r.err, c.conchd ? " (see conchd --help)" : " (see conch ")) {
    wrong.push_back("stderr does not point at a help page");
  }
  if (!r.out.empty()) wrong.push_back("stdout is not empty");
  if (!c.names.empty() && !absl::StrContains(r.err, c.names)) {
    wrong.push_back(absl::StrCat("stderr does not name ", c.names));
  }
  return absl::StrJoin(wrong, "; ");
}

std::string Describe(const Case& c) {
  std::vector<std::string> words;
  for (const auto& [k, v] : c.env) {
    words.push_back(absl::StrCat(k, "='", absl::CHexEscape(v), "'"));
  }
  for (const std::string& a : c.argv) {
    words.push_back(absl::StrCat("'", absl::CHexEscape(a), "'"));
  }
  return absl::StrJoin(words, " ");
}

// etcd's revision: it moves with every write, even one undone since.
int64_t Revision(const test::EtcdServer& etcd) {
  absl::StatusOr<test::CommandResult> r =
      etcd.Etcdctl({"endpoint", "status", "-w", "json"});
  EXPECT_TRUE(r.ok() && r->Succeeded()) << (r.ok() ? r->DebugString() : "");
  if (!r.ok()) return -1;
  const size_t at = r->out.find("\"revision\":");
  int64_t rev = -1;
  if (at != std::string::npos) {
    const std::string rest = r->out.substr(at + 11);
    (void)absl::SimpleAtoi(rest.substr(0, rest.find_first_of(",}")), &rev);
  }
  EXPECT_GE(rev, 0) << r->out;
  return rev;
}

class BadInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The children must see only what a case sets.
    for (const char* var :
         {"CONCH_ENDPOINTS", "CONCH_PREFIX", "CONCH_TTL", "CONCH_KILL_AFTER",
          "CONCH_DIAL_TIMEOUT", "CONCH_CACERT", "CONCH_CERT", "CONCH_KEY",
          "CONCH_USER", "CONCH_PASSWORD", "CONCH_LOG", "CONCHD_ID"}) {
      unsetenv(var);
    }
  }

  void WriteFiles() {
    ASSERT_TRUE(test::WriteFile(dir_.Path("notpem.txt"), "hello\n").ok());
    ASSERT_TRUE(test::WriteFile(dir_.Path("empty.pem"), "").ok());
    ASSERT_TRUE(test::WriteFile(dir_.Path("broken.pem"),
                                "-----BEGIN CERTIFICATE-----\n!!!\n")
                    .ok());
    // Well-formed blocks, but of the other kind than a flag wants.
    ASSERT_TRUE(test::WriteFile(dir_.Path("key.pem"),
                                "-----BEGIN PRIVATE KEY-----\nAAAA\n"
                                "-----END PRIVATE KEY-----\n")
                    .ok());
    ASSERT_TRUE(test::WriteFile(dir_.Path("cert.pem"),
                                "-----BEGIN CERTIFICATE-----\nAAAA\n"
                                "-----END CERTIFICATE-----\n")
                    .ok());
    ASSERT_EQ(mkfifo(dir_.Path("fifo").c_str(), 0600), 0);
  }

  Scratch dir_;
};

TEST_F(BadInputTest, EveryBadValueExits64WithOneLineAndWritesNothing) {
  const uint64_t seed = Seed();
  std::cout << "bad_input_test: seed " << seed << " (CONCH_FUZZ_SEED=" << seed
            << " reproduces this run)" << std::endl;
  WriteFiles();
  test::EtcdServer& etcd = test::SharedEtcd();
  const std::string prefix = test::UniquePrefix();
  // The directory of the files: a path that is no file.
  const std::string files = dir_.Path("");
  std::vector<Case> cases = MakeBadInputCases(
      seed, etcd.endpoint(), prefix, files.substr(0, files.size() - 1));
  ASSERT_GE(cases.size(), 500u);
  const int64_t revision = Revision(etcd);

  const absl::Time start = absl::Now();
  std::vector<std::string> failures(cases.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < cases.size(); i = next++) {
        const Case& c = cases[i];
        absl::StatusOr<test::CommandResult> r =
            test::RunCommand(c.argv, kCaseTimeout, c.env);
        if (!r.ok()) {
          failures[i] = absl::StrCat("did not end: ", r.status().message());
          continue;
        }
        failures[i] = Check(c, *r);
        if (!failures[i].empty()) {
          absl::StrAppend(&failures[i], "; it said: exit ", r->exit_code,
                          ", stderr \"", absl::CHexEscape(r->err),
                          "\", stdout \"",
                          absl::CHexEscape(r->out.substr(0, 200)), "\"");
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const absl::Duration took = absl::Now() - start;

  size_t failed = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    if (failures[i].empty()) continue;
    if (++failed <= 40) {
      ADD_FAILURE() << "seed " << seed << ", case " << i << " ("
                    << absl::CHexEscape(cases[i].what) << "): " << failures[i]
                    << "\n  command: " << Describe(cases[i]);
    }
  }
  EXPECT_EQ(failed, 0u) << "of " << cases.size() << " cases (seed " << seed
                        << "; CONCH_FUZZ_SEED=" << seed << " reproduces)";
  std::cout << "bad_input_test: " << cases.size() << " cases in "
            << absl::FormatDuration(took) << ", " << failed << " failed"
            << std::endl;

  // Nothing written: no key under any case's prefix, and etcd's revision
  // (which every put, delete and txn moves) where it was.
  EXPECT_THAT(KeysUnder(etcd, prefix), ::testing::IsEmpty()) << "seed " << seed;
  EXPECT_EQ(Revision(etcd), revision) << "a case wrote to etcd; seed " << seed;
}

}  // namespace
}  // namespace conch
