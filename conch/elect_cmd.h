// `conch elect NAME [flags] -- CMD [ARGS…]`: campaigns for office NAME and
// runs CMD while it holds the office; `conch elect NAME --who [--watch]`
// tells who holds it. See docs/elect.md and spec 02.
//
// Exit codes: the child's (128+S for a signal); 1 (--who: vacant); 64 bad
// input; 69 etcd unreachable before anything was acquired; 70 lease lost
// while the child ran; 75 --nonblock / --timeout without the office; 77
// credentials refused; 126/127 command not executable / not found; 128+S
// stopped by signal S while waiting (its key removed first).
#ifndef CONCH_CONCH_ELECT_CMD_H_
#define CONCH_CONCH_ELECT_CMD_H_

#include <string>
#include <vector>

#include "conch/campaign.h"
#include "conch/common_flags.h"

namespace CLI {
class App;
}  // namespace CLI

namespace conch {

struct ElectArgs {
  std::string name;
  bool who = false;
  bool watch = false;
  CampaignFlags run;  // the command and how to acquire
};

CLI::App* SetupElect(CLI::App& root, ElectArgs* args);
int RunElect(const ElectArgs& args, const CommonFlags& common);

}  // namespace conch

#endif  // CONCH_CONCH_ELECT_CMD_H_
