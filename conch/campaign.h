// The campaign: the acquire → hold → release cycle of `conch elect` and
// `conch sema`, the policy layer above the recipes. It decides when to
// campaign (again), opens a session per campaign, drives a recipe
// (Election or Semaphore, behind the small Acquirer interface) through
// Enter and the wait (signals, --timeout, --nonblock), holds (RunHeld in
// wrapper.h, again and again with --restart) and hands over by revoking
// the lease.
//
// Exit codes (spec 00): the child's; 69 etcd unreachable before anything
// was acquired (or the session lost while waiting, without --restart); 70
// the lease lost while the child ran; 75 --nonblock / --timeout; 126/127;
// 128+S stopped by signal S while waiting (its keys removed first).
//
// While waiting, the place in line is shown as conch/progress.h says (in
// place on a terminal, log lines with -v, JSON events with -o json), read
// from etcd on every change of the line only when it is shown.
//
// Thread-compatible: runs on the main thread, which owns the SignalSet.
//
// Example:
//   return RunCampaignCommand(flags, options, [&](etcd::Session& s) {
//     return std::make_unique<ElectAcquirer>(s, office, args);
//   });
#ifndef CONCH_CONCH_CAMPAIGN_H_
#define CONCH_CONCH_CAMPAIGN_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "conch/common_flags.h"
#include "conch/contenders.h"
#include "core/etcd/connection.h"
#include "core/etcd/watch.h"
#include "core/process/signals.h"
#include "core/recipes/session.h"

namespace CLI {
class App;
}  // namespace CLI

namespace conch {

// One recipe, bound to one session.
class Acquirer {
 public:
  virtual ~Acquirer() = default;
  // Queues; true when held at once.
  virtual absl::StatusOr<bool> Enter(absl::Time deadline) = 0;
  // Re-evaluates after a wake-up; true when held.
  virtual absl::StatusOr<bool> Check(const std::function<void()>& on_change,
                                     absl::Time deadline) = 0;
  virtual absl::Status Leave(absl::Time deadline) = 0;
  // Makes the next Check read etcd instead of trusting its watch.
  virtual void Invalidate() = 0;
  // The CONCH_* variables of the holder (CONCH_REV, CONCH_SLOT, …).
  virtual std::vector<std::pair<std::string, std::string>> Env() const = 0;
  // "office x", "semaphore x (max 2)": for messages.
  virtual std::string Describe() const = 0;

  // Where this contender stands, for the waiting line (conch/progress.h);
  // the key is known after Enter.
  struct Line {
    Contenders::Kind kind = Contenders::Kind::kOffice;
    std::string name;          // as typed
    std::string encoded_name;  // as in the keys
    int64_t max = 0;           // sema: N
    std::string key;           // our key among the waiters
    std::string watch_prefix;  // every key of the line starts with it
  };
  virtual Line line() const = 0;
};

// Makes the recipe for one campaign, on its session (which gives the
// connection and watch stream).
using AcquirerFactory =
    std::function<std::unique_ptr<Acquirer>(etcd::Session& session)>;

// The flags of the acquire-and-run mode, as typed.
struct CampaignFlags {
  std::vector<std::string> command;  // after "--"
  bool nonblock = false;
  std::string timeout;  // empty: wait forever
  bool restart = false;
  std::string restart_reset = "60s";
};

// Registers `command`, --nonblock, --timeout, --restart, --restart-reset.
// `what` names the thing held in the help texts ("the office").
void AddCampaignFlags(CLI::App& sub, CampaignFlags* flags,
                      const std::string& what);

// Validates `flags` (64), resolves the command (126/127), installs the
// signal handling, dials etcd (69/77) and runs campaigns until one ends.
// Returns the process exit code.
// For --who, which only looks: InvalidArgument naming the first flag of
// the acquire-and-run mode that was given too (a command, --nonblock,
// --timeout, --restart).
absl::Status CheckLookOnly(const CampaignFlags& flags);

int RunCampaignCommand(const CampaignFlags& flags, const CommonOptions& options,
                       const AcquirerFactory& factory);

}  // namespace conch

#endif  // CONCH_CONCH_CAMPAIGN_H_
