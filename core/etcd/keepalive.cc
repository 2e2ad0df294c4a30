#include "core/etcd/keepalive.h"

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/etcd/etcd_status.h"
#include "third_party/etcd_protos/rpc.grpc.pb.h"

namespace conch::etcd {

// One LeaseKeepAlive stream. Created and owned by KeepAlive; it tells its
// owner about answers and, as its very last act, that it is done.
//
// A hold keeps the call open (no OnDone) until Release(), so that Send()
// may start a write at any time before that.
class KeepAlive::Stream
    : public grpc::ClientBidiReactor<etcdserverpb::LeaseKeepAliveRequest,
                                     etcdserverpb::LeaseKeepAliveResponse> {
 public:
  Stream(KeepAlive* owner, std::shared_ptr<grpc::Channel> channel)
      : owner_(owner),
        channel_(std::move(channel)),
        stub_(etcdserverpb::Lease::NewStub(channel_)) {
    owner_->conn_->PrepareContext(&context_, absl::InfiniteFuture());
    request_.set_id(owner_->id_);
  }

  // Starts the call, unless the stream was released first (a destructor
  // racing with OpenStream): then it returns false, gRPC never hears of
  // it, and OnDone will not come — the owner forgets the stream itself.
  // (gRPC never runs a reactor callback inline, so holding mu_ here cannot
  // deadlock with OnReadDone → Release.)
  bool Begin() {
    absl::MutexLock lock(&mu_);
    if (released_) return false;
    started_ = true;
    stub_->async()->LeaseKeepAlive(&context_, this);
    AddHold();
    StartRead(&response_);
    StartCall();
    return true;
  }

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  // Sends one keepalive unless one is being written or the stream is
  // released. Returns whether it did.
  bool Send(MonoTime now) {
    absl::MutexLock lock(&mu_);
    if (released_ || writing_.exchange(true)) return false;
    sent_.push_back(now);
    StartWrite(&request_);  // OnWriteDone only touches writing_.
    return true;
  }

  // When the oldest unanswered keepalive was sent (Infinite if none).
  MonoTime OldestUnanswered() {
    absl::MutexLock lock(&mu_);
    return sent_.empty() ? MonoTime::Infinite() : sent_.front();
  }

  // Ends the stream; OnDone follows once gRPC is finished with it.
  void Release() {
    absl::MutexLock lock(&mu_);
    if (released_) return;
    released_ = true;
    if (!started_) return;  // Begin() will see released_ and not start
    context_.TryCancel();
    RemoveHold();
  }

  void OnWriteDone(bool /*ok*/) override { writing_ = false; }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Release();
      return;
    }
    MonoTime sent_at;
    {
      absl::MutexLock lock(&mu_);
      // etcd answers keepalives in order; an answer with nothing pending
      // cannot be attributed, so it extends nothing.
      if (sent_.empty()) {
        sent_at = MonoTime();
      } else {
        sent_at = sent_.front();
        sent_.pop_front();
      }
    }
    if (sent_at != MonoTime()) {
      owner_->OnAnswer(this, sent_at, response_.ttl());
    }
    StartRead(&response_);
  }

  void OnDone(const grpc::Status& /*status*/) override {
    owner_->OnStreamDone(this);  // May destroy *this: nothing after it.
  }

 private:
  KeepAlive* const owner_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<etcdserverpb::Lease::Stub> stub_;
  grpc::ClientContext context_;
  etcdserverpb::LeaseKeepAliveRequest request_;
  etcdserverpb::LeaseKeepAliveResponse response_;
  std::atomic<bool> writing_{false};

  absl::Mutex mu_;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<MonoTime> sent_ ABSL_GUARDED_BY(mu_);
};

std::unique_ptr<KeepAlive> KeepAlive::Start(Connection* conn,
                                            const LeaseGrant& grant,
                                            Listener listener,
                                            absl::Duration loss_lead) {
  std::unique_ptr<KeepAlive> ka(
      new KeepAlive(conn, grant, std::move(listener), loss_lead));
  ka->OpenStream();
  absl::MutexLock lock(&ka->mu_);
  ka->SetAlarmLocked(MonoNow() + ka->ttl_ / 3);
  return ka;
}

