// Integration tests of CronStore against a real etcd: the claim Txn is
// won exactly once and is refused for a changed job, results and history
// read back as one snapshot, Prune keeps the newest ticks, run requests
// and daemon registration.
#include "core/cron/cron.h"

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/cron/cron_state.h"
#include "core/etcd/kv.h"
#include "core/etcd/test_dial.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace conch::etcd {
namespace {

using ::testing::HasSubstr;

class CronStoreTest : public SharedEtcdTest {
 protected:
  void SetUp() override {
    SharedEtcdTest::SetUp();
    if (HasFatalFailure()) return;
    store_ = std::make_unique<CronStore>(conn_.get(), p_);
  }

  CronJob AddAndRead(const std::string& name) {
    records::Job job;
    job.set_schedule("@every 1s");
    job.set_tz("UTC");
    job.add_argv("true");
    job.set_overlap("allow");
    EXPECT_TRUE(store_->AddJob(name, job, false, Soon()).ok());
    return AddAndReadExisting(name);
  }

  // The stored job `name` (which must exist).
  CronJob AddAndReadExisting(const std::string& name) {
    absl::StatusOr<CronJobList> list = store_->ListJobs(Soon());
    EXPECT_TRUE(list.ok());
    for (const CronJob& j : list->jobs) {
      if (j.name == name) return j;
    }
    ADD_FAILURE() << "job " << name << " not listed";
    return {};
  }

  static records::Claim ClaimBy(const std::string& daemon) {
    records::Claim c;
    c.set_daemon(daemon);
    c.set_lease("0000000000000001");
    c.set_claimed_at("2026-11-27T00:00:00.000Z");
    return c;
  }

  std::unique_ptr<CronStore> store_;
};

TEST(CronInstantTest, FixedWidthAndRoundTrip) {
  const absl::Time t = absl::FromUnixNanos(1795000000123456789);
  EXPECT_EQ(FormatInstant(t), "01795000000123456789");
  EXPECT_EQ(FormatInstant(absl::UnixEpoch()), "00000000000000000000");
  EXPECT_EQ(*ParseInstant("01795000000123456789"), t);
  EXPECT_FALSE(ParseInstant("1795000000123456789").ok());
  EXPECT_FALSE(ParseInstant("0179500000012345678x").ok());
}

// The daemon learns run requests by watch: the store parses the keys it
// writes, and only those.
TEST(CronKeysTest, RunKeysParseBackAndOthersAreRefused) {
  const CronStore store(nullptr, "/p/");
  const absl::Time t = absl::FromUnixSeconds(1795000000);
  absl::StatusOr<std::pair<std::string, absl::Time>> run =
      store.ParseRunKey(store.RunKey("job%2Fa", t));
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->first, "job%2Fa");
  EXPECT_EQ(run->second, t);
  EXPECT_EQ(store.JobOfKey(store.JobPrefix() + "nightly"), "nightly");
  for (const std::string& bad :
       {std::string("/p/cron/job/x"), std::string("/p/cron/run/x"),
        std::string("/p/cron/run//01795000000000000000"),
        std::string("/p/cron/run/x/123"), std::string("/q/cron/run/x/1")}) {
    EXPECT_FALSE(store.ParseRunKey(bad).ok()) << bad;
  }
}

TEST_F(CronStoreTest, AddRefusesAnExistingNameUnlessReplace) {
  AddAndRead("a/b");
  records::Job other;
  other.add_argv("false");
  absl::Status again = store_->AddJob("a/b", other, false, Soon());
  EXPECT_TRUE(absl::IsAlreadyExists(again)) << again;
  bool replaced = false;
  EXPECT_TRUE(store_->AddJob("a/b", other, true, Soon(), &replaced).ok());
  EXPECT_TRUE(replaced);
  EXPECT_TRUE(store_->AddJob("c", other, true, Soon(), &replaced).ok());
  EXPECT_FALSE(replaced);  // --replace of a name that was not defined
  ASSERT_TRUE(store_->RemoveJob("c", Soon()).ok());
  absl::StatusOr<CronJobList> list = store_->ListJobs(Soon());
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->jobs.size(), 1u);
  EXPECT_EQ(list->jobs[0].name, "a/b");
  EXPECT_EQ(list->jobs[0].encoded, "a%2Fb");
  EXPECT_EQ(list->jobs[0].job.argv(0), "false");
  EXPECT_TRUE(
      absl::IsInvalidArgument(store_->AddJob("", other, false, Soon())));
}

