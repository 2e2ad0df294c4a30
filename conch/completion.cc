#include "conch/completion.h"

#include <algorithm>
#include <set>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace conch {
namespace {

// Values of flags whose type name does not list them, by flag name. Keep
// in step with the parsers: ParseLogLevel (core/base/log.h) and
// ParseOutputFormat (conch/output.h). completion_test checks that the
// parser takes every word offered here.
struct KnownValues {
  const char* flag;
  const char* words;
};
constexpr KnownValues kKnownValues[] = {
    {"--log-level", "error warn info debug"},
    {"--output", "json wide table tsv"},
    {"--write-out", "json wide table tsv"},
};

// The longest help text a completion shows.
constexpr size_t kHelpChars = 70;

bool IsWordChar(char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
         c == '+' || c == '/' || c == '@';
}

// A word that needs no quoting in either shell.
bool IsPlainWord(absl::string_view word) {
  return !word.empty() && word[0] != '-' &&
         std::all_of(word.begin(), word.end(), IsWordChar);
}

std::vector<std::string> OptionNames(const CLI::Option& o) {
  std::vector<std::string> names;
  for (const std::string& s : o.get_snames()) names.push_back("-" + s);
  for (const std::string& l : o.get_lnames()) names.push_back("--" + l);
  return names;
}

// `text` as one short line: without parenthetical remarks, up to the
// first "; " or ": ", at most kHelpChars characters, control characters as
// spaces.
std::string ShortHelp(absl::string_view text) {
  std::string plain;
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '(' && (depth > 0 || (i > 0 && text[i - 1] == ' '))) {
      if (depth++ == 0) plain.pop_back();  // the space before it
    } else if (text[i] == ')' && depth > 0) {
      --depth;
    } else if (depth == 0) {
      plain += absl::ascii_iscntrl(text[i]) ? ' ' : text[i];
    }
  }
  size_t cut = plain.size();
  for (const char* stop : {"; ", ": "}) {
    cut = std::min(cut, plain.find(stop));
  }
  std::string out(absl::StripAsciiWhitespace(plain.substr(0, cut)));
  if (out.size() > kHelpChars) {
    size_t space = out.rfind(' ', kHelpChars - 3);
    if (space == std::string::npos) space = kHelpChars - 3;
    out = absl::StrCat(out.substr(0, space), "...");
  }
  return out;
}

bool IsRepeatable(const CLI::Option& o) {
  return o.get_multi_option_policy() == CLI::MultiOptionPolicy::TakeAll ||
         o.get_expected_max() > 1;
}

CompletionOption DescribeOption(const CLI::Option& o, const CLI::App& owner) {
  CompletionOption c;
  c.names = OptionNames(o);
  c.help = ShortHelp(o.get_description());
  c.takes_value = o.get_items_expected_max() != 0;
  if (c.takes_value) c.type = o.get_type_name();
  c.repeatable = IsRepeatable(o);
  c.ends_parsing = &o == owner.get_help_ptr() ||
                   &o == owner.get_help_all_ptr() ||
                   &o == owner.get_version_ptr();
  for (const CLI::Option* ex : o.get_excludes()) {
    for (std::string& name : OptionNames(*ex)) {
      c.excludes.push_back(std::move(name));
    }
  }
  std::sort(c.excludes.begin(), c.excludes.end());
  c.value = ValueHintFor(o);
  return c;
}

