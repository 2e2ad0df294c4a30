#include "core/etcd/watch.h"

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/etcd/etcd_status.h"
#include "core/etcd/internal/convert.h"
#include "third_party/etcd_protos/rpc.grpc.pb.h"

namespace conch::etcd {
namespace {

constexpr absl::Duration kFirstReopenDelay = absl::Milliseconds(50);
constexpr absl::Duration kMaxReopenDelay = absl::Seconds(1);

// The watch ID a create or cancel answer is for, and forgets it among the
// unanswered creates; any other answer's own watch ID.
int64_t AnsweredWatchId(const etcdserverpb::WatchResponse& response,
                        std::deque<int64_t>* unanswered_creates) {
  int64_t id = response.watch_id();
  if (response.created() || (id == -1 && response.canceled())) {
    // etcd answers create requests in the order they were sent; some
    // refusals (permission denied) come back without our watch ID.
    if (id == -1 && !unanswered_creates->empty()) {
      id = unanswered_creates->front();
    }
    auto u =
        std::find(unanswered_creates->begin(), unanswered_creates->end(), id);
    if (u != unanswered_creates->end()) unanswered_creates->erase(u);
  }
  return id;
}

}  // namespace

// What the stream knows about one watcher; guarded by WatchStream::mu_.
struct Watcher::State {
  int64_t id = 0;
  std::string key;
  WatchOptions options;
  // The revision of the next event to deliver; 0 until etcd told us "now"
  // for a watcher that started at the current revision.
  int64_t next_revision = 0;
  bool created = false;  // confirmed on the current call
  bool cancelled = false;
  bool cancel_confirmed = false;  // etcd will send nothing more for it
  absl::Status error;             // terminal
  std::vector<Event> fragments;
  std::deque<WatchBatch> ready;

  // Takes etcd's progress answer for the whole stream: everything up to
  // `revision` was sent.
  void OnStreamProgress(int64_t revision);
  // The terminal error for etcd's "canceled" answer `response`.
  absl::Status CancelStatus(const etcdserverpb::WatchResponse& response) const;
  // Turns the fragments gathered so far into a batch for Next(), or into a
  // progress notification if etcd sent no event.
  void FinishBatch(int64_t revision);
};

void Watcher::State::OnStreamProgress(int64_t revision) {
  if (!created) return;
  next_revision = std::max(next_revision, revision + 1);
  if (options.progress_notify) {
    ready.push_back(WatchBatch{{}, revision, true});
    if (options.on_ready) options.on_ready();
  }
}

absl::Status Watcher::State::CancelStatus(
    const etcdserverpb::WatchResponse& response) const {
  if (response.compact_revision() > 0) {
    return MakeEtcdStatus(
        absl::StatusCode::kOutOfRange,
        absl::StrCat("watch on \"", key, "\" from revision ", next_revision,
                     ": required revision has been compacted (compacted at ",
                     response.compact_revision(), ")"),
        EtcdCondition::kCompacted);
  }
  absl::Status reason = FromEtcdError(
      static_cast<int>(absl::StatusCode::kUnknown), response.cancel_reason());
  absl::Status status =
      reason.ok() ? absl::CancelledError("watch cancelled") : reason;
  if (response.cancel_reason().empty()) {
    status = absl::CancelledError(
        absl::StrCat("etcd cancelled the watch on \"", key, "\""));
  }
  return status;
}

void Watcher::State::FinishBatch(int64_t revision) {
  WatchBatch batch;
  batch.revision = revision;
  for (Event& e : fragments) {
    // After a reconnect etcd may repeat what was already delivered.
    if (e.kv.mod_revision < next_revision) continue;
    batch.events.push_back(std::move(e));
  }
  const bool had_events = !fragments.empty();
  fragments.clear();
  if (!batch.events.empty()) {
    next_revision = batch.events.back().kv.mod_revision + 1;
    ready.push_back(std::move(batch));
  } else if (!had_events) {
    // A progress notification: everything up to `revision` was sent.
    next_revision = std::max(next_revision, revision + 1);
    if (options.progress_notify) {
      batch.progress = true;
      ready.push_back(std::move(batch));
    }
  }
}

// One Watch call. Owned by WatchStream (shared with in-flight callbacks);
// writes are queued because gRPC allows one at a time. A hold keeps the call
// open until Release().
class WatchStream::Call
    : public grpc::ClientBidiReactor<etcdserverpb::WatchRequest,
                                     etcdserverpb::WatchResponse> {
 public:
  explicit Call(WatchStream* owner) : owner_(owner) {}

  // Starts the call on `channel`, unless it was released first (its
  // channel retired meanwhile): then it returns false, gRPC never hears of
  // it and OnDone will not come. `hook` is the channel's retire hook.
  bool Begin(std::shared_ptr<grpc::Channel> channel, int64_t hook) {
    absl::MutexLock lock(&mu_);
    channel_ = std::move(channel);
    hook_ = hook;
    if (released_) return false;
    started_ = true;
    stub_ = etcdserverpb::Watch::NewStub(channel_);
    owner_->conn_->PrepareContext(&context_, absl::InfiniteFuture());
    stub_->async()->Watch(&context_, this);
    AddHold();
    StartRead(&response_);
    StartCall();
    return true;
  }

  // Set in Begin, constant after it.
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  int64_t hook() const { return hook_; }

  void Enqueue(etcdserverpb::WatchRequest request) {
    absl::MutexLock lock(&mu_);
    if (released_ || !started_) return;
    pending_.push_back(std::move(request));
    if (!writing_) {
      writing_ = true;
      StartWrite(&pending_.front());  // gRPC never calls back inline.
    }
  }

  void Release() {
    absl::MutexLock lock(&mu_);
    if (released_) return;
    released_ = true;
    if (!started_) return;  // Begin() will see released_ and not start
    context_.TryCancel();
    RemoveHold();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    pending_.pop_front();
    if (!ok || released_ || pending_.empty()) {
      writing_ = false;
      return;
    }
    StartWrite(&pending_.front());
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Release();
      return;
    }
    owner_->OnResponse(this, response_);
    StartRead(&response_);
  }