TEST_F(CronStoreTest, RemoveOfAMissingJobIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(store_->RemoveJob("nope", Soon())));
  AddAndRead("x");
  EXPECT_TRUE(store_->RemoveJob("x", Soon()).ok());
  EXPECT_TRUE(absl::IsNotFound(store_->RemoveJob("x", Soon())));
}

TEST_F(CronStoreTest, RemoveWithPurgeDeletesTheHistoryToo) {
  const CronJob job = AddAndRead("p");
  ASSERT_TRUE(store_
                  ->Claim(job, absl::FromUnixSeconds(1), ClaimBy("d"),
                          std::nullopt, 0, Soon())
                  ->claimed);
  records::Result ok;
  ok.set_exit_code(0);
  ASSERT_TRUE(
      store_->WriteResult("p", absl::FromUnixSeconds(1), ok, Soon()).ok());
  const CronJob other = AddAndRead("p2");  // a neighbour that must survive
  ASSERT_TRUE(store_
                  ->Claim(other, absl::FromUnixSeconds(1), ClaimBy("d"),
                          std::nullopt, 0, Soon())
                  ->claimed);
  int64_t deleted = 0;
  ASSERT_TRUE(store_->RemoveJob("p", Soon(), /*purge=*/true, &deleted).ok());
  EXPECT_EQ(deleted, 3);  // the job, its tick and its result
  absl::StatusOr<GetResult> left =
      Kv(conn_.get()).Get(p_, {.prefix = true, .keys_only = true}, Soon());
  ASSERT_TRUE(left.ok());
  for (const KeyValue& kv : left->kvs) {
    EXPECT_THAT(kv.key, HasSubstr("p2")) << kv.key;
  }
  EXPECT_EQ(left->kvs.size(), 2u);  // p2's job and tick
}

TEST_F(CronStoreTest, PurgeWorksAfterAPlainRemove) {
  const CronJob job = AddAndRead("q");
  ASSERT_TRUE(store_
                  ->Claim(job, absl::FromUnixSeconds(1), ClaimBy("d"),
                          std::nullopt, 0, Soon())
                  ->claimed);
  int64_t deleted = 0;
  ASSERT_TRUE(store_->RemoveJob("q", Soon(), false, &deleted).ok());
  EXPECT_EQ(deleted, 1);  // the definition only
  EXPECT_EQ(store_->History("q", 10, Soon())->size(), 1u);  // kept
  EXPECT_TRUE(store_->RemoveJob("q", Soon(), /*purge=*/true, &deleted).ok());
  EXPECT_EQ(deleted, 1);  // the claim
  EXPECT_EQ(store_->History("q", 10, Soon())->size(), 0u);
  absl::Status again = store_->RemoveJob("q", Soon(), /*purge=*/true);
  EXPECT_TRUE(absl::IsNotFound(again)) << again;
}

