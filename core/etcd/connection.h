// Connection: the link to an etcd cluster that every other client piece
// (Kv, Leases, KeepAlive, WatchStream, Maintenance) borrows.
//
// It owns one gRPC channel per endpoint, knows which endpoint is current and
// moves to the next one when a call reports Unavailable, carries TLS
// credentials and the etcd auth token, and prepares every call's context:
// a deadline, `hasleader=true` (so a member cut off from quorum answers at
// once instead of serving stale state) and `token` when auth is on. It holds
// no RPCs itself: each service lives in its own class.
//
// A connection that stops answering is not trusted again: when a call or a
// stream reports its channel unavailable or timed out (ReportUnavailable),
// that channel is *retired*. The next call on that endpoint dials a fresh
// TCP connection (a NAT or load balancer that lost the old flow leaves it
// dead for good), the streams registered on the retired channel
// (StreamChannel) are cancelled so that they re-open on the fresh one, and
// with several endpoints the next endpoint becomes current. A channel is
// retired at most once a second (a refused connection is left to gRPC's
// own reconnect backoff). Every channel also
// sends HTTP/2 keepalive pings (every 10 s, etcd refuses more often than
// every 5 s by default), so an idle stream on a dead connection ends too.
//
// Dial() connects before returning: it fails with Unavailable when no
// endpoint becomes ready within `dial_timeout`, with InvalidArgument for bad
// TLS files, and with Unauthenticated when etcd refuses the credentials.
//
// Ownership: the caller owns the Connection and must keep it alive while any
// object that borrows it exists. Thread-safe.
//
// Example:
//   ConnectionOptions opts;
//   opts.endpoints = *ParseEndpoints("127.0.0.1:2379");
//   absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Dial(opts);
//   if (!conn.ok()) return conn.status();
//   Kv kv(conn->get());
#ifndef CONCH_CORE_ETCD_CONNECTION_H_
#define CONCH_CORE_ETCD_CONNECTION_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/etcd/endpoint.h"

namespace grpc {
class Channel;
class ClientContext;
class ChannelCredentials;
}  // namespace grpc

namespace conch::etcd {

struct ConnectionOptions {
  std::vector<Endpoint> endpoints;
  absl::Duration dial_timeout = absl::Seconds(5);
  // PEM files; empty means unset. A CA alone verifies the server; cert+key
  // present a client certificate.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // etcd auth; empty user means no auth.
  std::string user;
  std::string password;
};

class Connection {
 public:
  static absl::StatusOr<std::unique_ptr<Connection>> Dial(
      ConnectionOptions options);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // How many times Authenticate succeeded (1 after Dial with a user; more
  // after re-authentication on "invalid auth token").
  int64_t authentications() const ABSL_LOCKS_EXCLUDED(mu_);

  // The endpoint calls currently go to.
  Endpoint current_endpoint() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t endpoint_count() const { return endpoints_.size(); }

  // --- For core/ internals (Kv, Leases, streams). ---

  // The channel of the current endpoint.
  std::shared_ptr<grpc::Channel> channel() const ABSL_LOCKS_EXCLUDED(mu_);

  // Sets the deadline and the metadata etcd expects. Returns the token used
  // (empty without auth), to hand to Reauthenticate if etcd rejects it.
  std::string PrepareContext(grpc::ClientContext* context,
                             absl::Time deadline) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // A call or stream on `used` failed with Unavailable or timed out:
  // retire `used` (see above) and move on to the next endpoint, unless
  // another caller already did. Runs the OnRetire callbacks of `used` on
  // the calling thread: call it without holding locks those callbacks
  // take.
  void ReportUnavailable(const std::shared_ptr<grpc::Channel>& used)
      ABSL_LOCKS_EXCLUDED(mu_);

  // For streams, which must leave a retired channel: the channel of the
  // current endpoint, like channel(), and `on_retire` is called once (from
  // ReportUnavailable's thread) if that channel is retired. *handle is for
  // ForgetRetire: call it before whatever `on_retire` touches goes away.
  std::shared_ptr<grpc::Channel> StreamChannel(std::function<void()> on_retire,
                                               int64_t* handle)
      ABSL_LOCKS_EXCLUDED(mu_);
  void ForgetRetire(int64_t handle) ABSL_LOCKS_EXCLUDED(mu_);

  // Failed unary calls so far (each failed attempt, retries included), by
  // absl::StatusCode: conchd's conch_etcd_rpc_errors_total. CountError is
  // for core/ internals (the call policy in internal/grpc_call.h).
  std::array<uint64_t, 17> ErrorCounts() const;
  void CountError(absl::StatusCode code);

  // How many channels were retired (for tests).
  int64_t retired_channels() const ABSL_LOCKS_EXCLUDED(mu_);

  // etcd said "invalid auth token" for `stale_token`: fetch a new token
  // (once per stale token, however many callers saw it).
  absl::Status Reauthenticate(const std::string& stale_token,
                              absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  Connection(ConnectionOptions options,
             std::shared_ptr<grpc::ChannelCredentials> tls_credentials);

  absl::Status WaitForAnyEndpoint(absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Authenticate(absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_);
  std::shared_ptr<grpc::Channel> ChannelFor(size_t index)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Constant after construction.
  const std::vector<Endpoint> endpoints_;
  const std::string user_;
  const std::string password_;
  const std::shared_ptr<grpc::ChannelCredentials> tls_credentials_;

  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_ ABSL_GUARDED_BY(mu_);
  // When each channel was dialled: a channel younger than
  // kMinChannelAge is not retired (etcd down would otherwise make every
  // failed call dial again, with none of gRPC's reconnect backoff).
  std::vector<absl::Time> dialled_ ABSL_GUARDED_BY(mu_);
  static constexpr absl::Duration kMinChannelAge = absl::Seconds(1);
  size_t current_ ABSL_GUARDED_BY(mu_) = 0;
  std::string token_ ABSL_GUARDED_BY(mu_);
  int64_t authentications_ ABSL_GUARDED_BY(mu_) = 0;
  struct RetireHook {
    const grpc::Channel* channel;
    std::function<void()> run;
  };
  std::map<int64_t, RetireHook> retire_hooks_ ABSL_GUARDED_BY(mu_);
  // Retired channels are destroyed only once nothing else holds them and
  // a while has passed: never by the last stream's callback that lets go
  // of it (gRPC does not allow a channel to die inside its own callback).
  struct Retired {
    std::shared_ptr<grpc::Channel> channel;
    absl::Time at;
  };
  std::vector<Retired> graveyard_ ABSL_GUARDED_BY(mu_);
  int64_t next_hook_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t retired_ ABSL_GUARDED_BY(mu_) = 0;
  std::array<std::atomic<uint64_t>, 17> errors_{};
};

}  // namespace conch::etcd

#endif  // CONCH_CORE_ETCD_CONNECTION_H_
