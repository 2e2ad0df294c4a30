// ValidateDaemonId (daemon.h): what a conchd --id may be; DaemonRecord
// (daemon_id.h): what a conchd registers under it.
#include "conch/daemon/daemon_id.h"

#include <unistd.h>

#include <algorithm>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "conch/daemon/daemon.h"
#include "conch/identity.h"
#include "conch/version.h"
#include "core/records/records.h"

namespace conch {

absl::Status ValidateDaemonId(const std::string& id) {
  const bool ok = !id.empty() && id.size() <= 64 &&
                  std::all_of(id.begin(), id.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                           c == '-';
                  });
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("invalid --id \"", id,
                   "\": want 1 to 64 characters of A-Z a-z 0-9 . _ -"));
}

records::Daemon DaemonRecord(absl::Time since) {
  records::Daemon d;
  d.set_host(HostName());
  d.set_pid(getpid());
  d.set_since(records::FormatRfc3339(since));
  d.set_version(kVersion);
  d.set_boot_id(BootId());
  return d;
}

}  // namespace conch