TEST_F(CronStoreTest, ANameAddedAgainStartsWithoutTheOldHistory) {
  const CronJob job = AddAndRead("r");
  ASSERT_TRUE(store_
                  ->Claim(job, absl::FromUnixSeconds(1), ClaimBy("d"),
                          std::nullopt, 0, Soon())
                  ->claimed);
  records::Result ok;
  ok.set_exit_code(0);
  ASSERT_TRUE(
      store_->WriteResult("r", absl::FromUnixSeconds(1), ok, Soon()).ok());
  // Replacing a job that exists keeps its history...
  records::Job other;
  other.add_argv("false");
  ASSERT_TRUE(store_->AddJob("r", other, /*replace=*/true, Soon()).ok());
  EXPECT_EQ(store_->History("r", 10, Soon())->size(), 1u);
  // ...adding one whose name was removed does not.
  ASSERT_TRUE(store_->RemoveJob("r", Soon()).ok());
  ASSERT_TRUE(store_->AddJob("r", other, /*replace=*/false, Soon()).ok());
  EXPECT_EQ(store_->History("r", 10, Soon())->size(), 0u);
  // Nor does --replace of a name that is not defined.
  ASSERT_TRUE(store_
                  ->Claim(AddAndReadExisting("r"), absl::FromUnixSeconds(2),
                          ClaimBy("d"), std::nullopt, 0, Soon())
                  ->claimed);
  ASSERT_TRUE(store_->RemoveJob("r", Soon()).ok());
  ASSERT_TRUE(store_->AddJob("r", other, /*replace=*/true, Soon()).ok());
  EXPECT_EQ(store_->History("r", 10, Soon())->size(), 0u);
}

// 100,000 jobs do not fit in one gRPC response (issue 18): the list is
// read in pages, all at the first page's revision.
TEST_F(CronStoreTest, JobsAreListedInPagesAtOneRevision) {
  for (const char* name : {"a", "b", "c", "d", "e"}) AddAndRead(name);
  absl::StatusOr<CronJobList> whole = store_->ListJobs(Soon());
  ASSERT_TRUE(whole.ok()) << whole.status();
  for (int64_t page : {1, 2, 5, 6}) {
    absl::StatusOr<CronJobList> paged = store_->ListJobs(Soon(), page);
    ASSERT_TRUE(paged.ok()) << paged.status();
    std::vector<std::string> names;
    for (const CronJob& j : paged->jobs) names.push_back(j.name);
    EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "d", "e"}))
        << "page " << page;
    EXPECT_EQ(paged->revision, whole->revision) << "page " << page;
  }
}

TEST_F(CronStoreTest, CorruptJobRecordsAreListedAsBadNotDropped) {
  AddAndRead("good");
  ASSERT_TRUE(Kv(conn_.get())
                  .Put(store_->JobPrefix() + "bad", "{\"argv\":7}", {}, Soon())
                  .ok());
  absl::StatusOr<CronJobList> list = store_->ListJobs(Soon());
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->jobs.size(), 1u);
  ASSERT_EQ(list->bad.size(), 1u);
  EXPECT_THAT(list->bad[0].key, HasSubstr("cron/job/bad"));
}

TEST_F(CronStoreTest, EightConcurrentClaimsOfOneTickHaveOneWinner) {
  const CronJob job = AddAndRead("j");
  const absl::Time instant = absl::FromUnixSeconds(1800000000);
  absl::Mutex mu;
  std::vector<ClaimOutcome> outcomes;
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<ClaimOutcome> c = store_->Claim(
          job, instant, ClaimBy(absl::StrCat("d", i)), std::nullopt, 0, Soon());
      ASSERT_TRUE(c.ok()) << c.status();
      absl::MutexLock lock(&mu);
      outcomes.push_back(*c);
    });
  }
  for (std::thread& t : threads) t.join();
  int winners = 0;
  for (const ClaimOutcome& o : outcomes) {
    winners += o.claimed ? 1 : 0;
    EXPECT_FALSE(o.job_changed);
  }
  EXPECT_EQ(winners, 1);
}

TEST_F(CronStoreTest, AChangedOrRemovedJobIsNotClaimed) {
  const CronJob job = AddAndRead("j");
  records::Job changed = job.job;
  changed.set_schedule("@every 2s");
  ASSERT_TRUE(store_->AddJob("j", changed, true, Soon()).ok());
  absl::StatusOr<ClaimOutcome> c = store_->Claim(
      job, absl::FromUnixSeconds(5), ClaimBy("d"), std::nullopt, 0, Soon());
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->claimed);
  EXPECT_TRUE(c->job_changed);
  ASSERT_TRUE(store_->RemoveJob("j", Soon()).ok());
  c = store_->Claim(job, absl::FromUnixSeconds(6), ClaimBy("d"), std::nullopt,
                    0, Soon());
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->job_changed);
  absl::StatusOr<std::vector<CronTick>> h = store_->History("j", 10, Soon());
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->empty());
}

