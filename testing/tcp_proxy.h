// A fault-injecting TCP proxy for tests: put it between a client and a
// loopback server (typically etcd) and make the network pass, drop, reset or
// delay traffic on command, without touching either process.
//
// What it does: TcpProxy::Start listens on 127.0.0.1 (on a free port unless
// `listen_port` is given) and forwards every accepted connection to
// 127.0.0.1:`target_port`. One background thread serves all connections with
// a poll(2) loop; control calls wake it through a pipe.
//
// Contract:
//   * Only loopback: the target is always 127.0.0.1. ParseLoopbackTarget
//     turns "PORT", "127.0.0.1:PORT" or "localhost:PORT" into a port and
//     refuses any other host.
//   * Modes (SetMode), switchable at any time:
//       kPass       bytes flow both ways, half-closes (FIN) and resets are
//                   passed on.
//       kBlackhole  connections stay open but carry nothing while the mode
//                   lasts (a network partition): what either side sends
//                   meanwhile is held, up to 16 MiB per direction (then TCP
//                   flow control stops the sender), and delivered in order
//                   once the mode ends, as TCP's retransmissions would
//                   deliver it after the partition heals; a FIN or reset
//                   too. New connections are accepted and connected
//                   upstream at once, and carry nothing until it ends.
//       kReset      every connection is reset (closed with SO_LINGER {1, 0}
//                   on both sides, so both peers see ECONNRESET), and so is
//                   every connection accepted while the mode lasts.
//       kDelay      every chunk is delivered `delay` after it was read, in
//                   order, per direction. The proxy keeps reading meanwhile,
//                   so the delay is latency, not a throughput limit.
//       kPassNew    connections that exist when the mode is set are dead
//                   forever: their bytes are discarded and the proxy never
//                   closes them (only kReset or destruction does), whatever
//                   the mode later. Connections accepted from then on behave
//                   as in kPass (and follow later modes). This models a NAT
//                   or load balancer that lost its flow state.
//   * SetMode returns once the loop applied the mode. Bytes (and
//     connections) that reached the proxy's sockets before SetMode was
//     called are handled under the old mode, those read afterwards under the
//     new one, so tests need no sleeps. Concurrent SetMode calls are applied
//     in the order they took the lock.
//   * If the upstream connect fails, the client connection is reset (the
//     client saw its connect succeed, as with any proxy).
//   * Up to 16 MiB per direction may wait inside the proxy (kPass, kDelay);
//     beyond that it stops reading that side, so TCP flow control applies.
//   * The destructor stops the thread and closes every socket (peers see EOF
//     or, if the proxy had unread bytes from them, a reset).
//
// Ownership and thread-safety: a TcpProxy owns its listening socket, its
// connections and its thread; it is neither copyable nor movable (hold it in
// the std::unique_ptr Start returns). All methods are thread-safe; destroy
// it once no other thread uses it.
//
// Example:
//   absl::StatusOr<std::unique_ptr<conch::test::TcpProxy>> proxy =
//       conch::test::TcpProxy::Start(etcd->client_port());
//   ASSERT_TRUE(proxy.ok()) << proxy.status();
//   // Point the client at (*proxy)->endpoint() instead of etcd->endpoint().
//   (*proxy)->SetMode(conch::test::TcpProxy::Mode::kBlackhole);
//   ...  // the client's requests now hang; expect its timeouts
//   (*proxy)->SetMode(conch::test::TcpProxy::Mode::kDelay,
//                     absl::Milliseconds(200));
//   (*proxy)->SetMode(conch::test::TcpProxy::Mode::kPassNew);
//   ...  // old connections are dead; the client must reconnect
#ifndef CONCH_TESTING_TCP_PROXY_H_
#define CONCH_TESTING_TCP_PROXY_H_

#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace conch::test {

class TcpProxy {
 public:
  enum class Mode { kPass, kBlackhole, kReset, kDelay, kPassNew };

  // Listens on 127.0.0.1:`listen_port` (0: a free port) and starts the loop.
  // InvalidArgument if a port is out of range; Internal (with the errno
  // text) if a socket call fails.
  static absl::StatusOr<std::unique_ptr<TcpProxy>> Start(int target_port,
                                                         int listen_port = 0);

  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;
  ~TcpProxy();

  // The port the proxy listens on, and "127.0.0.1:PORT".
  int port() const { return port_; }
  std::string endpoint() const;
  int target_port() const { return target_port_; }

  // Switches mode (see the header comment); `delay` is used by kDelay only
  // (negative counts as zero). Returns once the loop applied it.
  void SetMode(Mode mode, absl::Duration delay = absl::ZeroDuration());
  Mode mode() const;

  // Connections accepted since Start (including those reset at once).
  int64_t connections_accepted() const;
  // Connections the proxy holds now (dead kPassNew ones included).
  int open_connections() const;

 private:
  struct Connection;
  struct ModeChange {
    Mode mode;
    absl::Duration delay;
  };

  TcpProxy(int target_port, int port, int listen_fd, int wake_read_fd,
           int wake_write_fd);

  void Wake();
  // The loop thread's body and its helpers; see tcp_proxy.cc.
  void Loop();
  void ApplyModeChanges();
  void ServeOnce(int timeout_ms);
  void AcceptAll();
  void ReadSide(Connection& c, int side);
  void FlushAndReap();
  int NextTimeoutMs() const;
  // Whether bytes may be written on now (not blackholed, not dead).
  bool Delivers(const Connection& c) const;
  // Whether bytes read from it are dropped (a dead kPassNew connection).
  bool Discards(const Connection& c) const;
  void PublishCounts();

  // Constant after construction.
  const int target_port_;
  const int port_;
  const int listen_fd_;
  const int wake_read_fd_;
  const int wake_write_fd_;

  // Owned by the loop thread (touched by no other thread while it runs).
  Mode loop_mode_ = Mode::kPass;
  absl::Duration loop_delay_ = absl::ZeroDuration();
  std::list<Connection> connections_;
  int64_t loop_accepted_ = 0;

  // std::mutex, not absl::Mutex: Debian's abseil is not built for
  // ThreadSanitizer, which then cannot see absl::Mutex's happens-before
  // edges (see core/base/work_pool.h).
  mutable std::mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Mode mode_ ABSL_GUARDED_BY(mu_) = Mode::kPass;
  // Mode changes requested but not applied yet, oldest first.
  std::vector<ModeChange> pending_ ABSL_GUARDED_BY(mu_);
  int64_t requested_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t applied_ ABSL_GUARDED_BY(mu_) = 0;
  std::condition_variable applied_cv_;  // notified when applied_ grows
  int64_t accepted_ ABSL_GUARDED_BY(mu_) = 0;
  int open_ ABSL_GUARDED_BY(mu_) = 0;

  // Last: starts after everything above is initialized.
  std::thread thread_;
};

// "PORT", "127.0.0.1:PORT" or "localhost:PORT" -> PORT; InvalidArgument for
// any other host (the proxy never forwards off this machine) or a bad port.
absl::StatusOr<int> ParseLoopbackTarget(absl::string_view target);

}  // namespace conch::test

#endif  // CONCH_TESTING_TCP_PROXY_H_
