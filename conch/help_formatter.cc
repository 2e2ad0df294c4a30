#include "conch/help_formatter.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace conch {

std::string HelpFormatter::make_usage(const CLI::App* app,
                                      std::string name) const {
  std::string out = absl::StrCat(get_label("Usage"), ": ", name);
  if (!app->get_options([](const CLI::Option* o) { return o->nonpositional(); })
           .empty()) {
    absl::StrAppend(&out, " [", get_label("OPTIONS"), "]");
  }
  for (const CLI::Option* p : app->get_options(
           [](const CLI::Option* o) { return o->get_positional(); })) {
    std::string word = p->get_type_name();
    if (word.empty()) word = absl::AsciiStrToUpper(p->get_name());
    absl::StrAppend(&out, " ", p->get_required() ? word : "[" + word + "]");
  }
  if (!app->get_subcommands(
              [](const CLI::App* s) { return !s->get_name().empty(); })
           .empty()) {
    absl::StrAppend(&out, " ", get_label("SUBCOMMAND"));
  }
  if (std::find(runners_.begin(), runners_.end(), app) != runners_.end()) {
    absl::StrAppend(&out, " -- COMMAND [ARG...]");
  }
  return out + "\n";
}

std::string HelpFormatter::make_help(const CLI::App* app, std::string name,
                                     CLI::AppFormatMode mode) const {
  if (mode == CLI::AppFormatMode::Sub) return make_expanded(app);
  std::stringstream out;
  out << make_description(app) << make_usage(app, name) << make_positionals(app)
      << make_groups(app, mode);
  for (const CLI::App* p = app->get_parent(); p != nullptr;
       p = p->get_parent()) {
    std::vector<const CLI::Option*> common =
        p->get_options([this](const CLI::Option* o) {
          return o->nonpositional() && o->get_group() == common_group_;
        });
    if (!common.empty()) {
      out << make_group(common_group_, false, common);
    }
  }
  out << make_subcommands(app, mode) << '\n' << make_footer(app);
  // CLI11 leaves two blank lines between some groups.
  std::string help = out.str();
  for (size_t at; (at = help.find("\n\n\n")) != std::string::npos;) {
    help.erase(at, 1);
  }
  return help;
}

// The type, REQUIRED, and in words: the variable, needs and excludes.
std::string HelpFormatter::make_option_opts(const CLI::Option* opt) const {
  std::string out;
  if (opt->get_items_expected_max() != 0) {
    if (!opt->get_type_name().empty()) {
      absl::StrAppend(&out, " ", opt->get_type_name());
    }
    if (opt->get_required()) absl::StrAppend(&out, " REQUIRED");
  }
  if (!opt->get_envname().empty()) {
    absl::StrAppend(&out, " (env ", opt->get_envname(), ")");
  }
  auto names = [](const std::set<CLI::Option*>& opts) {
    std::vector<std::string> out;
    for (const CLI::Option* o : opts) out.push_back(o->get_name());
    std::sort(out.begin(), out.end());
    return absl::StrJoin(out, ", ");
  };
  if (!opt->get_needs().empty()) {
    absl::StrAppend(&out, " (needs ", names(opt->get_needs()), ")");
  }
  if (!opt->get_excludes().empty()) {
    absl::StrAppend(&out, " (not with ", names(opt->get_excludes()), ")");
  }
  return out;
}

}  // namespace conch