TEST_F(CronStoreTest, HistoryPairsClaimsWithResultsNewestFirst) {
  const CronJob job = AddAndRead("j");
  for (int s = 1; s <= 3; ++s) {
    ASSERT_TRUE(store_
                    ->Claim(job, absl::FromUnixSeconds(s), ClaimBy("d"),
                            std::nullopt, 0, Soon())
                    ->claimed);
  }
  records::Result done;
  done.set_daemon("d");
  done.set_exit_code(4);
  ASSERT_TRUE(
      store_->WriteResult("j", absl::FromUnixSeconds(2), done, Soon()).ok());
  records::Result skipped;
  skipped.set_skipped("overlap");
  absl::StatusOr<ClaimOutcome> s = store_->Claim(
      job, absl::FromUnixSeconds(4), ClaimBy("d"), skipped, 0, Soon());
  ASSERT_TRUE(s.ok() && s->claimed);
  absl::StatusOr<std::vector<CronTick>> h = store_->History("j", 3, Soon());
  ASSERT_TRUE(h.ok()) << h.status();
  ASSERT_EQ(h->size(), 3u);
  EXPECT_EQ((*h)[0].instant, absl::FromUnixSeconds(4));
  EXPECT_EQ((*h)[0].claim_revision, s->revision);
  EXPECT_EQ(FormatTickState(StateOfTick((*h)[0], {})), "skipped (overlap)");
  EXPECT_FALSE((*h)[1].result.has_value());
  EXPECT_EQ(FormatTickState(StateOfTick((*h)[1], {})), "zombie");
  EXPECT_EQ(FormatTickState(StateOfTick((*h)[2], {})), "failed (code 4)");
}

TEST_F(CronStoreTest, PruneKeepsTheNewestTicksAndTheirResults) {
  const CronJob job = AddAndRead("j");
  records::Result ok;
  ok.set_exit_code(0);
  for (int s = 1; s <= 12; ++s) {
    ASSERT_TRUE(store_
                    ->Claim(job, absl::FromUnixSeconds(s), ClaimBy("d"),
                            std::nullopt, 0, Soon())
                    ->claimed);
    ASSERT_TRUE(
        store_->WriteResult("j", absl::FromUnixSeconds(s), ok, Soon()).ok());
  }
  absl::StatusOr<int64_t> pruned = store_->Prune("j", 5, Soon());
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(*pruned, 7);
  absl::StatusOr<std::vector<CronTick>> h = store_->History("j", 100, Soon());
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 5u);
  EXPECT_EQ(h->back().instant, absl::FromUnixSeconds(8));
  absl::StatusOr<GetResult> results =
      Kv(conn_.get())
          .Get(p_ + "cron/result/j/", {.prefix = true, .count_only = true},
               Soon());
  ASSERT_TRUE(results.ok());
  EXPECT_EQ(results->count, 5);
  EXPECT_EQ(*store_->Prune("j", 5, Soon()), 0);
}