  void OnDone(const grpc::Status& /*status*/) override {
    owner_->OnCallDone(this);  // May destroy *this: nothing after it.
  }

 private:
  WatchStream* const owner_;
  std::shared_ptr<grpc::Channel> channel_;
  int64_t hook_ = 0;
  std::unique_ptr<etcdserverpb::Watch::Stub> stub_;
  grpc::ClientContext context_;
  etcdserverpb::WatchResponse response_;

  absl::Mutex mu_;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<etcdserverpb::WatchRequest> pending_ ABSL_GUARDED_BY(mu_);
};

Watcher::~Watcher() { stream_->CancelWatcher(state_); }

void Watcher::Cancel(absl::Time deadline) {
  absl::MutexLock lock(&stream_->mu_);
  stream_->CancelWatcherLocked(state_);
  stream_->mu_.AwaitWithDeadline(
      absl::Condition(
          +[](State* st) { return st->cancel_confirmed; }, state_.get()),
      deadline);
}

absl::StatusOr<WatchBatch> Watcher::Next(absl::Time deadline) {
  absl::MutexLock lock(&stream_->mu_);
  State* s = state_.get();
  stream_->mu_.AwaitWithDeadline(
      absl::Condition(
          +[](State* st) { return !st->ready.empty() || !st->error.ok(); }, s),
      deadline);
  if (!s->ready.empty()) {
    WatchBatch batch = std::move(s->ready.front());
    s->ready.pop_front();
    return batch;
  }
  if (!s->error.ok()) return s->error;
  return absl::DeadlineExceededError("no watch event before the deadline");
}

absl::StatusOr<std::optional<WatchBatch>> Watcher::TryNext() {
  absl::MutexLock lock(&stream_->mu_);
  State* s = state_.get();
  if (!s->ready.empty()) {
    WatchBatch batch = std::move(s->ready.front());
    s->ready.pop_front();
    return std::optional<WatchBatch>(std::move(batch));
  }
  if (!s->error.ok()) return s->error;
  return std::optional<WatchBatch>();
}

int64_t Watcher::next_revision() const {
  absl::MutexLock lock(&stream_->mu_);
  return state_->next_revision;
}

WatchStream::WatchStream(Connection* conn) : conn_(conn) {
  absl::MutexLock lock(&mu_);
  reopen_delay_ = kFirstReopenDelay;
}

WatchStream::~WatchStream() {
  std::vector<std::shared_ptr<Call>> calls;
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
    calls = calls_;
    current_ = nullptr;
    if (alarm_armed_) alarm_->Cancel();
  }
  for (const auto& c : calls) c->Release();
  calls.clear();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](WatchStream* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
        return self->calls_.empty() && !self->alarm_armed_;
      },
      this));
}

