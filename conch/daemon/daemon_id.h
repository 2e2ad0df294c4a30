// Who a conchd is, as the cluster sees it (private to the daemon library):
// DaemonRecord builds the record it registers under cron/daemon/<id> (spec
// 05) on its session's lease. ValidateDaemonId is in daemon.h.
//
// Thread-safe (reads the host's identity).
//
// Example:
//   session options: .record = DaemonRecord(absl::Now())
#ifndef CONCH_CONCH_DAEMON_DAEMON_ID_H_
#define CONCH_CONCH_DAEMON_DAEMON_ID_H_

#include "absl/time/time.h"
#include "core/records/records.pb.h"

namespace conch {

// This host, this process, `since`, this version and this boot.
records::Daemon DaemonRecord(absl::Time since);

}  // namespace conch

#endif  // CONCH_CONCH_DAEMON_DAEMON_ID_H_
