// `conch status`: connects to etcd and prints the endpoint that answered,
// etcd's version, the cluster/member/leader IDs, the raft term and the
// current revision, then what conch keeps under --prefix: the live conchd
// daemons and how many jobs, offices and semaphores (with their holders
// and waiters) there are (one `key: value` per line, or one JSON object
// with --json, the conch part under "conch"). Proves the whole stack:
// flags, TLS, auth, the raw gRPC client.
//
// Exit codes: 0 answered; 64 bad flags; 69 etcd unreachable; 77 refused
// credentials (also when the user may not read --prefix).
//
// Example:
//   conch status --endpoints 127.0.0.1:2379
#ifndef CONCH_CONCH_STATUS_CMD_H_
#define CONCH_CONCH_STATUS_CMD_H_

#include "conch/common_flags.h"

namespace CLI {
class App;
}  // namespace CLI

namespace conch {

struct StatusArgs {};

// Registers the subcommand on `root`; returns it so main() can tell whether
// it was chosen.
CLI::App* SetupStatus(CLI::App& root, StatusArgs* args);

// Runs it; returns the process exit code.
int RunStatus(const StatusArgs& args, const CommonFlags& common);

}  // namespace conch

#endif  // CONCH_CONCH_STATUS_CMD_H_
