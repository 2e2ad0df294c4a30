// Integration tests of WatchStream/Watcher against a real etcd: delivery,
// many watchers on one stream, history, cancel, resume across an etcd
// restart (nothing lost, nothing duplicated) and compaction.
#include "core/etcd/watch.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/etcd/etcd_status.h"
#include "core/etcd/kv.h"
#include "core/etcd/test_dial.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/etcd_env.h"
#include "testing/poll.h"

namespace conch::etcd {
namespace {

using ::testing::ElementsAre;

// Collects events until `n` arrived or the deadline passed.
std::vector<Event> Collect(Watcher& w, size_t n, absl::Time deadline) {
  std::vector<Event> out;
  while (out.size() < n) {
    absl::StatusOr<WatchBatch> b = w.Next(deadline);
    if (!b.ok()) break;
    for (Event& e : b->events) out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string> Describe(const std::vector<Event>& events,
                                  const std::string& prefix) {
  std::vector<std::string> out;
  for (const Event& e : events) {
    out.push_back(absl::StrCat(e.type == Event::Type::kPut ? "put " : "del ",
                               e.kv.key.substr(prefix.size()), "=",
                               e.kv.value));
  }
  return out;
}

class WatchTest : public SharedEtcdTest {
 protected:
  void SetUp() override {
    SharedEtcdTest::SetUp();
    if (HasFatalFailure()) return;
    stream_ = std::make_unique<WatchStream>(conn_.get());
    kv_ = std::make_unique<Kv>(conn_.get());
  }
  void TearDown() override { stream_.reset(); }

  // etcd's count of the watch events it has sent, to any watcher.
  static double EventsSent() {
    absl::StatusOr<double> v =
        test::SharedEtcd().MetricValue("etcd_debugging_mvcc_events_total");
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : -1;
  }

  // Writes p_+"gone", then p_+"kept", and checks that etcd sent exactly one
  // event for them: the one `kept` receives (no watcher on "gone" is left).
  void ExpectOnlyKeptIsSent(Watcher& kept) {
    const double before = EventsSent();
    ASSERT_TRUE(kv_->Put(p_ + "gone", "x", {}, Soon()).ok());
    ASSERT_TRUE(kv_->Put(p_ + "kept", "y", {}, Soon()).ok());
    ASSERT_EQ(Collect(kept, 1, Soon()).size(), 1u);
    ASSERT_TRUE(
        test::PollUntil([&] { return EventsSent() >= before + 1; }, Soon())
            .ok());
    EXPECT_EQ(EventsSent(), before + 1);
  }

  std::unique_ptr<WatchStream> stream_;
  std::unique_ptr<Kv> kv_;
};

TEST_F(WatchTest, DeliversPutsAndDeletesInRevisionOrder) {
  absl::StatusOr<std::unique_ptr<Watcher>> w =
      stream_->Watch(p_, {.prefix = true, .prev_kv = true}, Soon());
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(kv_->Put(p_ + "a", "1", {}, Soon()).ok());
  ASSERT_TRUE(kv_->Put(p_ + "b", "2", {}, Soon()).ok());
  ASSERT_TRUE(kv_->Put(p_ + "a", "3", {}, Soon()).ok());
  absl::StatusOr<DeleteResult> del = kv_->Delete(p_ + "a", {}, Soon());
  ASSERT_TRUE(del.ok());
  ASSERT_TRUE(
      kv_->Put(p_.substr(0, p_.size() - 1) + "x", "outside", {}, Soon()).ok());

  std::vector<Event> events = Collect(**w, 4, Soon());
  EXPECT_THAT(Describe(events, p_),
              ElementsAre("put a=1", "put b=2", "put a=3", "del a="));
  ASSERT_EQ(events.size(), 4u);
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_GT(events[i].kv.mod_revision, events[i - 1].kv.mod_revision);
  }
  EXPECT_EQ(events[3].kv.mod_revision, del->revision);
  ASSERT_TRUE(events[2].prev_kv.has_value());
  EXPECT_EQ(events[2].prev_kv->value, "1");
  EXPECT_EQ((*w)->next_revision(), del->revision + 1);
  // Nothing else arrives (the key outside the prefix is not ours).
  EXPECT_EQ((*w)->Next(absl::Now() + absl::Milliseconds(200)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

// TryNext never blocks: nothing ready is nullopt and a ready batch comes
// back (its terminal error: CompactedStartRevisionIsReported).
TEST_F(WatchTest, TryNextTellsNothingReadyFromABatch) {
  absl::StatusOr<std::unique_ptr<Watcher>> w =
      stream_->Watch(p_ + "k", {}, Soon());
  ASSERT_TRUE(w.ok()) << w.status();
  absl::StatusOr<std::optional<WatchBatch>> none = (*w)->TryNext();
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(kv_->Put(p_ + "k", "1", {}, Soon()).ok());
  std::optional<WatchBatch> got;
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    absl::StatusOr<std::optional<WatchBatch>> b =
                        (*w)->TryNext();
                    if (b.ok() && b->has_value()) got = **b;
                    return got.has_value();
                  },
                  Soon())
                  .ok());
  EXPECT_THAT(Describe(got->events, p_), ElementsAre("put k=1"));
}

TEST_F(WatchTest, ManyWatchersShareOneStreamAndSeeOnlyTheirKeys) {
  std::vector<std::unique_ptr<Watcher>> watchers;
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<std::unique_ptr<Watcher>> w =
        stream_->Watch(absl::StrCat(p_, "k", i), {}, Soon());
    ASSERT_TRUE(w.ok()) << w.status();
    watchers.push_back(*std::move(w));
  }
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        kv_->Put(absl::StrCat(p_, "k", i), absl::StrCat(i), {}, Soon()).ok());
  }
  for (int i = 0; i < 20; ++i) {
    std::vector<Event> events = Collect(*watchers[i], 1, Soon());
    ASSERT_EQ(events.size(), 1u) << i;
    EXPECT_EQ(events[0].kv.value, absl::StrCat(i));
  }
  EXPECT_EQ(stream_->reconnects(), 0);
  EXPECT_EQ(stream_->interruptions(), 0);
}