void Describe(const CLI::App& app, const std::vector<std::string>& path,
              const std::vector<const CLI::App*>& runners,
              std::vector<CompletionCommand>* out) {
  CompletionCommand c;
  c.path = path;
  c.help = ShortHelp(app.get_description());
  c.runs_command =
      std::find(runners.begin(), runners.end(), &app) != runners.end();
  std::set<std::string> taken;
  auto add = [&](const CLI::Option& o, const CLI::App& owner) {
    CompletionOption opt = DescribeOption(o, owner);
    // A subcommand's own flag shadows its parent's of the same name
    // (`cron add --user` is a local user, not the etcd user).
    opt.names.erase(std::remove_if(opt.names.begin(), opt.names.end(),
                                   [&](const std::string& n) {
                                     return taken.count(n) > 0;
                                   }),
                    opt.names.end());
    if (opt.names.empty()) return;
    taken.insert(opt.names.begin(), opt.names.end());
    c.options.push_back(std::move(opt));
  };
  for (const CLI::Option* o : app.get_options()) {
    if (o->nonpositional()) {
      add(*o, app);
      continue;
    }
    CompletionArgument arg;
    arg.name = o->get_name();
    arg.type = o->get_type_name();
    arg.required = o->get_required();
    arg.repeatable = o->get_items_expected_max() > 1;
    arg.value = ValueHintFor(*o);
    c.arguments.push_back(std::move(arg));
  }
  // CLI11 hands a word a subcommand does not know to its parent when the
  // subcommand falls through: so the parents' flags work here too, except
  // their --help and --version, which the subcommand has its own of (or
  // which mean the program's).
  for (const CLI::App* at = &app;
       at->get_parent() != nullptr && at->get_fallthrough();
       at = at->get_parent()) {
    const CLI::App& parent = *at->get_parent();
    for (const CLI::Option* o : parent.get_options()) {
      if (!o->nonpositional() || o == parent.get_help_ptr() ||
          o == parent.get_help_all_ptr() || o == parent.get_version_ptr()) {
        continue;
      }
      add(*o, parent);
    }
  }
  const std::vector<const CLI::App*> subs =
      app.get_subcommands([](const CLI::App* s) {
        return !s->get_name().empty() && !s->get_disabled();
      });
  for (const CLI::App* sub : subs) {
    c.subcommands.push_back(sub->get_name());
    c.subcommand_help.push_back(ShortHelp(sub->get_description()));
  }
  out->push_back(std::move(c));
  for (const CLI::App* sub : subs) {
    std::vector<std::string> below = path;
    below.push_back(sub->get_name());
    Describe(*sub, below, runners, out);
  }
}

// ---- Quoting ----

// `text` in single quotes for bash and zsh.
std::string Quote(absl::string_view text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "'\\''"}}), "'");
}

// A shell function name made of the program's name and a path.
std::string FunctionName(absl::string_view program,
                         const std::vector<std::string>& path) {
  std::string name = absl::StrCat("_", program);
  for (const std::string& p : path) absl::StrAppend(&name, "_", p);
  for (char& c : name) {
    if (!absl::ascii_isalnum(c) && c != '_') c = '_';
  }
  return name;
}

std::string Key(const CompletionCommand& c) {
  return absl::StrJoin(c.path, " ");
}

// ---- bash ----

// A bash `case` arm that sets REPLY to `words`.
std::string ReplyArm(const std::string& key,
                     const std::vector<std::string>& words) {
  return absl::StrCat("    ", Quote(key),
                      ") REPLY=", Quote(absl::StrJoin(words, " ")), " ;;\n");
}

// The bash call that completes a value of kind `hint` from "$2".
std::string BashValueCall(const std::string& fn, const ValueHint& hint) {
  switch (hint.kind) {
    case ValueHint::Kind::kWords:
      return absl::StrCat(fn, "_words \"$2\" ", absl::StrJoin(hint.words, " "));
    case ValueHint::Kind::kFile:
      return absl::StrCat(fn, "_files \"$2\"");
    case ValueHint::Kind::kDirectory:
      return absl::StrCat(fn, "_dirs \"$2\"");
    case ValueHint::Kind::kZone:
      return absl::StrCat(fn, "_zones \"$2\"");
    case ValueHint::Kind::kUser:
      return absl::StrCat(fn, "_users \"$2\"");
    case ValueHint::Kind::kNothing:
      break;
  }
  return "";
}

// The fixed part of the bash script; "@F@" is the function prefix, "@P@"
// the program.
constexpr char kBashHelpers[] = R"sh(
_@F@_words() {
  local cur=$1
  shift
  mapfile -t COMPREPLY < <(compgen -W "$*" -- "$cur")
}

_@F@_files() {
  compopt -o filenames 2>/dev/null
  mapfile -t COMPREPLY < <(compgen -f -- "$1")
}