void WatchStream::OpenCallLocked() {
  auto call = std::make_shared<Call>(this);
  // A retired channel (its connection stopped answering) ends the call, so
  // that the watchers resume on a fresh connection.
  std::weak_ptr<Call> weak = call;
  int64_t hook = 0;
  std::shared_ptr<grpc::Channel> channel = conn_->StreamChannel(
      [weak] {
        if (std::shared_ptr<Call> c = weak.lock()) c->Release();
      },
      &hook);
  if (!call->Begin(std::move(channel), hook)) {
    // Retired before it started: try again shortly.
    conn_->ForgetRetire(hook);
    current_ = nullptr;
    ScheduleReopenLocked();
    return;
  }
  current_ = call;
  calls_.push_back(current_);
  unanswered_creates_.clear();
  for (auto& [id, state] : watchers_) {
    state->created = false;
    state->fragments.clear();
    if (state->error.ok()) SendCreateLocked(*state);
  }
}

void WatchStream::SendCreateLocked(Watcher::State& state) {
  etcdserverpb::WatchRequest request;
  etcdserverpb::WatchCreateRequest* create = request.mutable_create_request();
  create->set_key(state.key);
  if (state.options.prefix) {
    create->set_range_end(PrefixRangeEnd(state.key));
  } else {
    create->set_range_end(state.options.range_end);
  }
  create->set_start_revision(state.next_revision != 0
                                 ? state.next_revision
                                 : state.options.start_revision);
  create->set_progress_notify(state.options.progress_notify);
  create->set_prev_kv(state.options.prev_kv);
  if (state.options.no_put) {
    create->add_filters(etcdserverpb::WatchCreateRequest::NOPUT);
  }
  if (state.options.no_delete) {
    create->add_filters(etcdserverpb::WatchCreateRequest::NODELETE);
  }
  create->set_watch_id(state.id);
  create->set_fragment(true);
  unanswered_creates_.push_back(state.id);
  current_->Enqueue(std::move(request));
}

absl::StatusOr<std::unique_ptr<Watcher>> WatchStream::Watch(
    std::string key, WatchOptions options, absl::Time deadline) {
  if (!options.await_created && options.start_revision <= 0) {
    return absl::InvalidArgumentError(
        "a watch that does not await etcd's confirmation needs a start "
        "revision");
  }
  auto state = std::make_shared<Watcher::State>();
  state->key = std::move(key);
  state->options = std::move(options);
  if (state->options.start_revision > 0) {
    state->next_revision = state->options.start_revision;
  }
  std::unique_ptr<Watcher> watcher;
  {
    absl::MutexLock lock(&mu_);
    if (closing_) return absl::CancelledError("watch stream is closing");
    state->id = next_id_++;
    watchers_[state->id] = state;
    if (current_ == nullptr) {
      if (!alarm_armed_) OpenCallLocked();
    } else {
      SendCreateLocked(*state);
    }
    if (!state->options.await_created) {
      return std::unique_ptr<Watcher>(new Watcher(this, state));
    }
    mu_.AwaitWithDeadline(
        absl::Condition(
            +[](Watcher::State* st) { return st->created || !st->error.ok(); },
            state.get()),
        deadline);
    watcher.reset(new Watcher(this, state));
    if (state->created && state->error.ok()) return watcher;
  }
  absl::Status error;
  {
    absl::MutexLock lock(&mu_);
    error = state->error.ok() ? absl::UnavailableError(absl::StrCat(
                                    "etcd did not confirm the watch on \"",
                                    state->key, "\" before the deadline"))
                              : state->error;
  }
  watcher.reset();  // cancels
  return error;
}

void WatchStream::RequestProgress() {
  absl::MutexLock lock(&mu_);
  if (current_ == nullptr) return;
  etcdserverpb::WatchRequest request;
  request.mutable_progress_request();
  current_->Enqueue(std::move(request));
}

bool WatchStream::open() const {
  absl::MutexLock lock(&mu_);
  if (current_ == nullptr) return false;
  for (const auto& [id, state] : watchers_) {
    if (!state->created && state->error.ok()) return false;
  }
  return true;
}

int64_t WatchStream::interruptions() const {
  absl::MutexLock lock(&mu_);
  return interruptions_;
}

int64_t WatchStream::reconnects() const {
  absl::MutexLock lock(&mu_);
  return reconnects_;
}

void WatchStream::CancelWatcher(const std::shared_ptr<Watcher::State>& state) {
  absl::MutexLock lock(&mu_);
  CancelWatcherLocked(state);
}

