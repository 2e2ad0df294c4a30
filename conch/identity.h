// Who and where this process runs, as conch records it: the host name and
// the user name written into holder records, cron run requests and daemon
// registrations, the default conchd --id, and the boot id that tells a
// restarted conchd whether its previous incarnation ran on this very boot
// of this host.
//
// Contract: never fails; a name that cannot be read is "unknown" (host)
// or "" (user, boot id). Thread-safe (getpwuid_r, gethostname).
//
// Example:
//   records::Holder h;
//   h.set_host(HostName());
//   h.set_user(UserName());
#ifndef CONCH_CONCH_IDENTITY_H_
#define CONCH_CONCH_IDENTITY_H_

#include <string>

namespace conch {

std::string HostName();
std::string UserName();
// /proc/sys/kernel/random/boot_id: new at every boot of the host.
std::string BootId();

}  // namespace conch

#endif  // CONCH_CONCH_IDENTITY_H_