_@F@_dirs() {
  compopt -o filenames 2>/dev/null
  mapfile -t COMPREPLY < <(compgen -d -- "$1")
}

_@F@_users() {
  mapfile -t COMPREPLY < <(compgen -u -- "$1")
}

# IANA zone names: the entries of the zoneinfo directory whose first part
# starts with an upper-case letter (not posix/, right/ or zone.tab).
_@F@_zones() {
  local dir=${TZDIR:-/usr/share/zoneinfo} path zone
  COMPREPLY=()
  for path in "$dir/$1"*; do
    [[ -e $path ]] || continue
    zone=${path#"$dir"/}
    [[ $zone == [A-Z]* ]] || continue
    if [[ -d $path ]]; then
      COMPREPLY+=("$zone/")
    else
      COMPREPLY+=("$zone")
    fi
  done
  if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == */ ]]; then
    compopt -o nospace 2>/dev/null
  fi
}

_@F@() {
  local cur=${COMP_WORDS[COMP_CWORD]} node='' flag='' word REPLY
  local -i i dashdash=0 args=0
  # Walk the words before the cursor: subcommands, flags and their values
  # (bash splits --flag=value into three words), arguments, and "--".
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    if [[ $word == -- ]]; then
      _@F@_runs "$node" || return 0
      dashdash=i
      break
    elif [[ $word == = ]]; then
      i+=1
    elif [[ $word == -?* ]]; then
      _@F@_valued "$node"
      if [[ " $REPLY " == *" $word "* ]]; then
        [[ ${COMP_WORDS[i + 1]} == = ]] && i+=1
        if ((i + 1 >= COMP_CWORD)); then
          flag=$word
          break
        fi
        i+=1
      fi
    else
      _@F@_subcommands "$node"
      if ((args == 0)) && [[ -n $REPLY && " $REPLY " == *" $word "* ]]; then
        node=${node:+$node }$word
      else
        args+=1
      fi
    fi
  done
  if ((dashdash > 0)); then
    # The command, then its own arguments.
    if declare -F _command_offset >/dev/null; then
      _command_offset $((dashdash + 1))
    elif ((COMP_CWORD == dashdash + 1)); then
      mapfile -t COMPREPLY < <(compgen -c -- "$cur")
    else
      _@F@_files "$cur"
    fi
    return 0
  fi
  if [[ -n $flag ]]; then
    [[ $cur == = ]] && cur=''
    _@F@_values "$node:$flag" "$cur"
    return 0
  fi
  if [[ $cur == -* ]]; then
    _@F@_options "$node"
    mapfile -t COMPREPLY < <(compgen -W "$REPLY" -- "$cur")
    return 0
  fi
  _@F@_subcommands "$node"
  if [[ -n $REPLY ]] && ((args == 0)); then
    mapfile -t COMPREPLY < <(compgen -W "$REPLY" -- "$cur")
    return 0
  fi
  _@F@_values "$node:#$((args + 1))" "$cur"
}

complete -F _@F@ @P@
)sh";

// ---- zsh ----

// `text` inside an _arguments spec: the characters _arguments reads
// (brackets of the help, the colons between the fields) escaped.
std::string ZshSpecText(absl::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '[' || c == ']' || c == ':') out += '\\';
    out += c;
  }
  return out;
}

// `text` as the message of an _arguments spec: only the colons between
// the fields need escaping there.
std::string ZshMessageText(absl::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == ':') out += '\\';
    out += c;
  }
  return out;
}

std::string ZshAction(const ValueHint& hint) {
  switch (hint.kind) {
    case ValueHint::Kind::kWords:
      return absl::StrCat("(", absl::StrJoin(hint.words, " "), ")");
    case ValueHint::Kind::kFile:
      return "_files";
    case ValueHint::Kind::kDirectory:
      return "_files -/";
    case ValueHint::Kind::kZone:
      return "_time_zone";
    case ValueHint::Kind::kUser:
      return "_users";
    case ValueHint::Kind::kNothing:
      break;
  }
  return " ";
}