// Several jobs' histories cut in one delete Txn (one revision); a job under
// the bound is left alone.
TEST_F(CronStoreTest, PruneManyJobsWritesOneRevision) {
  records::Result ok;
  ok.set_exit_code(0);
  const std::vector<std::pair<std::string, int>> ticks = {
      {"a", 12}, {"b", 3}, {"c", 8}};
  for (const auto& [name, n] : ticks) {
    const CronJob job = AddAndRead(name);
    for (int s = 1; s <= n; ++s) {
      ASSERT_TRUE(store_
                      ->Claim(job, absl::FromUnixSeconds(s), ClaimBy("d"),
                              std::nullopt, 0, Soon())
                      ->claimed);
      ASSERT_TRUE(
          store_->WriteResult(name, absl::FromUnixSeconds(s), ok, Soon()).ok());
    }
  }
  Kv kv(conn_.get());
  absl::StatusOr<GetResult> before =
      kv.Get(p_ + "cron/", {.prefix = true, .count_only = true}, Soon());
  ASSERT_TRUE(before.ok());
  absl::StatusOr<int64_t> pruned = store_->Prune({"a", "b", "c"}, 5, Soon());
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(*pruned, 7 + 3);
  absl::StatusOr<GetResult> after =
      kv.Get(p_ + "cron/", {.prefix = true, .count_only = true}, Soon());
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->revision, before->revision + 1);
  EXPECT_EQ(after->count, before->count - 2 * (7 + 3));
  for (const auto& [name, n] : ticks) {
    absl::StatusOr<std::vector<CronTick>> h =
        store_->History(name, 100, Soon());
    ASSERT_TRUE(h.ok());
    ASSERT_EQ(h->size(), static_cast<size_t>(std::min(n, 5))) << name;
    EXPECT_EQ(h->front().instant, absl::FromUnixSeconds(n)) << name;
    for (const CronTick& t : *h) EXPECT_TRUE(t.result.has_value()) << name;
  }
  // Nothing over the bound: no write at all.
  EXPECT_EQ(*store_->Prune({"a", "b", "c"}, 5, Soon()), 0);
  absl::StatusOr<GetResult> again =
      kv.Get(p_ + "cron/", {.prefix = true, .count_only = true}, Soon());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->revision, after->revision);
  EXPECT_EQ(*store_->Prune(std::vector<std::string>{}, 5, Soon()), 0);
  EXPECT_TRUE(absl::IsInvalidArgument(
      store_->Prune(std::vector<std::string>(65, "a"), 5, Soon()).status()));
}

TEST_F(CronStoreTest, WriteResultsStoresABatchAndCountsEachHistory) {
  const CronJob a = AddAndRead("a");
  const CronJob b = AddAndRead("b");
  for (int s = 1; s <= 3; ++s) {
    ASSERT_TRUE(store_
                    ->Claim(a, absl::FromUnixSeconds(s), ClaimBy("d"),
                            std::nullopt, 0, Soon())
                    ->claimed);
  }
  ASSERT_TRUE(store_
                  ->Claim(b, absl::FromUnixSeconds(1), ClaimBy("d"),
                          std::nullopt, 0, Soon())
                  ->claimed);
  records::Result ok;
  ok.set_exit_code(0);
  records::Result failed;
  failed.set_signal(9);
  absl::StatusOr<std::vector<int64_t>> counts =
      store_->WriteResults({{"a", absl::FromUnixSeconds(3), ok},
                            {"b", absl::FromUnixSeconds(1), failed}},
                           Soon());
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(*counts, (std::vector<int64_t>{3, 1}));
  absl::StatusOr<std::vector<CronTick>> ha = store_->History("a", 10, Soon());
  ASSERT_TRUE(ha.ok());
  EXPECT_EQ(FormatTickState(StateOfTick((*ha)[0], {})), "ok");
  absl::StatusOr<std::vector<CronTick>> hb = store_->History("b", 10, Soon());
  ASSERT_TRUE(hb.ok());
  EXPECT_EQ(FormatTickState(StateOfTick((*hb)[0], {})), "failed (signal 9)");
  EXPECT_TRUE(
      absl::IsInvalidArgument(store_->WriteResults({}, Soon()).status()));
}