KeepAlive::KeepAlive(Connection* conn, const LeaseGrant& grant,
                     Listener listener, absl::Duration loss_lead)
    : conn_(conn),
      id_(grant.id),
      listener_(std::move(listener)),
      loss_lead_(loss_lead) {
  absl::MutexLock lock(&mu_);
  deadline_ = grant.sent_at + grant.ttl;
  ttl_ = grant.ttl;
}

KeepAlive::~KeepAlive() {
  std::vector<std::shared_ptr<Stream>> to_release;
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
    to_release = streams_;
    current_ = nullptr;
    retired_.clear();
    if (alarm_armed_) alarm_->Cancel();
  }
  // A stream's OnDone takes mu_, so release outside the lock; the copies
  // keep the objects valid meanwhile.
  for (const auto& s : to_release) s->Release();
  to_release.clear();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](KeepAlive* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
        return self->streams_.empty() && !self->alarm_armed_;
      },
      this));
}

void KeepAlive::LatchDeadlineLocked(MonoTime now) const {
  if (lost_.ok() && now >= deadline_ - loss_lead_) {
    lost_ = absl::DeadlineExceededError(absl::StrCat(
        "lease ", LeaseHex(id_), ": no keepalive answer in time (",
        loss_lead_ == absl::ZeroDuration()
            ? std::string("its local deadline passed")
            : absl::StrCat("its local deadline was ",
                           absl::FormatDuration(absl::Trunc(
                               deadline_ - now, absl::Milliseconds(1))),
                           " away, and the holder stops ",
                           absl::FormatDuration(loss_lead_), " before it"),
        ")"));
    changed_.SignalAll();
  }
}

MonoTime KeepAlive::deadline() const {
  absl::MutexLock lock(&mu_);
  return deadline_;
}

MonoTime KeepAlive::loss_at() const {
  absl::MutexLock lock(&mu_);
  return deadline_ - loss_lead_;
}

int64_t KeepAlive::answers() const {
  absl::MutexLock lock(&mu_);
  return answers_;
}

absl::Status KeepAlive::status() const {
  absl::MutexLock lock(&mu_);
  LatchDeadlineLocked(MonoNow());
  return lost_;
}

absl::Status KeepAlive::WaitLost(MonoTime until) const {
  absl::MutexLock lock(&mu_);
  while (true) {
    const MonoTime now = MonoNow();
    LatchDeadlineLocked(now);
    if (!lost_.ok()) return lost_;
    if (now >= until) return absl::OkStatus();
    const MonoTime wake = std::min(until, deadline_ - loss_lead_);
    changed_.WaitWithTimeout(&mu_, wake - now);
  }
}

std::shared_ptr<KeepAlive::Stream> KeepAlive::OpenStream() {
  std::shared_ptr<Stream> stream;
  {
    absl::MutexLock lock(&mu_);
    if (closing_ || !lost_.ok()) return nullptr;
    stream = std::make_shared<Stream>(this, conn_->channel());
    streams_.push_back(stream);
    current_ = stream;
  }
  // The stream holds a hold from Begin() until Release(), so it cannot
  // finish (and leave streams_) before Send() below.
  if (!stream->Begin()) {
    // Released before it started (the destructor ran meanwhile): no OnDone
    // will come, so take it out of streams_ here.
    OnStreamDone(stream.get());
    return nullptr;
  }
  stream->Send(MonoNow());
  return stream;
}

void KeepAlive::SetAlarmLocked(MonoTime at) {
  alarm_armed_ = true;
  alarm_ = std::make_unique<grpc::Alarm>();
  // gRPC runs the callback on its own threads, never inside Set().
  alarm_->Set(absl::ToChronoTime(ToWallDeadline(at)),
              [this](bool) { OnAlarm(); });
}

