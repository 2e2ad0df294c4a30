// `conch elect NAME --who [--watch]` and `conch sema NAME --who [--max N]
// [--watch]`: who holds the name and who waits for it, printed the same
// way for both (conch/contenders.h): a table (aligned on a terminal,
// tab-separated when piped; -o wide adds USER, LEASE, COMMAND) or one JSON
// document (-o json).
//
// Without --watch: exit 0 when somebody holds, 1 when nobody does (a
// vacant name prints nothing on stdout and says so on stderr; waiters
// without a holder, during a handover, are listed and exit 1 too).
// With --watch: prints the picture now and again after every change,
// each preceded by "TIME KIND NAME (rev R):" (text; "vacant" when nobody
// contends) or as one JSON document per line, until SIGINT/SIGTERM (exit
// 0). A watch sees every change: it is opened before the first read.
//
// Thread-compatible; runs on the main thread.
//
// Example:
//   return RunWho({Contenders::Kind::kOffice, encoded, 0, args.watch}, o);
#ifndef CONCH_CONCH_WHO_CMD_H_
#define CONCH_CONCH_WHO_CMD_H_

#include <cstdint>
#include <string>

#include "conch/common_flags.h"
#include "conch/contenders.h"

namespace conch {

struct WhoRequest {
  Contenders::Kind kind = Contenders::Kind::kOffice;
  std::string encoded_name;
  int64_t max = 0;  // sema: only this N (0: every N)
  bool watch = false;
};

// Returns the exit code.
int RunWho(const WhoRequest& request, const CommonOptions& options);

}  // namespace conch

#endif  // CONCH_CONCH_WHO_CMD_H_
