#include "conch/completion_cmd.h"

#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "conch/common_flags.h"
#include "conch/completion.h"
#include "conch/exit_codes.h"

namespace conch {
namespace {

// EX_IOERR from sysexits.h.
constexpr int kExitIoError = 74;

std::string WhyNotShell(const std::string& shell) {
  for (absl::string_view known : absl::StrSplit(kCompletionShells, '|')) {
    if (shell == known) return "";
  }
  return "must be bash or zsh";
}

}  // namespace

CLI::App* SetupCompletion(CLI::App& root, CompletionArgs* args) {
  CLI::App* sub = root.add_subcommand(
      "completion", "print the bash or zsh completion script (no etcd needed)");
  CLI::Option* shell =
      sub->add_option("shell", args->shell, "the shell: bash or zsh")
          ->type_name(kCompletionShells)
          ->required();
  CheckValues(shell, WhyNotShell, "shell");
  sub->footer(
      "Examples:\n"
      "  conch completion bash > /usr/share/bash-completion/completions/conch\n"
      "  conch completion bash > "
      "~/.local/share/bash-completion/completions/conch\n"
      "  conch completion zsh > /usr/local/share/zsh/site-functions/_conch\n"
      "\n"
      "Or, in ~/.bashrc: source <(conch completion bash). Completes "
      "subcommands, flags and the values conch knows; never the names of "
      "offices, semaphores or jobs (that would need etcd).");
  return sub;
}

int RunCompletion(const CLI::App& root, const CompletionArgs& args,
                  const std::vector<const CLI::App*>& runners) {
  absl::StatusOr<std::string> script =
      CompletionScript(root, runners, args.shell);
  if (!script.ok()) return ReportFailure(script.status());
  std::cout << *script << std::flush;
  if (!std::cout) {
    std::cerr << ProgramName() << ": cannot write the completion script\n";
    return kExitIoError;
  }
  return kExitOk;
}

}  // namespace conch