TEST_F(WatchTest, StartRevisionReplaysHistory) {
  absl::StatusOr<PutResult> first = kv_->Put(p_ + "h", "1", {}, Soon());
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(kv_->Put(p_ + "h", "2", {}, Soon()).ok());
  absl::StatusOr<std::unique_ptr<Watcher>> w =
      stream_->Watch(p_ + "h", {.start_revision = first->revision}, Soon());
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_THAT(Describe(Collect(**w, 2, Soon()), p_),
              ElementsAre("put h=1", "put h=2"));
}

TEST_F(WatchTest, FiltersDropPutsOrDeletes) {
  absl::StatusOr<std::unique_ptr<Watcher>> deletes =
      stream_->Watch(p_, {.prefix = true, .no_put = true}, Soon());
  absl::StatusOr<std::unique_ptr<Watcher>> puts =
      stream_->Watch(p_, {.prefix = true, .no_delete = true}, Soon());
  ASSERT_TRUE(deletes.ok() && puts.ok());
  ASSERT_TRUE(kv_->Put(p_ + "f", "1", {}, Soon()).ok());
  ASSERT_TRUE(kv_->Delete(p_ + "f", {}, Soon()).ok());
  ASSERT_TRUE(kv_->Put(p_ + "g", "2", {}, Soon()).ok());
  EXPECT_THAT(Describe(Collect(**deletes, 1, Soon()), p_),
              ElementsAre("del f="));
  EXPECT_THAT(Describe(Collect(**puts, 2, Soon()), p_),
              ElementsAre("put f=1", "put g=2"));
}

TEST_F(WatchTest, CancelledWatcherLeavesOthersWorking) {
  absl::StatusOr<std::unique_ptr<Watcher>> a =
      stream_->Watch(p_ + "a", {}, Soon());
  absl::StatusOr<std::unique_ptr<Watcher>> b =
      stream_->Watch(p_ + "b", {}, Soon());
  ASSERT_TRUE(a.ok() && b.ok());
  a->reset();
  ASSERT_TRUE(kv_->Put(p_ + "a", "1", {}, Soon()).ok());
  ASSERT_TRUE(kv_->Put(p_ + "b", "2", {}, Soon()).ok());
  EXPECT_THAT(Describe(Collect(**b, 1, Soon()), p_), ElementsAre("put b=2"));
}