// Overload (issue 18): ticks nobody had room for are recorded as skip
// spans, one key per job, and History() reads them as skipped ticks; a
// tick that was claimed is the claimer's.
TEST_F(CronStoreTest, SkipSpansRecordTicksThatWereNotClaimed) {
  const CronJob a = AddAndRead("a");
  const CronJob b = AddAndRead("b/c");
  auto at = [](int s) { return absl::FromUnixSeconds(s); };
  // Tick 3 of a was claimed (and ran) before the span was written.
  ASSERT_TRUE(
      store_->Claim(a, at(3), ClaimBy("d2"), std::nullopt, 0, Soon())->claimed);
  absl::StatusOr<std::vector<std::vector<absl::Time>>> written =
      store_->WriteSkipSpans(
          {{a.encoded, {at(2), at(3), at(4)}}, {b.encoded, {at(2)}}}, "d1",
          "overload", Soon());
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ((*written)[0], (std::vector<absl::Time>{at(2), at(4)}));
  EXPECT_EQ((*written)[1], (std::vector<absl::Time>{at(2)}));
  // One key per job, at its first instant.
  absl::StatusOr<GetResult> keys =
      Kv(conn_.get())
          .Get(p_ + "cron/skip/", {.prefix = true, .keys_only = true}, Soon());
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->kvs.size(), 2u);
  EXPECT_EQ(keys->kvs[0].key, store_->SkipKey("a", at(2)));
  EXPECT_EQ(keys->kvs[1].key, store_->SkipKey("b%2Fc", at(2)));

  absl::StatusOr<std::vector<CronTick>> h = store_->History("a", 10, Soon());
  ASSERT_TRUE(h.ok()) << h.status();
  ASSERT_EQ(h->size(), 3u);  // 4 and 2 from the span, 3 from its claim
  EXPECT_EQ((*h)[0].instant, at(4));
  EXPECT_TRUE((*h)[0].from_span);
  EXPECT_EQ(FormatTickState(StateOfTick((*h)[0], {})), "skipped (overload)");
  EXPECT_EQ((*h)[0].result->daemon(), "d1");
  EXPECT_EQ((*h)[1].instant, at(3));
  EXPECT_FALSE((*h)[1].from_span);
  EXPECT_EQ((*h)[1].claim->daemon(), "d2");
  EXPECT_EQ((*h)[2].instant, at(2));
  EXPECT_TRUE((*h)[2].from_span);
  // The limit counts span ticks too, newest first.
  h = store_->History("a", 2, Soon());
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[1].instant, at(3));
  // Without spans: the claims only (what the zombie census reads).
  h = store_->History("a", 10, Soon(), /*spans=*/false);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->size(), 1u);

  // A second daemon that skipped the same tick: it counts once.
  ASSERT_TRUE(store_
                  ->WriteSkipSpans({{a.encoded, {at(4), at(5)}}}, "d3",
                                   "overload", Soon())
                  .ok());
  h = store_->History("a", 10, Soon());
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->size(), 4u);  // 5, 4, 3, 2

  // Every instant claimed: nothing is written.
  written =
      store_->WriteSkipSpans({{a.encoded, {at(3)}}}, "d1", "overload", Soon());
  ASSERT_TRUE(written.ok());
  EXPECT_TRUE((*written)[0].empty());

  // Bad batches are refused before anything is written.
  EXPECT_TRUE(absl::IsInvalidArgument(
      store_->WriteSkipSpans({}, "d1", "overload", Soon()).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      store_
          ->WriteSkipSpans({{a.encoded, {at(9), at(8)}}}, "d1", "overload",
                           Soon())
          .status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      store_->WriteSkipSpans({{a.encoded, {}}}, "d1", "overload", Soon())
          .status()));
  std::vector<CronStore::SpanItem> many(CronStore::kMaxSpanBatch + 1,
                                        {a.encoded, {at(9)}});
  EXPECT_TRUE(absl::IsInvalidArgument(
      store_->WriteSkipSpans(many, "d1", "overload", Soon()).status()));
}