void KeepAlive::OnAlarm() {
  // The alarm also fires early (cancelled) when a stream ended, so that a
  // new one is opened at once; what to do is decided from the state alone.
  std::shared_ptr<Stream> stream;
  std::vector<std::shared_ptr<Stream>> to_release;
  absl::Duration interval;
  const MonoTime now = MonoNow();
  {
    absl::MutexLock lock(&mu_);
    LatchDeadlineLocked(now);
    if (closing_ || !lost_.ok()) {
      alarm_armed_ = false;
      changed_.SignalAll();
      return;
    }
    interval = ttl_ / 3;
    stream = current_;
    // A replaced stream that has nothing left to answer is of no more use.
    for (auto it = retired_.begin(); it != retired_.end();) {
      if ((*it)->OldestUnanswered() == MonoTime::Infinite()) {
        to_release.push_back(*it);
        it = retired_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& r : to_release) r->Release();
  to_release.clear();
  MonoTime next = now + interval;
  if (stream == nullptr) {
    if (OpenStream() == nullptr) next = now;  // closing or lost
    next = std::min(next, now + absl::Milliseconds(250));
  } else if (now - stream->OldestUnanswered() >= interval) {
    // The endpoint has sat on a keepalive for TTL/3: retire its connection
    // (the next call dials afresh, or goes to the next endpoint) and send
    // again on a new stream at once. The old stream stays open: its late
    // answer still extends the deadline.
    {
      absl::MutexLock lock(&mu_);
      if (current_ == stream) current_ = nullptr;
      retired_.push_back(stream);
      while (retired_.size() > kMaxRetired) {
        to_release.push_back(retired_.front());
        retired_.pop_front();
      }
    }
    conn_->ReportUnavailable(stream->channel());
    for (const auto& r : to_release) r->Release();
    if (OpenStream() == nullptr) next = now + absl::Milliseconds(50);
  } else {
    stream->Send(now);
  }
  absl::MutexLock lock(&mu_);
  if (closing_ || !lost_.ok()) {
    alarm_armed_ = false;
    changed_.SignalAll();
    return;
  }
  SetAlarmLocked(next);
}

void KeepAlive::OnAnswer(Stream* stream, MonoTime sent_at,
                         int64_t ttl_seconds) {
  (void)stream;
  MonoTime new_deadline;
  absl::Status lost;
  {
    absl::MutexLock lock(&mu_);
    ++answers_;
    LatchDeadlineLocked(MonoNow());
    if (!lost_.ok()) return;
    if (ttl_seconds <= 0) {
      lost_ = MakeEtcdStatus(
          absl::StatusCode::kNotFound,
          absl::StrCat("lease ", LeaseHex(id_),
                       " was revoked or has expired on the server"),
          EtcdCondition::kLeaseNotFound);
      lost = lost_;
      new_deadline = deadline_;
      changed_.SignalAll();
    } else {
      ttl_ = absl::Seconds(ttl_seconds);
      new_deadline = sent_at + ttl_;
      if (new_deadline <= deadline_) return;
      deadline_ = new_deadline;
      changed_.SignalAll();
    }
  }
  if (listener_) listener_(new_deadline, lost);
}

void KeepAlive::OnStreamDone(Stream* stream) {
  std::shared_ptr<grpc::Channel> broken;
  {
    absl::MutexLock lock(&mu_);
    if (current_.get() == stream) {
      broken = stream->channel();
      current_ = nullptr;
    }
  }
  // Outside the lock, since retiring the channel runs other streams' hooks;
  // before the new stream opens, so that it goes to a fresh connection.
  // `this` is still alive: streams_ holds the stream, and the destructor
  // waits for streams_ to empty.
  if (broken != nullptr) conn_->ReportUnavailable(broken);
  absl::MutexLock lock(&mu_);
  // Wake the alarm now so that a new stream opens without waiting a tick.
  if (broken != nullptr && alarm_armed_ && !closing_) alarm_->Cancel();
  auto r = std::find_if(
      retired_.begin(), retired_.end(),
      [stream](const std::shared_ptr<Stream>& s) { return s.get() == stream; });
  if (r != retired_.end()) retired_.erase(r);
  auto it = std::find_if(
      streams_.begin(), streams_.end(),
      [stream](const std::shared_ptr<Stream>& s) { return s.get() == stream; });
  if (it != streams_.end()) streams_.erase(it);  // may destroy *stream
  changed_.SignalAll();
}

}  // namespace conch::etcd
