// `conch completion bash|zsh`: prints the shell completion script for
// conch, generated (conch/completion.h) from the same command definitions
// the parser uses, so it never lags behind the flags. It needs no etcd and
// reads no files.
//
//   conch completion bash > /usr/share/bash-completion/completions/conch
//   conch completion zsh > /usr/local/share/zsh/site-functions/_conch
//   source <(conch completion bash)      # in ~/.bashrc
// (`bazel run //packaging:install` installs both, with the man pages.)
//
// Exit codes: 0 printed; 64 an unknown shell (checked while parsing); 74
// (EX_IOERR) stdout could not be written.
//
// Thread-compatible; runs on the main thread. The App that SetupCompletion
// registers on must outlive RunCompletion's use of it.
//
// Example:
//   CompletionArgs completion_args;
//   CLI::App* completion = SetupCompletion(app, &completion_args);
//   ... ParseCommandLine(app, ...) ...
//   if (completion->parsed()) {
//     return RunCompletion(app, completion_args, {elect, sema, cron_add});
//   }
#ifndef CONCH_CONCH_COMPLETION_CMD_H_
#define CONCH_CONCH_COMPLETION_CMD_H_

#include <string>
#include <vector>

namespace CLI {
class App;
}  // namespace CLI

namespace conch {

struct CompletionArgs {
  std::string shell;  // "bash" or "zsh"
};

// Registers `completion SHELL` on `root`; returns it so main() can tell
// whether it was chosen.
CLI::App* SetupCompletion(CLI::App& root, CompletionArgs* args);

// Prints the script for `args.shell`, generated from `root` (the whole
// program's App) with `runners` (the subcommands that run a command after
// --, as given to ParseCommandLine). Returns the exit code.
int RunCompletion(const CLI::App& root, const CompletionArgs& args,
                  const std::vector<const CLI::App*>& runners);

}  // namespace conch

#endif  // CONCH_CONCH_COMPLETION_CMD_H_
