// HelpFormatter: conch's help pages, CLI11's formatter with three
// changes:
//   - the usage line names the argument types (NAME, SCHEDULE) and, for a
//     subcommand that runs a command, ends in "-- COMMAND [ARG...]";
//   - a subcommand's page also lists its parents' options of the group
//     `common_group` (conch's common flags), so every page shows them;
//   - each option shows its type, its environment variable, and what it
//     needs or excludes in words ("(env CONCH_TTL)", "(not with --timeout)").
//
// Ownership: keeps pointers to the runner subcommands, which must outlive
// it (they belong to the App it formats). Thread-compatible, like CLI11.
//
// Example:
//   app.formatter(std::make_shared<HelpFormatter>(
//       std::vector<const CLI::App*>{elect, sema}, "Common flags"));
#ifndef CONCH_CONCH_HELP_FORMATTER_H_
#define CONCH_CONCH_HELP_FORMATTER_H_

#include <string>
#include <vector>

#include "CLI/CLI.hpp"

namespace conch {

class HelpFormatter : public CLI::Formatter {
 public:
  HelpFormatter(std::vector<const CLI::App*> runners, std::string common_group)
      : runners_(std::move(runners)), common_group_(std::move(common_group)) {}

  std::string make_usage(const CLI::App* app, std::string name) const override;
  std::string make_help(const CLI::App* app, std::string name,
                        CLI::AppFormatMode mode) const override;
  std::string make_option_opts(const CLI::Option* opt) const override;

 private:
  const std::vector<const CLI::App*> runners_;
  const std::string common_group_;
};

}  // namespace conch

#endif  // CONCH_CONCH_HELP_FORMATTER_H_