void WatchStream::CancelWatcherLocked(
    const std::shared_ptr<Watcher::State>& state) {
  if (state->cancelled) return;
  state->cancelled = true;
  watchers_.erase(state->id);
  // While a call is open, every live watcher's create request was queued on
  // it (at open or in Watch), and etcd handles a stream's requests in
  // order: a cancel sent before the "created" answer still finds it.
  if (current_ != nullptr && state->error.ok()) {
    etcdserverpb::WatchRequest request;
    request.mutable_cancel_request()->set_watch_id(state->id);
    current_->Enqueue(std::move(request));
    cancelling_[state->id] = state;
  } else {
    state->cancel_confirmed = true;  // etcd has no watcher for it
  }
}

void WatchStream::OnResponse(Call* call,
                             const etcdserverpb::WatchResponse& response) {
  absl::MutexLock lock(&mu_);
  if (current_.get() != call) return;  // a call being replaced
  const int64_t revision = response.header().revision();

  if (response.watch_id() == -1 && !response.created() &&
      !response.canceled()) {
    // A progress answer for the whole stream (RequestProgress): etcd only
    // sends it when every watcher has caught up.
    for (auto& [id, state] : watchers_) state->OnStreamProgress(revision);
    changed_.SignalAll();
    return;
  }

  const int64_t id = AnsweredWatchId(response, &unanswered_creates_);
  if (auto c = cancelling_.find(id); c != cancelling_.end()) {
    // Events sent before etcd saw our cancel are dropped; the "canceled"
    // answer is the confirmation Watcher::Cancel waits for.
    if (response.canceled()) {
      c->second->cancel_confirmed = true;
      cancelling_.erase(c);
      changed_.SignalAll();
    }
    return;
  }
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return;  // cancelled by us meanwhile
  Watcher::State& state = *it->second;

  if (response.created()) {
    state.created = true;
    if (state.next_revision == 0) state.next_revision = revision + 1;
    reopen_delay_ = kFirstReopenDelay;
  }
  if (response.canceled()) {
    state.error = state.CancelStatus(response);
    if (state.options.on_ready) state.options.on_ready();
    watchers_.erase(it);
    changed_.SignalAll();
    return;
  }
  if (response.created()) {
    changed_.SignalAll();
    return;
  }

  for (const mvccpb::Event& e : response.events()) {
    state.fragments.push_back(internal::FromProto(e));
  }
  if (response.fragment()) return;  // more of this batch follows
  state.FinishBatch(revision);
  if (!state.ready.empty() && state.options.on_ready) state.options.on_ready();
  changed_.SignalAll();
}

void WatchStream::OnCallDone(Call* call) {
  conn_->ForgetRetire(call->hook());
  bool was_current;
  {
    absl::MutexLock lock(&mu_);
    was_current = current_.get() == call;
  }
  // Outside the lock, since retiring the channel runs other streams' hooks.
  // `this` is still alive: calls_ holds the call, and the destructor waits
  // for calls_ to empty.
  if (was_current) conn_->ReportUnavailable(call->channel());
  absl::MutexLock lock(&mu_);
  if (current_.get() == call) {
    current_ = nullptr;
    if (!closing_) ++interruptions_;
    for (auto& [id, state] : watchers_) state->created = false;
    // The server forgot every watcher of the broken stream.
    for (auto& [id, state] : cancelling_) state->cancel_confirmed = true;
    cancelling_.clear();
    if (!closing_) ScheduleReopenLocked();
  }
  auto it = std::find_if(
      calls_.begin(), calls_.end(),
      [call](const std::shared_ptr<Call>& c) { return c.get() == call; });
  if (it != calls_.end()) calls_.erase(it);  // may destroy *call
  changed_.SignalAll();
}

void WatchStream::ScheduleReopenLocked() {
  if (alarm_armed_) return;
  alarm_armed_ = true;
  alarm_ = std::make_unique<grpc::Alarm>();
  alarm_->Set(absl::ToChronoTime(absl::Now() + reopen_delay_),
              [this](bool) { OnAlarm(); });
  reopen_delay_ = std::min(reopen_delay_ * 2, kMaxReopenDelay);
}

void WatchStream::OnAlarm() {
  absl::MutexLock lock(&mu_);
  alarm_armed_ = false;
  if (!closing_ && current_ == nullptr) {
    ++reconnects_;
    OpenCallLocked();
  }
  changed_.SignalAll();
}

}  // namespace conch::etcd
