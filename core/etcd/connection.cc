#include "core/etcd/connection.h"

#include <grpc/support/log.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "core/base/log.h"
#include "core/base/status_macros.h"
#include "core/etcd/internal/grpc_call.h"
#include "core/etcd/pem_file.h"
#include "third_party/etcd_protos/rpc.grpc.pb.h"

namespace conch::etcd {
namespace {

// gRPC's own log lines go to conch's log, at debug level: they never
// reach stderr below -v -v (a bad certificate used to print four of them).
void LogFromGrpc(gpr_log_func_args* args) {
  Log(LogLevel::kDebug, absl::StrCat("grpc: ", args->message));
}

bool WantsTls(const Endpoint& ep, const ConnectionOptions& o) {
  switch (ep.tls) {
    case TlsMode::kOn:
      return true;
    case TlsMode::kOff:
      return false;
    case TlsMode::kIfConfig:
      return !o.ca_file.empty() || !o.cert_file.empty();
  }
  return false;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeTlsCredentials(
    const ConnectionOptions& o) {
  if (o.cert_file.empty() != o.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--cert and --key must be given together");
  }
  grpc::SslCredentialsOptions ssl;
  if (!o.ca_file.empty()) {
    absl::StatusOr<std::string> ca =
        ReadPemFile("--cacert", o.ca_file, PemKind::kCertificates);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
  }
  if (!o.cert_file.empty()) {
    absl::StatusOr<std::string> cert =
        ReadPemFile("--cert", o.cert_file, PemKind::kCertificates);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key =
        ReadPemFile("--key", o.key_file, PemKind::kPrivateKey);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Connection>> Connection::Dial(
    ConnectionOptions options) {
  static std::once_flag grpc_log;
  std::call_once(grpc_log, [] { gpr_set_log_function(&LogFromGrpc); });
  if (options.endpoints.empty()) {
    return absl::InvalidArgumentError("no etcd endpoints given");
  }
  bool any_tls = false;
  for (const Endpoint& ep : options.endpoints) {
    any_tls = any_tls || WantsTls(ep, options);
  }
  std::shared_ptr<grpc::ChannelCredentials> tls;
  if (any_tls) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
        MakeTlsCredentials(options);
    if (!creds.ok()) return creds.status();
    tls = *std::move(creds);
  }
  const absl::Time deadline = absl::Now() + options.dial_timeout;
  std::unique_ptr<Connection> conn(
      new Connection(std::move(options), std::move(tls)));
  RETURN_IF_ERROR(conn->WaitForAnyEndpoint(deadline));
  if (!conn->user_.empty()) {
    RETURN_IF_ERROR(conn->Authenticate(deadline));
  }
  return conn;
}

Connection::Connection(ConnectionOptions options,
                       std::shared_ptr<grpc::ChannelCredentials> tls)
    : endpoints_(std::move(options.endpoints)),
      user_(std::move(options.user)),
      password_(std::move(options.password)),
      tls_credentials_(std::move(tls)) {
  absl::MutexLock lock(&mu_);
  channels_.resize(endpoints_.size());
  dialled_.resize(endpoints_.size());
}

Connection::~Connection() = default;

std::shared_ptr<grpc::Channel> Connection::ChannelFor(size_t index) {
  if (channels_[index] == nullptr) {
    const Endpoint& ep = endpoints_[index];
    grpc::ChannelArguments args;
    // Come back quickly after an etcd restart: the lease deadline is short.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    // Each Connection gets its own subchannels, so that tests and tools
    // that open several connections in one process do not share one.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    // HTTP/2 pings find a dead TCP connection under an idle stream. etcd
    // answers pings no more often than every 5 s (--grpc-keepalive-min-time)
    // and closes connections that ping faster.
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    // gRPC refuses answers over 4 MiB by default; the status read of 100,000
    // jobs is about 20 MiB (etcd itself sends up to 2 GiB). Job lists are
    // paged (CronStore::ListJobs); this leaves room for the rest.
    args.SetMaxReceiveMessageSize(64 << 20);
    const bool tls = ep.tls == TlsMode::kOn ||
                     (ep.tls == TlsMode::kIfConfig && tls_credentials_);
    dialled_[index] = absl::Now();
    channels_[index] = grpc::CreateCustomChannel(
        ep.grpc_target,
        tls ? tls_credentials_ : grpc::InsecureChannelCredentials(), args);
  }
  return channels_[index];
}

absl::Status Connection::WaitForAnyEndpoint(absl::Time deadline) {
  const absl::Duration slice = absl::Milliseconds(100);
  while (true) {
    for (size_t i = 0; i < endpoints_.size(); ++i) {
      std::shared_ptr<grpc::Channel> ch;
      {
        absl::MutexLock lock(&mu_);
        ch = ChannelFor(i);
      }
      grpc_connectivity_state state = ch->GetState(/*try_to_connect=*/true);
      if (state != GRPC_CHANNEL_READY) {
        ch->WaitForStateChange(
            state, absl::ToChronoTime(std::min(deadline, absl::Now() + slice)));
        state = ch->GetState(/*try_to_connect=*/true);
      }
      if (state == GRPC_CHANNEL_READY) {
        absl::MutexLock lock(&mu_);
        current_ = i;
        return absl::OkStatus();
      }
    }
    if (absl::Now() >= deadline) break;
  }
  std::vector<std::string> names;
  for (const Endpoint& ep : endpoints_) names.push_back(ep.original);
  return absl::UnavailableError(
      absl::StrCat("etcd unreachable at ", absl::StrJoin(names, ","),
                   " (gave up after ", "the dial timeout)"));
}

absl::Status Connection::Authenticate(absl::Time deadline) {
  etcdserverpb::AuthenticateRequest request;
  request.set_name(user_);
  request.set_password(password_);
  etcdserverpb::AuthenticateResponse response;
  // Authenticate itself carries no token; a plain context suffices.
  absl::Status status = internal::CallUnary(
      *this, deadline, internal::Idempotency::kIdempotent,
      [&](grpc::ClientContext* ctx, const std::shared_ptr<grpc::Channel>& ch) {
        return etcdserverpb::Auth::NewStub(ch)->Authenticate(ctx, request,
                                                             &response);
      });
  if (!status.ok()) {
    if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) {
      return status;
    }
    // Never echo the password; name the user only.
    return absl::UnauthenticatedError(
        absl::StrCat("etcd refused the credentials of user \"", user_,
                     "\": ", status.message()));
  }
  absl::MutexLock lock(&mu_);
  token_ = response.token();
  ++authentications_;
  return absl::OkStatus();
}

int64_t Connection::authentications() const {
  absl::MutexLock lock(&mu_);
  return authentications_;
}

Endpoint Connection::current_endpoint() const {
  absl::MutexLock lock(&mu_);
  return endpoints_[current_];
}

std::shared_ptr<grpc::Channel> Connection::channel() const {
  absl::MutexLock lock(&mu_);
  return const_cast<Connection*>(this)->ChannelFor(current_);
}

std::string Connection::PrepareContext(grpc::ClientContext* context,
                                       absl::Time deadline) const {
  if (deadline != absl::InfiniteFuture()) {
    context->set_deadline(absl::ToChronoTime(deadline));
  }
  context->AddMetadata("hasleader", "true");
  absl::MutexLock lock(&mu_);
  if (!token_.empty()) context->AddMetadata("token", token_);
  return token_;
}

void Connection::ReportUnavailable(const std::shared_ptr<grpc::Channel>& used) {
  std::vector<std::function<void()>> hooks;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    bool retired = false;
    for (size_t i = 0; i < channels_.size(); ++i) {
      if (channels_[i] == nullptr || channels_[i] != used) continue;
      if (endpoints_.size() > 1 && i == current_) {
        current_ = (current_ + 1) % endpoints_.size();
      }
      if (now - dialled_[i] < kMinChannelAge) continue;
      graveyard_.push_back(Retired{std::move(channels_[i]), now});
      channels_[i] = nullptr;  // the next call dials afresh
      ++retired_;
      retired = true;
    }
    // Retired channels that nobody has used for a while go now.
    graveyard_.erase(std::remove_if(graveyard_.begin(), graveyard_.end(),
                                    [now](const Retired& r) {
                                      return r.channel.use_count() == 1 &&
                                             now - r.at > absl::Seconds(10);
                                    }),
                     graveyard_.end());
    for (auto it = retire_hooks_.begin(); it != retire_hooks_.end();) {
      if (retired && it->second.channel == used.get()) {
        hooks.push_back(std::move(it->second.run));
        it = retire_hooks_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& run : hooks) run();
}

std::shared_ptr<grpc::Channel> Connection::StreamChannel(
    std::function<void()> on_retire, int64_t* handle) {
  absl::MutexLock lock(&mu_);
  std::shared_ptr<grpc::Channel> channel = ChannelFor(current_);
  *handle = next_hook_++;
  retire_hooks_[*handle] = RetireHook{channel.get(), std::move(on_retire)};
  return channel;
}

void Connection::ForgetRetire(int64_t handle) {
  absl::MutexLock lock(&mu_);
  retire_hooks_.erase(handle);
}

std::array<uint64_t, 17> Connection::ErrorCounts() const {
  std::array<uint64_t, 17> out{};
  for (size_t i = 0; i < out.size(); ++i) out[i] = errors_[i].load();
  return out;
}

void Connection::CountError(absl::StatusCode code) {
  const size_t i = static_cast<size_t>(code);
  if (i < errors_.size()) errors_[i].fetch_add(1, std::memory_order_relaxed);
}

int64_t Connection::retired_channels() const {
  absl::MutexLock lock(&mu_);
  return retired_;
}

absl::Status Connection::Reauthenticate(const std::string& stale_token,
                                        absl::Time deadline) {
  {
    absl::MutexLock lock(&mu_);
    if (user_.empty()) {
      return absl::UnauthenticatedError(
          "etcd requires authentication: pass --user");
    }
    if (token_ != stale_token) return absl::OkStatus();  // Someone did it.
    token_.clear();
  }
  return Authenticate(deadline);
}

}  // namespace conch::etcd