TEST_F(CronStoreTest, SkipSpansArePrunedAndGoWithTheirJob) {
  const CronJob s = AddAndRead("s");
  const CronJob n = AddAndRead("n");  // a neighbour that must survive
  auto at = [](int sec) { return absl::FromUnixSeconds(sec); };
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(store_
                    ->WriteSkipSpans({{s.encoded, {at(10 * i), at(10 * i + 1)}},
                                      {n.encoded, {at(10 * i)}}},
                                     "d", "overload", Soon())
                    .ok());
  }
  absl::StatusOr<int64_t> pruned = store_->PruneSpans({"s"}, 3, Soon());
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(*pruned, 2);  // the spans at 10 and 20
  absl::StatusOr<std::vector<CronTick>> h = store_->History("s", 100, Soon());
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 6u);
  EXPECT_EQ(h->back().instant, at(30));
  EXPECT_EQ(*store_->PruneSpans({"s"}, 3, Soon()), 0);
  EXPECT_EQ(store_->History("n", 100, Soon())->size(), 5u);
  // A purge takes the spans with the job; a new job of the name starts
  // with none.
  int64_t deleted = 0;
  ASSERT_TRUE(store_->RemoveJob("s", Soon(), /*purge=*/true, &deleted).ok());
  EXPECT_EQ(deleted, 4);  // the job and its three spans
  EXPECT_TRUE(store_->History("s", 100, Soon())->empty());
  ASSERT_TRUE(store_->RemoveJob("n", Soon()).ok());
  EXPECT_EQ(store_->History("n", 100, Soon())->size(), 5u);  // kept
  AddAndRead("n");
  EXPECT_TRUE(store_->History("n", 100, Soon())->empty());
}

// A span that cannot be read shows as an unreadable tick, not as nothing.
TEST_F(CronStoreTest, AnUnreadableSkipSpanIsReported) {
  AddAndRead("u");
  ASSERT_TRUE(Kv(conn_.get())
                  .Put(store_->SkipKey("u", absl::FromUnixSeconds(7)),
                       "{not json", {}, Soon())
                  .ok());
  absl::StatusOr<std::vector<CronTick>> h = store_->History("u", 10, Soon());
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 1u);
  EXPECT_THAT((*h)[0].error, HasSubstr("skip span"));
  EXPECT_EQ(StateOfTick((*h)[0], {}).kind, TickState::Kind::kUnreadable);
}

TEST_F(CronStoreTest, RunRequestNeedsTheJobAndIsConsumedByItsClaim) {
  records::RunRequest req;
  req.set_host("h");
  const absl::Time now = absl::FromUnixNanos(1800000000123456789);
  EXPECT_TRUE(absl::IsNotFound(store_->RequestRun("j", now, req, Soon())));
  const CronJob job = AddAndRead("j");
  ASSERT_TRUE(store_->RequestRun("j", now, req, Soon()).ok());
  absl::StatusOr<GetResult> got =
      Kv(conn_.get()).Get(store_->RunKey("j", now), {}, Soon());
  ASSERT_TRUE(got.ok() && got->kvs.size() == 1);
  const int64_t rev = got->kvs[0].mod_revision;
  // A stale request revision does not claim.
  EXPECT_FALSE(
      store_->Claim(job, now, ClaimBy("d1"), std::nullopt, rev + 100, Soon())
          ->claimed);
  EXPECT_TRUE(store_->Claim(job, now, ClaimBy("d2"), std::nullopt, rev, Soon())
                  ->claimed);
  EXPECT_FALSE(*store_->CancelRun("j", now, Soon()));  // consumed
}

TEST_F(CronStoreTest, ADaemonIdIsOneLeasesAtATime) {
  records::Daemon d;
  d.set_host("h");
  ASSERT_TRUE(store_->RegisterDaemon("d1", d, kNoLease, Soon()).ok());
  // Same lease again (a retry): fine. Another lease: refused.
  EXPECT_TRUE(store_->RegisterDaemon("d1", d, kNoLease, Soon()).ok());
  absl::StatusOr<std::map<std::string, std::string>> live =
      store_->LiveDaemons(Soon());
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->count("d1"), 1u);
}

}  // namespace
}  // namespace conch::etcd