TEST_F(WatchTest, ConfirmedCancelMeansEtcdSendsNothingMore) {
  absl::StatusOr<std::unique_ptr<Watcher>> kept =
      stream_->Watch(p_ + "kept", {}, Soon());
  absl::StatusOr<std::unique_ptr<Watcher>> gone =
      stream_->Watch(p_ + "gone", {}, Soon());
  ASSERT_TRUE(kept.ok() && gone.ok());
  (*gone)->Cancel(Soon());
  ExpectOnlyKeptIsSent(**kept);
  EXPECT_EQ(
      (*gone)->Next(absl::Now() + absl::Milliseconds(100)).status().code(),
      absl::StatusCode::kDeadlineExceeded);
}

TEST_F(WatchTest, UnawaitedWatchMissesNothingFromItsStartRevision) {
  absl::StatusOr<PutResult> first = kv_->Put(p_ + "k", "1", {}, Soon());
  ASSERT_TRUE(first.ok());
  absl::StatusOr<std::unique_ptr<Watcher>> w = stream_->Watch(
      p_ + "k", {.start_revision = first->revision + 1, .await_created = false},
      Soon());
  ASSERT_TRUE(w.ok()) << w.status();
  // Written before etcd can have confirmed the watch: still delivered.
  ASSERT_TRUE(kv_->Put(p_ + "k", "2", {}, Soon()).ok());
  ASSERT_TRUE(kv_->Delete(p_ + "k", {}, Soon()).ok());
  EXPECT_THAT(Describe(Collect(**w, 2, Soon()), p_),
              ElementsAre("put k=2", "del k="));
}

TEST_F(WatchTest, UnawaitedWatchNeedsAStartRevision) {
  absl::StatusOr<std::unique_ptr<Watcher>> w =
      stream_->Watch(p_ + "k", {.await_created = false}, Soon());
  EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(WatchTest, CancelBeforeEtcdConfirmedTheWatchStillStopsIt) {
  absl::StatusOr<PutResult> base = kv_->Put(p_ + "base", "0", {}, Soon());
  ASSERT_TRUE(base.ok());
  absl::StatusOr<std::unique_ptr<Watcher>> kept =
      stream_->Watch(p_ + "kept", {}, Soon());
  ASSERT_TRUE(kept.ok());
  for (int i = 0; i < 20; ++i) {
    // Cancelled at once: the cancel follows the create on the stream.
    absl::StatusOr<std::unique_ptr<Watcher>> gone = stream_->Watch(
        p_ + "gone",
        {.start_revision = base->revision + 1, .await_created = false}, Soon());
    ASSERT_TRUE(gone.ok()) << gone.status();
    (*gone)->Cancel(Soon());
  }
  // None of the 20 cancelled watchers was left behind on the server.
  ExpectOnlyKeptIsSent(**kept);
}

TEST_F(WatchTest, ProgressNotificationsAdvanceTheNextRevision) {
  absl::StatusOr<std::unique_ptr<Watcher>> w =
      stream_->Watch(p_ + "quiet", {.progress_notify = true}, Soon());
  ASSERT_TRUE(w.ok());
  absl::StatusOr<PutResult> elsewhere = kv_->Put(p_ + "other", "x", {}, Soon());
  ASSERT_TRUE(elsewhere.ok());
  stream_->RequestProgress();
  absl::StatusOr<WatchBatch> b = (*w)->Next(Soon());
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(b->progress);
  EXPECT_TRUE(b->events.empty());
  EXPECT_GE(b->revision, elsewhere->revision);
  EXPECT_GT((*w)->next_revision(), elsewhere->revision);
}

// Uses a private etcd: it is restarted and compacted.
class WatchPrivateEtcdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<test::EtcdServer>> etcd =
        test::EtcdServer::Start();
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    etcd_ = *std::move(etcd);
    absl::StatusOr<std::unique_ptr<Connection>> conn = DialTestServer(*etcd_);
    ASSERT_TRUE(conn.ok()) << conn.status();
    conn_ = *std::move(conn);
    stream_ = std::make_unique<WatchStream>(conn_.get());
    kv_ = std::make_unique<Kv>(conn_.get());
  }
  void TearDown() override {
    stream_.reset();
    conn_.reset();
  }

  std::unique_ptr<test::EtcdServer> etcd_;
  std::unique_ptr<Connection> conn_;
  std::unique_ptr<WatchStream> stream_;
  std::unique_ptr<Kv> kv_;
};