// One _arguments spec for `o`, as shell words (quoted where needed).
std::string ZshOptionSpec(const CompletionOption& o) {
  std::string exclusions;
  if (o.ends_parsing) {
    exclusions = "(- *)";
  } else {
    std::vector<std::string> names;
    if (!o.repeatable) names = o.names;
    names.insert(names.end(), o.excludes.begin(), o.excludes.end());
    if (!names.empty()) {
      exclusions = absl::StrCat("(", absl::StrJoin(names, " "), ")");
    }
  }
  std::vector<std::string> forms;
  for (const std::string& n : o.names) {
    std::string form = n;
    if (o.takes_value)
      absl::StrAppend(&form, absl::StartsWith(n, "--") ? "=" : "+");
    forms.push_back(std::move(form));
  }
  std::string tail = absl::StrCat("[", ZshSpecText(o.help), "]");
  if (o.takes_value) {
    absl::StrAppend(&tail, ":",
                    ZshMessageText(o.type.empty() ? "value" : o.type), ":",
                    ZshAction(o.value));
  }
  const std::string head = absl::StrCat(exclusions, o.repeatable ? "*" : "");
  if (forms.size() == 1) return Quote(absl::StrCat(head, forms[0], tail));
  return absl::StrCat(head.empty() ? "" : Quote(head), "{",
                      absl::StrJoin(forms, ","), "}", Quote(tail));
}

std::string ZshArgumentSpec(const CompletionArgument& a, int index) {
  const std::string message =
      ZshMessageText(a.type.empty() ? absl::AsciiStrToUpper(a.name) : a.type);
  // "N:" a required argument, "N::" an optional one, "*:" the rest.
  return Quote(absl::StrCat(a.repeatable ? "*" : absl::StrCat(index),
                            a.required || a.repeatable ? ":" : "::", message,
                            ":", ZshAction(a.value)));
}

std::string ZshFunction(const std::string& program,
                        const CompletionCommand& c) {
  const std::string fn = FunctionName(program, c.path);
  std::string out = absl::StrCat(fn, "() {\n");
  if (c.runs_command) {
    absl::StrAppend(&out, "  __", FunctionName(program, {}).substr(1),
                    "_command && return 0\n");
  }
  const bool has_subs = !c.subcommands.empty();
  if (has_subs) {
    absl::StrAppend(&out,
                    "  local curcontext=$curcontext state state_descr line\n"
                    "  local -i ret=1\n"
                    "  typeset -A opt_args\n"
                    "  _arguments -C");
  } else {
    absl::StrAppend(&out, "  _arguments");
  }
  for (const CompletionOption& o : c.options) {
    absl::StrAppend(&out, " \\\n    ", ZshOptionSpec(o));
  }
  int index = 1;
  for (const CompletionArgument& a : c.arguments) {
    absl::StrAppend(&out, " \\\n    ", ZshArgumentSpec(a, index++));
  }
  if (!has_subs) {
    absl::StrAppend(&out, "\n}\n");
    return out;
  }
  const std::string what =
      c.path.empty() ? absl::StrCat(program, " subcommand")
                     : absl::StrCat(program, " ", Key(c), " subcommand");
  absl::StrAppend(&out,
                  " \\\n    ': :->subcommand' \\\n"
                  "    '*:: :->argument' && ret=0\n"
                  "  case $state in\n"
                  "    subcommand)\n"
                  "      local -a subcommands=(\n");
  for (size_t i = 0; i < c.subcommands.size(); ++i) {
    absl::StrAppend(&out, "        ",
                    Quote(absl::StrCat(
                        absl::StrReplaceAll(c.subcommands[i], {{":", "\\:"}}),
                        ":", c.subcommand_help[i])),
                    "\n");
  }
  absl::StrAppend(&out, "      )\n      _describe -t subcommands ", Quote(what),
                  " subcommands && ret=0\n"
                  "      ;;\n"
                  "    argument)\n"
                  "      curcontext=${curcontext%:*:*}:",
                  absl::StrReplaceAll(fn.substr(1), {{"_", "-"}}),
                  "-$words[1]:\n"
                  "      case $words[1] in\n");
  for (const std::string& sub : c.subcommands) {
    std::vector<std::string> below = c.path;
    below.push_back(sub);
    absl::StrAppend(&out, "        ", Quote(sub), ") ",
                    FunctionName(program, below), " && ret=0 ;;\n");
  }
  absl::StrAppend(&out,
                  "      esac\n"
                  "      ;;\n"
                  "  esac\n"
                  "  return ret\n"
                  "}\n");
  return out;
}

}  // namespace

