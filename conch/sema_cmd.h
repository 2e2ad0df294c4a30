// `conch sema NAME --max N [flags] -- CMD [ARGS…]`: runs CMD while fewer
// than N holders of semaphore NAME run, otherwise queues (strict FIFO);
// `conch sema NAME [--max N] --who [--watch]` lists holders and waiters
// (every N group of the name without --max). See docs/sema.md and spec 03.
//
// Exit codes as for elect (campaign.h); --who: 0 somebody holds, 1 nobody;
// --max 0, negative or not a number: 64, nothing written.
#ifndef CONCH_CONCH_SEMA_CMD_H_
#define CONCH_CONCH_SEMA_CMD_H_

#include <string>

#include "conch/campaign.h"
#include "conch/common_flags.h"

namespace CLI {
class App;
}  // namespace CLI

namespace conch {

struct SemaArgs {
  std::string name;
  std::string max;  // as typed; validated in RunSema
  bool who = false;
  bool watch = false;
  CampaignFlags run;
};

CLI::App* SetupSema(CLI::App& root, SemaArgs* args);
int RunSema(const SemaArgs& args, const CommonFlags& common);

// Parses --max: a whole number from 1 to 1000000 (InvalidArgument).
absl::StatusOr<int64_t> ParseMax(const std::string& text);

}  // namespace conch

#endif  // CONCH_CONCH_SEMA_CMD_H_