TEST_F(WatchPrivateEtcdTest,
       ResumesAcrossAnEtcdRestartLosingAndRepeatingNothing) {
  absl::StatusOr<std::unique_ptr<Watcher>> w =
      stream_->Watch("/r/", {.prefix = true}, Soon());
  ASSERT_TRUE(w.ok()) << w.status();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(kv_->Put(absl::StrCat("/r/", i), "before", {}, Soon()).ok());
  }
  ASSERT_EQ(Collect(**w, 3, Soon()).size(), 3u);

  ASSERT_TRUE(etcd_->Restart().ok());
  // Written by another client right after the restart, possibly before the
  // watcher has reconnected: it must still see each exactly once.
  for (int i = 3; i < 8; ++i) {
    absl::StatusOr<test::CommandResult> put =
        etcd_->Etcdctl({"put", absl::StrCat("/r/", i), "after"});
    ASSERT_TRUE(put.ok() && put->Succeeded());
  }
  std::vector<Event> after = Collect(**w, 5, absl::Now() + absl::Seconds(15));
  EXPECT_THAT(Describe(after, "/r/"),
              ElementsAre("put 3=after", "put 4=after", "put 5=after",
                          "put 6=after", "put 7=after"));
  EXPECT_EQ((*w)->Next(absl::Now() + absl::Milliseconds(300)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(stream_->reconnects(), 1);
  EXPECT_GE(stream_->interruptions(), 1);
}

// Watchers created and cancelled in a hurry (some cancelled before etcd
// confirmed them) while etcd restarts underneath: a long-lived watcher on
// the same stream must still hear the next write, and new watchers work.
TEST_F(WatchPrivateEtcdTest, ChurnAcrossRestartsLeavesTheStreamServing) {
  absl::StatusOr<PutResult> base = kv_->Put("/churn/live", "0", {}, Soon());
  ASSERT_TRUE(base.ok()) << base.status();
  absl::StatusOr<std::unique_ptr<Watcher>> live = stream_->Watch(
      "/churn/live",
      {.start_revision = base->revision + 1, .await_created = false}, Soon());
  ASSERT_TRUE(live.ok()) << live.status();
  // The churn runs on a thread; the restarts stay on this one (etcd dies
  // with the thread that started it).
  std::atomic<bool> done{false};
  std::atomic<int> created{0};
  std::thread churn([&] {
    for (int i = 0; !done; ++i) {
      WatchOptions o;
      o.prefix = (i % 3 == 0);
      if (i % 2 == 0) {
        o.start_revision = base->revision + 1;
        o.await_created = false;
      }
      absl::StatusOr<std::unique_ptr<Watcher>> w =
          stream_->Watch(absl::StrCat("/churn/", i % 7), std::move(o),
                         absl::Now() + absl::Milliseconds(200));
      if (w.ok()) {
        ++created;
        if (i % 4 == 0) (*w)->Cancel(absl::Now() + absl::Milliseconds(50));
      }  // else etcd is restarting: Unavailable by the deadline
    }
  });
  for (int i = 0; i < 3; ++i) {
    absl::SleepFor(absl::Milliseconds(300));
    EXPECT_TRUE(etcd_->Restart().ok());
  }
  absl::SleepFor(absl::Milliseconds(300));
  done = true;
  churn.join();
  EXPECT_GT(created, 0);
  // (Restart returns once etcd is healthy again.)
  absl::StatusOr<test::CommandResult> put =
      etcd_->Etcdctl({"put", "/churn/live", "1"});
  ASSERT_TRUE(put.ok() && put->Succeeded());
  EXPECT_THAT(
      Describe(Collect(**live, 1, absl::Now() + absl::Seconds(15)), "/churn/"),
      ElementsAre("put live=1"));
  absl::StatusOr<std::unique_ptr<Watcher>> fresh =
      stream_->Watch("/churn/fresh", {}, absl::Now() + absl::Seconds(15));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  ASSERT_TRUE(kv_->Put("/churn/fresh", "x", {}, Soon()).ok());
  EXPECT_EQ(Collect(**fresh, 1, Soon()).size(), 1u);
}

TEST_F(WatchPrivateEtcdTest, CompactedStartRevisionIsReported) {
  absl::StatusOr<PutResult> first = kv_->Put("/c", "1", {}, Soon());
  ASSERT_TRUE(first.ok());
  absl::StatusOr<PutResult> last = kv_->Put("/c", "2", {}, Soon());
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(kv_->Compact(last->revision, true, Soon()).ok());

  absl::StatusOr<std::unique_ptr<Watcher>> w =
      stream_->Watch("/c", {.start_revision = first->revision}, Soon());
  absl::Status status = w.status();
  if (w.ok()) status = (*w)->Next(Soon()).status();
  EXPECT_TRUE(IsCompacted(status)) << status;
  // TryNext returns the terminal error too, not "nothing ready".
  absl::StatusOr<std::unique_ptr<Watcher>> unawaited = stream_->Watch(
      "/c", {.start_revision = first->revision, .await_created = false},
      Soon());
  ASSERT_TRUE(unawaited.ok()) << unawaited.status();
  absl::Status tried;
  ASSERT_TRUE(test::PollUntil(
                  [&] {
                    tried = (*unawaited)->TryNext().status();
                    return !tried.ok();
                  },
                  Soon())
                  .ok());
  EXPECT_TRUE(IsCompacted(tried)) << tried;
  // Re-watching from the compaction point works.
  absl::StatusOr<std::unique_ptr<Watcher>> again =
      stream_->Watch("/c", {.start_revision = last->revision}, Soon());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_THAT(Describe(Collect(**again, 1, Soon()), "/"),
              ElementsAre("put c=2"));
}

TEST(WatchFragmentTest, FragmentedResponsesAreMergedIntoOneBatch) {
  // With --max-request-bytes 1 MiB, deleting two 600 KB keys with prev_kv
  // makes a 1.2 MB watch response, which etcd sends in fragments.
  test::EtcdServerOptions options;
  options.extra_flags = {"--max-request-bytes=1048576"};
  absl::StatusOr<std::unique_ptr<test::EtcdServer>> etcd =
      test::EtcdServer::Start(options);
  ASSERT_TRUE(etcd.ok()) << etcd.status();
  absl::StatusOr<std::unique_ptr<Connection>> conn = DialTestServer(**etcd);
  ASSERT_TRUE(conn.ok()) << conn.status();
  Kv kv(conn->get());
  const std::string big_a(600 * 1024, 'a');
  const std::string big_b(600 * 1024, 'b');
  ASSERT_TRUE(kv.Put("/f/a", big_a, {}, Soon()).ok());
  ASSERT_TRUE(kv.Put("/f/b", big_b, {}, Soon()).ok());
  {
    WatchStream stream(conn->get());
    absl::StatusOr<std::unique_ptr<Watcher>> w =
        stream.Watch("/f/", {.prefix = true, .prev_kv = true}, Soon());
    ASSERT_TRUE(w.ok()) << w.status();
    absl::StatusOr<DeleteResult> del =
        kv.Delete("/f/", {.prefix = true}, Soon());
    ASSERT_TRUE(del.ok()) << del.status();
    ASSERT_EQ(del->deleted, 2);
    absl::StatusOr<WatchBatch> batch = (*w)->Next(Soon());
    ASSERT_TRUE(batch.ok()) << batch.status();
    ASSERT_EQ(batch->events.size(), 2u);  // one batch: the fragments merged
    ASSERT_TRUE(batch->events[0].prev_kv.has_value());
    ASSERT_TRUE(batch->events[1].prev_kv.has_value());
    EXPECT_EQ(batch->events[0].prev_kv->value, big_a);
    EXPECT_EQ(batch->events[1].prev_kv->value, big_b);
  }
}

TEST_F(WatchPrivateEtcdTest, WatchFailsByItsDeadlineWhileEtcdIsDown) {
  ASSERT_TRUE(etcd_->Kill().ok());
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<Watcher>> w =
      stream_->Watch("/d", {}, start + absl::Milliseconds(500));
  EXPECT_EQ(w.status().code(), absl::StatusCode::kUnavailable) << w.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

}  // namespace
}  // namespace conch::etcd