ValueHint ValueHintFor(const CLI::Option& option) {
  ValueHint hint;
  if (option.nonpositional() && option.get_items_expected_max() == 0) {
    return hint;  // a flag: no value
  }
  for (const std::string& name : option.get_lnames()) {
    for (const KnownValues& known : kKnownValues) {
      if (absl::StrCat("--", name) == known.flag) {
        hint.kind = ValueHint::Kind::kWords;
        hint.words = absl::StrSplit(known.words, ' ');
        return hint;
      }
    }
  }
  const std::string type = option.get_type_name();
  if (absl::StrContains(type, '|')) {
    std::vector<std::string> words = absl::StrSplit(type, '|');
    if (std::all_of(words.begin(), words.end(), IsPlainWord)) {
      hint.kind = ValueHint::Kind::kWords;
      hint.words = std::move(words);
    }
  } else if (type == "FILE") {
    hint.kind = ValueHint::Kind::kFile;
  } else if (type == "DIR") {
    hint.kind = ValueHint::Kind::kDirectory;
  } else if (type == "ZONE") {
    hint.kind = ValueHint::Kind::kZone;
  } else if (type == "USER") {
    hint.kind = ValueHint::Kind::kUser;
  }
  return hint;
}

std::vector<CompletionCommand> DescribeCommands(
    const CLI::App& root, const std::vector<const CLI::App*>& runners) {
  std::vector<CompletionCommand> out;
  Describe(root, {}, runners, &out);
  return out;
}

std::string BashCompletion(const CLI::App& root,
                           const std::vector<const CLI::App*>& runners) {
  const std::string program = root.get_name();
  const std::string fn = FunctionName(program, {});
  const std::vector<CompletionCommand> commands =
      DescribeCommands(root, runners);
  std::string out = absl::StrCat(
      "# bash completion for ", program,
      "                                -*- shell-script -*-\n"
      "#\n"
      "# Generated by `",
      program, " completion bash` from the command definitions ", program,
      "\n"
      "# parses with: regenerate it rather than edit it. It completes the\n"
      "# subcommands, the flags, and the values known without asking etcd;\n"
      "# the names of offices, semaphores and jobs are not completed. After\n"
      "# \"--\" it completes a command, then that command's arguments.\n"
      "#\n"
      "# Install it as share/bash-completion/completions/",
      program,
      ", or load it from\n"
      "# ~/.bashrc: source <(",
      program, " completion bash)\n");

  std::string subcommands, options, valued, runs;
  // The values: one arm per way of completing, with all the keys
  // ("PATH:FLAG", "PATH:#N") that complete so, in the order first seen.
  std::vector<std::pair<std::string, std::vector<std::string>>> values;
  auto add_value = [&values](const std::string& call, std::string key) {
    if (call.empty()) return;
    for (auto& [known, keys] : values) {
      if (known == call) {
        keys.push_back(std::move(key));
        return;
      }
    }
    values.push_back({call, {std::move(key)}});
  };
  for (const CompletionCommand& c : commands) {
    const std::string key = Key(c);
    if (!c.subcommands.empty()) {
      absl::StrAppend(&subcommands, ReplyArm(key, c.subcommands));
    }
    std::vector<std::string> all, with_value;
    for (const CompletionOption& o : c.options) {
      all.insert(all.end(), o.names.begin(), o.names.end());
      if (!o.takes_value) continue;
      with_value.insert(with_value.end(), o.names.begin(), o.names.end());
      for (const std::string& n : o.names) {
        add_value(BashValueCall(fn, o.value), Quote(absl::StrCat(key, ":", n)));
      }
    }
    absl::StrAppend(&options, ReplyArm(key, all));
    absl::StrAppend(&valued, ReplyArm(key, with_value));
    for (size_t i = 0; i < c.arguments.size(); ++i) {
      // A repeated argument takes every place from its own on.
      add_value(BashValueCall(fn, c.arguments[i].value),
                absl::StrCat(Quote(absl::StrCat(key, ":#", i + 1)),
                             c.arguments[i].repeatable ? "*" : ""));
    }
    if (c.runs_command) {
      absl::StrAppend(&runs, "    ", Quote(key), ") return 0 ;;\n");
    }
  }
  std::string value_arms;
  for (const auto& [call, keys] : values) {
    absl::StrAppend(&value_arms, "    ", absl::StrJoin(keys, " | \\\n    "),
                    ")\n      ", call, "\n      ;;\n");
  }
  auto function = [&](const std::string& name, const std::string& comment,
                      const std::string& arms, const std::string& otherwise) {
    return absl::StrCat("\n# ", comment, "\n", fn, "_", name,
                        "() {\n  case $1 in\n", arms, "    *) ", otherwise,
                        " ;;\n  esac\n}\n");
  };
  absl::StrAppend(
      &out,
      function("subcommands", "REPLY: the subcommands of subcommand path $1.",
               subcommands, "REPLY=''"),
      function("options", "REPLY: the flags of subcommand path $1.", options,
               "REPLY=''"),
      function("valued", "REPLY: the flags of $1 that take a value.", valued,
               "REPLY=''"),
      function("runs", "Whether $1 runs a command after --.", runs, "return 1"),
      function("values",
               "COMPREPLY: the values that complete $2 for $1, \"PATH:FLAG\" "
               "or\n# \"PATH:#N\" (the Nth argument).",
               value_arms, "COMPREPLY=()"));
  absl::StrAppend(
      &out, absl::StrReplaceAll(kBashHelpers,
                                {{"@F@", fn.substr(1)}, {"@P@", program}}));
  return out;
}

