#!/usr/bin/env bash
# Writes a help2man include file (on stdout) made from PROGRAM's help pages:
#   - SUBCOMMANDS (when it has any): the help page of every subcommand,
#     found by walking the "Subcommands:" lists of the pages themselves, so
#     the man page documents exactly the subcommands the binary has;
#   - EXAMPLES, replacing help2man's: the examples of `PROGRAM --help`, one
#     per line (help2man would fill them into one paragraph), and the note
#     after them.
#
#   bash packaging/help_to_man.sh bazel-bin/conch/conch > subcommands.h2m
#   help2man --include subcommands.h2m ... bazel-bin/conch/conch
#
# Each subcommand's page becomes a subsection: its description, its usage
# line, its arguments, flags and subcommands as tagged paragraphs, and its
# examples. The common flags, which every page repeats, are left out: the
# man page's OPTIONS section lists them once. The build runs this from
# packaging/BUILD.bazel; it needs only bash and awk.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: help_to_man.sh PROGRAM" >&2
  exit 64
fi
program="$1"
name="$(basename "$program")"

# The help page of `name ARGS...` as roff, for a .SS subsection.
to_roff() {
  awk -v title="$1" '
    function esc(s) {
      gsub(/\\/, "\\e", s)
      gsub(/-/, "\\-", s)
      return s
    }
    # A line of text that roff must not read as a request.
    function text(s) {
      s = esc(s)
      if (s ~ /^[.\047]/) s = "\\&" s
      return s
    }
    function flush() {
      if (tag != "") {
        print ".TP"
        n = index(tag, " ")
        if (n > 0) {
          print "\\fB" esc(substr(tag, 1, n - 1)) "\\fR" esc(substr(tag, n))
        } else {
          print "\\fB" esc(tag) "\\fR"
        }
        print text(desc)
      }
      tag = ""; desc = ""
    }
    BEGIN { print ".SS \"" title "\""; section = "" }
    NR == 1 { print text($0); next }
    /^Usage: / { print ".PP"; print text($0); next }
    /^[A-Z][A-Za-z ]*:$/ {
      flush()
      if (section == "Examples") print ".fi\n.RE"
      section = substr($0, 1, length($0) - 1)
      if (section == "Common flags") next
      print ".PP"
      print "\\fI" section ":\\fR"
      if (section == "Examples") print ".RS\n.nf"
      next
    }
    /^$/ {
      flush()
      if (section == "Examples") print ".fi\n.RE"
      if (section != "") section = "after"
      next
    }
    section == "Common flags" { next }
    section == "Examples" { sub(/^ +/, ""); print text($0); next }
    section == "after" { print ".PP"; print text($0); section = "footer"; next }
    section == "footer" { print text($0); next }
    /^          +[^ ]/ { sub(/^ +/, ""); desc = (desc == "" ? $0 : desc " " $0); next }
    /^  [^ ]/ {
      flush()
      line = substr($0, 3)
      n = match(line, /  +/)
      if (n > 0) {
        tag = substr(line, 1, n - 1)
        desc = substr(line, n + RLENGTH)
      } else {
        tag = line
      }
      next
    }
    { flush(); print ".PP"; print text($0) }
    END {
      flush()
      if (section == "Examples") print ".fi\n.RE"
    }
  '
}

# The examples of a help page and the text after them, as roff.
examples_of() {
  awk '
    function text(s) {
      gsub(/\\/, "\\e", s)
      gsub(/-/, "\\-", s)
      if (s ~ /^[.\047]/) s = "\\&" s
      return s
    }
    /^Examples:$/ { inside = 1; print ".nf"; next }
    inside == 1 && /^  / { sub(/^ +/, ""); print text($0); next }
    inside == 1 { inside = 2; print ".fi" }
    inside == 2 && /^$/ { next }
    inside == 2 { print ".PP"; print text($0); inside = 3; next }
    inside == 3 { print text($0) }
    END { if (inside == 1) print ".fi" }
  '
}

# The subcommand names listed in a help page.
subcommands_of() {
  awk '
    /^Subcommands:$/ { inside = 1; next }
    /^[^ ]/ || /^$/ { inside = 0 }
    inside && /^  [a-z]/ { print $1 }
  '
}

# Prints the pages of `name PATH...` and of everything below it.
walk() {
  local help sub
  help="$("$program" "$@" --help)"
  if [[ $# -gt 0 ]]; then
    printf '%s\n' "$help" | to_roff "$name $*"
  fi
  for sub in $(printf '%s\n' "$help" | subcommands_of); do
    walk "$@" "$sub"
  done
}

top="$("$program" --help)"
if [[ -n "$(printf '%s\n' "$top" | subcommands_of)" ]]; then
  echo "[SUBCOMMANDS]"
  printf '%s\n' \
    "Each subcommand has its own help page, \\fB$name SUBCOMMAND \\-\\-help\\fR;" \
    "here they are in full, without the common flags (see \\fBOPTIONS\\fR)."
  walk
fi
if [[ -n "$(printf '%s\n' "$top" | examples_of)" ]]; then
  echo
  echo "[=EXAMPLES]"
  printf '%s\n' "$top" | examples_of
fi
