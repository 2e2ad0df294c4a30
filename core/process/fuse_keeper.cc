#include "core/process/fuse_keeper.h"

#include <utility>

namespace conch {

FuseKeeper::Listener FuseKeeper::DeadlineListener() {
  return [this](MonoTime deadline, const absl::Status& status) {
    if (!status.ok()) return;  // the owner's loop acts on a loss itself
    std::lock_guard<std::mutex> lock(mu_);
    if (current_ != nullptr) current_->SetDeadline(deadline);
  };
}

absl::StatusOr<std::shared_ptr<const Fuse>> FuseKeeper::Current() {
  std::lock_guard<std::mutex> lock(mu_);
  if (current_ != nullptr && current_->GuardAlive() && !current_->Fired()) {
    return current_;
  }
  if (current_ != nullptr && current_->Fired()) ++fired_;
  current_.reset();
  absl::StatusOr<std::unique_ptr<Fuse>> started = Fuse::Start(kill_after_);
  if (!started.ok()) return started.status();
  current_ = *std::move(started);
  return current_;
}

void FuseKeeper::Retire() {
  std::lock_guard<std::mutex> lock(mu_);
  if (current_ != nullptr && current_->Fired()) ++fired_;
  current_.reset();
}

}  // namespace conch