std::string ZshCompletion(const CLI::App& root,
                          const std::vector<const CLI::App*>& runners) {
  const std::string program = root.get_name();
  const std::string fn = FunctionName(program, {});
  std::string out = absl::StrCat(
      "#compdef ", program,
      "\n"
      "# zsh completion for ",
      program, ", generated by `", program,
      " completion zsh` from the command\n"
      "# definitions ",
      program,
      " parses with: regenerate it rather than edit it. It completes\n"
      "# the subcommands, the flags, and the values known without asking "
      "etcd;\n"
      "# the names of offices, semaphores and jobs are not completed. After\n"
      "# \"--\" it completes a command, then that command's arguments.\n"
      "#\n"
      "# Install it as _",
      program,
      " in a directory of $fpath (share/zsh/site-functions).\n"
      "\n"
      "# After \"--\" (before the cursor): the command and its own "
      "arguments.\n"
      "_",
      fn,
      "_command() {\n"
      "  local -i dashdash=${words[(i)--]}\n"
      "  (( dashdash < CURRENT )) || return 1\n"
      "  words=(\"${(@)words[dashdash + 1, -1]}\")\n"
      "  (( CURRENT -= dashdash ))\n"
      "  _normal\n"
      "  return 0\n"
      "}\n");
  for (const CompletionCommand& c : DescribeCommands(root, runners)) {
    absl::StrAppend(&out, "\n", ZshFunction(program, c));
  }
  absl::StrAppend(&out, "\nif [[ ${funcstack[1]-} == ", fn, " ]]; then\n  ", fn,
                  " \"$@\"\nelse\n  compdef ", fn, " ", program, "\nfi\n");
  return out;
}

absl::StatusOr<std::string> CompletionScript(
    const CLI::App& root, const std::vector<const CLI::App*>& runners,
    absl::string_view shell) {
  if (shell == "bash") return BashCompletion(root, runners);
  if (shell == "zsh") return ZshCompletion(root, runners);
  return absl::InvalidArgumentError(
      absl::StrCat("no completion for shell \"", shell, "\": use bash or zsh"));
}

}  // namespace conch
