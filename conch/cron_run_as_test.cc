// End-to-end tests of where and how a job runs (issue 17): `cron add
// --dir`, `--env`, `--user` (conchd as root drops to the user; the suite
// runs as root in CI, and the user test is skipped otherwise), and the
// commands `cron add` refuses (empty, relative without --dir) or only
// warns about (missing on this host). Real etcd, real conchd.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "conch/cron_test_util.h"
#include "conch/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/etcd_env.h"
#include "testing/files.h"

namespace conch {
namespace {

using ::testing::HasSubstr;

// Each test has a conchd d1 (see Daemon()).
class CronRunAsTest : public CronFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(CronFixture::SetUp());
    Daemon("d1");
  }
};

TEST_F(CronRunAsTest, ARelativeCommandRunsInItsDirectoryWithItsEnvironment) {
  Scratch dir;
  ASSERT_TRUE(test::WriteFile(dir.Path("job.sh"),
                              "#!/bin/sh\necho \"in $(pwd) greeting=$GREETING "
                              "rev=$CONCH_REV\"\n")
                  .ok());
  ASSERT_EQ(chmod(dir.Path("job.sh").c_str(), 0755), 0);
  const std::string where = dir.Path("");
  test::CommandResult add =
      Conch({"cron", "add", "local", "--schedule", "@yearly", "--dir",
             where.substr(0, where.size() - 1), "--env", "GREETING=hello world",
             "--env", "EMPTY=", "--", "./job.sh"});
  ASSERT_EQ(add.exit_code, 0) << add.DebugString();
  EXPECT_EQ(add.err, "");  // the script exists here: no warning
  test::CommandResult run = Conch({"cron", "run", "local", "--wait"});
  EXPECT_EQ(run.exit_code, 0) << run.DebugString();
  EXPECT_THAT(run.out,
              HasSubstr(absl::StrCat("in ", where.substr(0, where.size() - 1),
                                     " greeting=hello world rev=")));
}

TEST_F(CronRunAsTest, CommandsThatCannotRunAreRefusedOrWarnedAbout) {
  // A relative command without --dir, and an empty one: 64, nothing stored.
  for (std::vector<std::string> command :
       std::vector<std::vector<std::string>>{{"./loop.sh"}, {""}}) {
    std::vector<std::string> args = {"cron",       "add",    "x",
                                     "--schedule", "@daily", "--"};
    args.insert(args.end(), command.begin(), command.end());
    test::CommandResult r = Conch(args);
    EXPECT_EQ(r.exit_code, 64) << r.DebugString();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_EQ(KeysUnder(test::SharedEtcd(), prefix_ + "cron/job/").size(), 0u);
  // Bad --dir, --env and --user values: 64.
  for (std::vector<std::string> flags :
       std::vector<std::vector<std::string>>{{"--dir", "relative/dir"},
                                             {"--env", "NOEQUALS"},
                                             {"--env", "=x"},
                                             {"--env", "1X=y"},
                                             {"--env", "CONCH_REV=7"},
                                             {"--user", "bad user"},
                                             {"--user", ""}}) {
    std::vector<std::string> args = {"cron", "add", "x", "--schedule",
                                     "@daily"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"--", "true"});
    test::CommandResult r = Conch(args);
    EXPECT_EQ(r.exit_code, 64) << r.DebugString();
  }
  // Missing on this host: stored, with a warning.
  for (const char* missing : {"/nonexistent/tool", "no-such-command-xyz"}) {
    test::CommandResult r =
        Conch({"cron", "add", absl::StrCat("m", missing[0] == '/'),
               "--schedule", "@daily", "--", missing});
    EXPECT_EQ(r.exit_code, 0) << r.DebugString();
    EXPECT_THAT(r.err, HasSubstr("conch: warning: "));
    EXPECT_THAT(r.err, HasSubstr("the daemons' hosts may differ"));
  }
}

TEST_F(CronRunAsTest, AJobRunsAsItsUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (CI runs as root)";
  test::CommandResult add =
      Conch({"cron", "add", "as-nobody", "--schedule", "@yearly", "--user",
             "nobody", "--", "sh", "-c", "echo \"$(id -u) $USER $HOME\""});
  ASSERT_EQ(add.exit_code, 0) << add.DebugString();
  test::CommandResult run = Conch({"cron", "run", "as-nobody", "--wait"});
  EXPECT_EQ(run.exit_code, 0) << run.DebugString();
  EXPECT_THAT(run.out, HasSubstr("65534 nobody /nonexistent"));
  // A user this host does not have: the run fails and says why.
  add = Conch({"cron", "add", "as-ghost", "--schedule", "@yearly", "--user",
               "ghost-user-xyz", "--", "true"});
  ASSERT_EQ(add.exit_code, 0) << add.DebugString();
  run = Conch({"cron", "run", "as-ghost", "--wait"});
  EXPECT_EQ(run.exit_code, 126) << run.DebugString();
  EXPECT_THAT(run.out, HasSubstr("no user ghost-user-xyz on this host"));
}

}  // namespace
}  // namespace conch
