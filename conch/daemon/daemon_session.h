// DaemonSession: conchd's session, its registration and its fuse.
//
// Open() creates a session (lease, keepalive), registers cron/daemon/<id>
// on its lease (the daemon's liveness: a claim whose daemon key is gone
// and has no result is a zombie) and takes a fuse from the FuseKeeper for
// the runs started under it. When the session is lost the loop stops its
// runs, then Drop()s it: the lease is revoked (best effort), the fuse
// retired (the runs keep theirs until they end), and Reopen() tries again
// at once and then with backoff (1 s to 10 s). Nothing is claimed while
// there is no session.
//
// Ownership: owns the session; borrows the connection, the watch stream,
// the store and the keeper, which must outlive it. Thread-compatible
// (conchd's loop thread).
//
// Example:
//   DaemonSession session(options, &conn, &watches, &store, &fuses, &wake);
//   RETURN_IF_ERROR(session.Open());
//   if (!session.health().ok()) { stop the runs; session.Drop(); }
//   session.Reopen();
#ifndef CONCH_CONCH_DAEMON_DAEMON_SESSION_H_
#define CONCH_CONCH_DAEMON_DAEMON_SESSION_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/base/backoff.h"
#include "core/base/mono_time.h"
#include "core/base/notifier.h"
#include "core/cron/cron.h"
#include "core/etcd/connection.h"
#include "core/etcd/watch.h"
#include "core/process/fuse.h"
#include "core/process/fuse_keeper.h"
#include "core/recipes/session.h"
#include "core/records/records.pb.h"

namespace conch::daemon {

struct DaemonSessionOptions {
  std::string id;
  absl::Duration ttl = absl::Seconds(10);
  absl::Duration kill_after = absl::Seconds(2);
  absl::Duration call_timeout = absl::Seconds(5);
  // The daemon record (host, pid, since, version) to register.
  records::Daemon record;
};

class DaemonSession {
 public:
  DaemonSession(DaemonSessionOptions options, etcd::Connection* conn,
                etcd::WatchStream* watches, const etcd::CronStore* store,
                FuseKeeper* fuses, const Notifier* wake);
  DaemonSession(const DaemonSession&) = delete;
  DaemonSession& operator=(const DaemonSession&) = delete;
  ~DaemonSession() { Close(); }

  // A new session, registered. AlreadyExists when a live daemon has the
  // id.
  absl::Status Open();
  // Open() for a daemon that is starting. When the id is registered
  // already: if that registration is this daemon's previous incarnation,
  // provably dead (same host and boot id, its pid gone), its lease is
  // revoked and the id taken over at once; otherwise it waits, logging
  // why, for that registration to expire (its lease's remaining TTL), and
  // is AlreadyExists only if it is still there after that.
  absl::Status OpenAtStart();
  // Whether there is a session (lost or not).
  bool held() const { return session_ != nullptr; }
  // OK while the session holds (or there is none).
  absl::Status health() const;
  // Let a lost session go (see above).
  void Drop();
  // Without a session, tries to open one when the backoff allows.
  void Reopen();
  // Revokes the lease: the daemon is leaving.
  void Close();

  // Valid while held().
  etcd::LeaseId lease() const { return session_->lease(); }
  const std::string& lease_hex() const { return lease_hex_; }
  MonoTime deadline() const { return session_->deadline(); }
  // When the session counts as lost unless a keepalive answer comes.
  MonoTime loss_at() const { return session_->loss_at(); }
  const std::shared_ptr<const Fuse>& fuse() const { return fuse_; }

  // When Reopen() will next try (without a session).
  MonoTime next_try() const { return next_try_; }

 private:
  // Constant after construction.
  const DaemonSessionOptions o_;
  etcd::Connection* const conn_;
  etcd::WatchStream* const watches_;
  const etcd::CronStore* const store_;
  FuseKeeper* const fuses_;
  const Notifier* const wake_;

  std::unique_ptr<etcd::Session> session_;
  std::string lease_hex_;
  // One fuse per session guards every run started under it.
  std::shared_ptr<const Fuse> fuse_;
  MonoTime next_try_;
  static constexpr BackoffPolicy kRetry{.initial = absl::Seconds(1),
                                        .max = absl::Seconds(10)};
  Backoff retry_;
};

}  // namespace conch::daemon

#endif  // CONCH_CONCH_DAEMON_DAEMON_SESSION_H_
