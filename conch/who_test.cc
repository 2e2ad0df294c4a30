// `--who` for elect and sema, one shape for both (conch/contenders.h), its
// --watch, and a waiter's place in line (conch/progress.h): in place on a
// real pseudo-terminal (an interactive bash, testing/pty_shell.h), plain
// lines with -v, JSON events with -o json, nothing when stderr is a pipe.
// Against a real etcd, with real conch processes holding and waiting.
#include <signal.h>
#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "conch/identity.h"
#include "conch/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/etcd_env.h"
#include "testing/files.h"
#include "testing/poll.h"
#include "testing/pty_shell.h"

namespace conch {
namespace {

using test::PtyShell;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

absl::Time In(absl::Duration d) { return absl::Now() + d; }

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

std::vector<std::string> Fields(const std::string& line) {
  return absl::StrSplit(line, '\t');
}

class WhoTest : public ::testing::Test {
 protected:
  void SetUp() override { prefix_ = test::UniquePrefix(); }

  test::EtcdServer& etcd() { return test::SharedEtcd(); }

  // `conch <kind> NAME [flags] -- sh -c 'echo up > <id>.start; wait for
  // <id>.release'`.
  std::unique_ptr<ConchProcess> Hold(const std::string& id,
                                     std::vector<std::string> words) {
    words.insert(
        words.end(),
        {"--", "sh", "-c",
         absl::StrCat("echo up > ", d_.Path(id + ".start"), "; while [ ! -e ",
                      d_.Path(id + ".release"), " ]; do sleep 0.02; done")});
    return ConchProcess::Start(words, prefix_, etcd());
  }

  void Release(const std::string& id) {
    ASSERT_TRUE(test::WriteFile(d_.Path(id + ".release"), "").ok());
  }

  void WaitForKeys(const std::string& under, size_t n) {
    const std::string from = absl::StrCat(prefix_, under);
    ASSERT_TRUE(
        test::PollUntil([&] { return KeysUnder(etcd(), from).size() == n; },
                        In(absl::Seconds(10)))
            .ok())
        << from << " has " << KeysUnder(etcd(), from).size() << " keys";
  }

  test::CommandResult Who(std::vector<std::string> words) {
    return RunConch(words, prefix_, etcd());
  }

