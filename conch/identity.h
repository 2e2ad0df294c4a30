// Who and where this process runs, as conch records it: the host name and
// the user name written into holder records, cron run requests and daemon
// registrations, and the default conchd --id.
//
// Contract: never fails; a name that cannot be read is "unknown" (host)
// or "" (user). Thread-safe (getpwuid_r, gethostname).
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

}  // namespace conch

#endif  // CONCH_CONCH_IDENTITY_H_
