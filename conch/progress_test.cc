#include "conch/progress.h"

#include <sstream>

#include "absl/strings/str_cat.h"
#include "conch/contenders.h"
#include "gtest/gtest.h"

namespace conch {
namespace {

Contender Make(const std::string& key, const std::string& host, int pid,
               int64_t rev) {
  Contender c;
  c.holder.key = key;
  c.holder.revision = rev;
  c.holder.record.set_host(host);
  c.holder.record.set_pid(pid);
  c.holder.record.set_since("2026-12-03T10:00:00.000Z");
  return c;
}

// An office held by node1, with `waiters` standbys w1, w2, ….
Contenders Office(int waiters) {
  Contenders c;
  c.kind = Contenders::Kind::kOffice;
  c.name = "backup";
  c.holders.push_back(Make("k/leader", "node1", 42, 7));
  for (int i = 1; i <= waiters; ++i) {
    Contender w = Make(absl::StrCat("k/w", i), "node2", 100 + i, 7 + i);
    w.position = i;
    c.waiters.push_back(w);
  }
  return c;
}

TEST(PlaceLineTest, NamesThePositionTheLineAndTheHolder) {
  EXPECT_EQ(PlaceLine(Office(3), "k/w2"),
            "waiting for backup: position 2 of 3 (held by node1 pid 42 since "
            "2026-12-03T10:00:00Z)");
  EXPECT_EQ(PlaceLine(Office(3), "k/leader"), "");  // holds: no line
  Contenders handover = Office(1);
  handover.holders.clear();
  EXPECT_EQ(PlaceLine(handover, "k/w1"),
            "waiting for backup: position 1 of 1 (nobody holds it yet)");
}

TEST(PlaceLineTest, CountsASemaphoresLineWithinItsN) {
  Contenders c;
  c.kind = Contenders::Kind::kSemaphore;
  c.name = "pool";
  for (int slot = 0; slot < 2; ++slot) {
    Contender h = Make(absl::StrCat("s", slot), "h", 1 + slot, 3 + slot);
    h.slot = slot;
    h.max = 2;
    c.holders.push_back(h);
  }
  Contender other = Make("q/other", "x", 9, 9);  // a contender of N=5
  other.position = 1;
  other.max = 5;
  c.waiters.push_back(other);
  Contender me = Make("q/me", "me", 10, 10);
  me.position = 1;
  me.max = 2;
  c.waiters.push_back(me);
  EXPECT_EQ(PlaceLine(c, "q/me"),
            "waiting for pool: position 1 of 1 (held by h pid 1 since "
            "2026-12-03T10:00:00Z and 1 more)");
}

TEST(ProgressTest, InPlaceRedrawsOnlyOnChangeAndErasesAtTheEnd) {
  std::ostringstream out;
  {
    Progress p(Progress::Mode::kInPlace, out, 200);
    p.Waiting(Office(2), "k/w2");
    p.Waiting(Office(2), "k/w2");  // the same place: nothing drawn
    p.Waiting(Office(1), "k/w1");
    p.Clear();
    p.Clear();  // nothing on the screen: nothing written
  }
  EXPECT_EQ(out.str(),
            "\rwaiting for backup: position 2 of 2 (held by node1 pid 42 "
            "since 2026-12-03T10:00:00Z)\x1b[K"
            "\rwaiting for backup: position 1 of 1 (held by node1 pid 42 "
            "since 2026-12-03T10:00:00Z)\x1b[K"
            "\r\x1b[K");
}

TEST(ProgressTest, InPlaceLineIsCutToTheTerminalWidth) {
  std::ostringstream out;
  {
    Progress p(Progress::Mode::kInPlace, out, 21);
    p.Waiting(Office(1), "k/w1");
  }  // the destructor erases it
  EXPECT_EQ(out.str(), "\rwaiting for backup: \x1b[K\r\x1b[K");
}

TEST(ProgressTest, JsonModeWritesOneEventPerLine) {
  std::ostringstream out;
  Progress p(Progress::Mode::kJson, out);
  p.Waiting(Office(1), "k/w1");
  p.Acquired("backup", {{"CONCH_REV", "12"}});
  p.Restarting(3, absl::Milliseconds(1500));
  p.Exited(0);
  p.Lost(absl::UnavailableError("keepalive\nfailed"));
  EXPECT_EQ(out.str(),
            "{\"event\":\"waiting\",\"name\":\"backup\",\"position\":1,"
            "\"of\":1,\"holders\":[{\"host\":\"node1\",\"pid\":42,\"since\":"
            "\"2026-12-03T10:00:00Z\",\"rev\":7}]}\n"
            "{\"event\":\"acquired\",\"name\":\"backup\",\"env\":{"
            "\"CONCH_REV\":\"12\"}}\n"
            "{\"event\":\"restarting\",\"exit_code\":3,\"delay_ms\":1500}\n"
            "{\"event\":\"exited\",\"exit_code\":0}\n"
            "{\"event\":\"lost\",\"reason\":\"keepalive\\\\nfailed\"}\n");
}

TEST(ProgressTest, OffShowsNothing) {
  std::ostringstream out;
  Progress p(Progress::Mode::kOff, out);
  EXPECT_FALSE(p.on());
  p.Waiting(Office(1), "k/w1");
  p.Acquired("backup", {});
  p.Exited(1);
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace conch