  std::string prefix_;
  Scratch d_;
};

TEST_F(WhoTest, ElectListsTheLeaderAndEachStandbyWithItsPosition) {
  std::unique_ptr<ConchProcess> a = Hold("a", {"elect", "x"});
  ASSERT_TRUE(d_.WaitFor("a.start", In(absl::Seconds(10))));
  std::unique_ptr<ConchProcess> b = Hold("b", {"elect", "x"});
  WaitForKeys("elect/x/", 2);
  std::unique_ptr<ConchProcess> c = Hold("c", {"elect", "x"});
  WaitForKeys("elect/x/", 3);

  // Piped: tab-separated, one row per candidate, in line order.
  test::CommandResult text = Who({"elect", "x", "--who"});
  ASSERT_EQ(text.exit_code, 0) << text.DebugString();
  std::vector<std::string> rows = Lines(text.out);
  ASSERT_EQ(rows.size(), 4u) << text.out;
  EXPECT_EQ(rows[0], "ROLE\tPOSITION\tHOST\tPID\tSINCE\tREV");
  const std::vector<std::string> leader = Fields(rows[1]);
  const std::vector<std::string> first = Fields(rows[2]);
  const std::vector<std::string> second = Fields(rows[3]);
  ASSERT_EQ(leader.size(), 6u);
  ASSERT_EQ(first.size(), 6u);
  ASSERT_EQ(second.size(), 6u);
  EXPECT_EQ(leader[0], "leader");
  EXPECT_EQ(leader[1], "-");
  EXPECT_EQ(leader[3], absl::StrCat(a->pid()));
  EXPECT_EQ(first[0], "standby");
  EXPECT_EQ(first[1], "1");
  EXPECT_EQ(first[3], absl::StrCat(b->pid()));
  EXPECT_EQ(second[1], "2");
  EXPECT_EQ(second[3], absl::StrCat(c->pid()));
  EXPECT_LT(std::stoll(leader[5]), std::stoll(first[5]));

  // JSON: the same, with no empty fields.
  test::CommandResult json = Who({"elect", "x", "--who", "-o", "json"});
  ASSERT_EQ(json.exit_code, 0);
  EXPECT_THAT(
      json.out,
      AllOf(HasSubstr("{\"kind\":\"office\",\"name\":\"x\",\"revision\":"),
            HasSubstr(absl::StrCat("\"holders\":[{\"host\":")),
            HasSubstr(absl::StrCat("\"waiters\":[{\"position\":1,")),
            HasSubstr("{\"position\":2,"),
            HasSubstr(absl::StrCat("\"pid\":", c->pid())),
            Not(HasSubstr(":\"\"")), Not(HasSubstr("\"state\""))));
  // -w json (etcdctl's spelling) and --json say the same, up to the
  // revision.
  test::CommandResult w = Who({"elect", "x", "--who", "-w", "json"});
  test::CommandResult j = Who({"elect", "x", "--who", "--json"});
  EXPECT_EQ(w.out, json.out);
  EXPECT_EQ(j.out, json.out);
  // wide adds the user, the lease and the command.
  test::CommandResult wide = Who({"elect", "x", "--who", "-o", "wide"});
  EXPECT_THAT(Lines(wide.out)[0], HasSubstr("\tREV\tUSER\tLEASE\tCOMMAND"));
  EXPECT_THAT(Lines(wide.out)[1], HasSubstr("\tsh -c echo up > "));

  for (const char* id : {"a", "b", "c"}) Release(id);
  EXPECT_EQ(a->ExitCode(In(absl::Seconds(10))), 0);
  EXPECT_EQ(b->ExitCode(In(absl::Seconds(10))), 0);
  EXPECT_EQ(c->ExitCode(In(absl::Seconds(10))), 0);
}

TEST_F(WhoTest, SemaUsesTheSameShapeWithSlotsAndMax) {
  std::unique_ptr<ConchProcess> a = Hold("a", {"sema", "s", "--max", "1"});
  ASSERT_TRUE(d_.WaitFor("a.start", In(absl::Seconds(10))));
  std::unique_ptr<ConchProcess> b = Hold("b", {"sema", "s", "--max", "1"});
  WaitForKeys("sema/s/1/q/", 2);
  test::CommandResult text = Who({"sema", "s", "--who", "-o", "table"});
  ASSERT_EQ(text.exit_code, 0) << text.DebugString();
  std::vector<std::string> rows = Lines(text.out);
  ASSERT_EQ(rows.size(), 3u) << text.out;
  // Aligned: every column starts where its header does.
  const size_t host = rows[0].find("HOST");
  ASSERT_NE(host, std::string::npos);
  EXPECT_THAT(rows[0], HasSubstr("ROLE     POSITION   MAX   SLOT   HOST"));
  EXPECT_EQ(rows[1].substr(0, 9), "holder   ");
  EXPECT_EQ(rows[2].substr(0, 9), "waiter   ");
  for (const std::string& row : rows) {
    EXPECT_NE(row[host], ' ') << row;
    EXPECT_EQ(row[host - 1], ' ') << row;
  }
  test::CommandResult json = Who({"sema", "s", "--who", "--json"});
  EXPECT_THAT(json.out,
              AllOf(HasSubstr("{\"kind\":\"semaphore\",\"name\":\"s\","),
                    HasSubstr("\"holders\":[{\"slot\":0,\"max\":1,\"host\":"),
                    HasSubstr("\"waiters\":[{\"position\":1,\"max\":1,"),
                    Not(HasSubstr(":\"\"")), Not(HasSubstr("\"state\""))));
  Release("a");
  Release("b");
  EXPECT_EQ(a->ExitCode(In(absl::Seconds(10))), 0);
  EXPECT_EQ(b->ExitCode(In(absl::Seconds(10))), 0);
}

TEST_F(WhoTest, AVacantNameHasOneShapeForBothKinds) {
  for (const char* kind : {"elect", "sema"}) {
    test::CommandResult text = Who({kind, "v", "--who"});
    EXPECT_EQ(text.exit_code, 1) << text.DebugString();
    EXPECT_EQ(text.out, "");
    EXPECT_THAT(text.err, HasSubstr("\"v\" is vacant"));
    test::CommandResult json = Who({kind, "v", "--who", "--json"});
    EXPECT_EQ(json.exit_code, 1);
    const std::string what =
        std::string(kind) == "elect" ? "office" : "semaphore";
    EXPECT_THAT(
        json.out,
        AllOf(HasSubstr(absl::StrCat("{\"kind\":\"", what,
                                     "\",\"name\":\"v\",\"revision\":")),
              HasSubstr(",\"holders\":[],\"waiters\":[]}\n")));
  }
}

TEST_F(WhoTest, WatchWorksForBothAndPrintsEveryChange) {
  for (const char* kind : {"elect", "sema"}) {
    SCOPED_TRACE(kind);
    const bool sema = std::string(kind) == "sema";
    std::unique_ptr<ConchProcess> watch = ConchProcess::Start(
        {kind, "w", "--who", "--watch", "--json"}, prefix_, etcd());
    auto seen = [&] { return Lines(watch->Stdout()); };
    ASSERT_TRUE(test::PollUntil([&] { return seen().size() == 1; },
                                In(absl::Seconds(10)))
                    .ok());
    EXPECT_THAT(seen()[0], HasSubstr("\"holders\":[],\"waiters\":[]"));
    std::vector<std::string> words = {kind, "w"};
    if (sema) words.insert(words.end(), {"--max", "1"});
    std::unique_ptr<ConchProcess> a = Hold(std::string(kind) + "a", words);
    ASSERT_TRUE(
        d_.WaitFor(std::string(kind) + "a.start", In(absl::Seconds(10))));
    std::unique_ptr<ConchProcess> b = Hold(std::string(kind) + "b", words);
    ASSERT_TRUE(test::PollUntil(
                    [&] {
                      return absl::StrContains(
                          watch->Stdout(),
                          absl::StrCat("\"waiters\":[{\"position\":1,",
                                       sema ? "\"max\":1," : "", "\"host\":"));
                    },
                    In(absl::Seconds(10)))
                    .ok())
        << watch->Stdout();
    Release(std::string(kind) + "a");
    Release(std::string(kind) + "b");
    EXPECT_EQ(a->ExitCode(In(absl::Seconds(10))), 0);
    EXPECT_EQ(b->ExitCode(In(absl::Seconds(10))), 0);
    // The last picture is vacant again; b held in between.
    ASSERT_TRUE(test::PollUntil(
                    [&] {
                      return absl::StrContains(seen().back(),
                                               "\"holders\":[],\"waiters\":[]");
                    },
                    In(absl::Seconds(10)))
                    .ok())
        << watch->Stdout();
    EXPECT_THAT(watch->Stdout(),
                HasSubstr(absl::StrCat("\"pid\":", b->pid(), ",")));
    for (const std::string& line : seen()) {
      EXPECT_EQ(line.front(), '{') << line;
      EXPECT_EQ(line.back(), '}') << line;
    }
    ASSERT_TRUE(watch->Signal(SIGTERM).ok());
    EXPECT_EQ(watch->ExitCode(In(absl::Seconds(10))), 0);
  }
}

// The waiting line, as a person at a terminal sees it: written in place,
// rewritten when the place changes, erased before the child's output.
TEST_F(WhoTest, OnATerminalTheWaitingLineIsUpdatedInPlace) {
  std::unique_ptr<ConchProcess> a = Hold("a", {"elect", "x"});
  ASSERT_TRUE(d_.WaitFor("a.start", In(absl::Seconds(10))));
  std::unique_ptr<ConchProcess> b = Hold("b", {"elect", "x"});
  WaitForKeys("elect/x/", 2);

  absl::StatusOr<std::unique_ptr<PtyShell>> sh = PtyShell::Start({});
  ASSERT_TRUE(sh.ok()) << sh.status();
  PtyShell& shell = **sh;
  shell.Mark();
  ASSERT_TRUE(shell
                  .Type(absl::StrCat(ConchPath(), " elect x --endpoints ",
                                     etcd().endpoint(), " --prefix ", prefix_,
                                     " -- echo the child ran\n"))
                  .ok());
  const std::string held =
      absl::StrCat("(held by ", HostName(), " pid ", a->pid(), " since ");
  const std::string second = "waiting for x: position 2 of 2 " + held;
  ASSERT_TRUE(shell.WaitFor(second, In(absl::Seconds(10))).ok())
      << "want: " << second << "\nsaw: " << shell.SinceMark();
  // Drawn from the start of the line, erasing what was there after it.
  EXPECT_THAT(shell.raw(), HasSubstr("\r" + second));
  // b gives up: the line is drawn again over itself.
  ASSERT_TRUE(b->Signal(SIGTERM).ok());
  EXPECT_EQ(b->ExitCode(In(absl::Seconds(10))), 128 + SIGTERM);
  const std::string first = "waiting for x: position 1 of 1 " + held;
  ASSERT_TRUE(shell.WaitFor(first, In(absl::Seconds(10))).ok())
      << shell.SinceMark();
  EXPECT_THAT(shell.raw(), HasSubstr("\x1b[K\r" + first));
  // a leaves: the line is erased, then the child prints at column 0.
  Release("a");
  ASSERT_TRUE(shell.WaitFor("the child ran\n", In(absl::Seconds(10))).ok())
      << shell.SinceMark();
  ASSERT_TRUE(shell.WaitForPrompt(In(absl::Seconds(10))).ok());
  EXPECT_EQ(a->ExitCode(In(absl::Seconds(10))), 0);
  const std::string raw = shell.raw();
  EXPECT_THAT(raw, HasSubstr("\x1b[K\r\x1b[Kthe child ran\r\n"));
  // Not a single line break while waiting: one line, drawn in place.
  const size_t from = raw.find("\rwaiting for x");
  ASSERT_NE(from, std::string::npos);
  const size_t to = raw.find("the child ran", from);
  ASSERT_NE(to, std::string::npos);
  EXPECT_EQ(raw.substr(from, to - from).find('\n'), std::string::npos)
      << raw.substr(from, to - from);
}

TEST_F(WhoTest, VerboseGivesPlainLinesJsonGivesEventsAPipeGivesNothing) {
  std::unique_ptr<ConchProcess> a = Hold("a", {"elect", "x"});
  ASSERT_TRUE(d_.WaitFor("a.start", In(absl::Seconds(10))));
  std::unique_ptr<ConchProcess> quiet =
      ConchProcess::Start({"elect", "x", "--", "true"}, prefix_, etcd());
  std::unique_ptr<ConchProcess> verbose =
      ConchProcess::Start({"elect", "x", "-v", "--", "true"}, prefix_, etcd());
  std::unique_ptr<ConchProcess> json = ConchProcess::Start(
      {"elect", "x", "-o", "json", "--", "true"}, prefix_, etcd());
  WaitForKeys("elect/x/", 4);
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    return absl::StrContains(verbose->Stderr(),
                                             "waiting for x: position ") &&
                           absl::StrContains(json->Stderr(),
                                             "{\"event\":\"waiting\"");
                  },
                  In(absl::Seconds(10)))
                  .ok())
      << verbose->Stderr() << json->Stderr();
  Release("a");
  EXPECT_EQ(a->ExitCode(In(absl::Seconds(10))), 0);
  EXPECT_EQ(quiet->ExitCode(In(absl::Seconds(10))), 0);
  EXPECT_EQ(verbose->ExitCode(In(absl::Seconds(10))), 0);
  EXPECT_EQ(json->ExitCode(In(absl::Seconds(10))), 0);
  // A pipe: no waiting line at all.
  EXPECT_THAT(quiet->Stderr(), Not(HasSubstr("waiting")));
  // -v: whole lines, never redrawn.
  EXPECT_THAT(verbose->Stderr(),
              AllOf(HasSubstr("info: waiting for x: position "),
                    Not(HasSubstr("\r")), Not(HasSubstr("\x1b["))));
  // -o json: the events, one object per line, in order.
  std::vector<std::string> events;
  for (const std::string& line : Lines(json->Stderr())) {
    if (line.front() == '{') events.push_back(line);
  }
  ASSERT_GE(events.size(), 3u) << json->Stderr();
  EXPECT_THAT(events.front(), HasSubstr("{\"event\":\"waiting\",\"name\":\"x\","
                                        "\"position\":"));
  EXPECT_THAT(events[events.size() - 2],
              HasSubstr("{\"event\":\"acquired\",\"name\":\"x\",\"env\":{"
                        "\"CONCH_REV\":"));
  EXPECT_EQ(events.back(), "{\"event\":\"exited\",\"exit_code\":0}");
}

}  // namespace
}  // namespace conch
