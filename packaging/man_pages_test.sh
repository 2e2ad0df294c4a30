#!/usr/bin/env bash
# The man pages made at build time: a .TH header with the right name and
# section, every subcommand documented in conch(1), and both pages render
# with groff without a warning.
set -euo pipefail

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

conch1="packaging/conch.1"
conchd8="packaging/conchd.8"

grep -q '^\.TH CONCH "1" ' "$conch1" || fail "conch.1 has no .TH CONCH \"1\""
grep -q '^\.TH CONCHD "8" ' "$conchd8" || fail "conchd.8 has no .TH CONCHD \"8\""
grep -q '^conch \\- run commands under cluster' "$conch1" ||
  fail "conch.1: no NAME line"
grep -q '^conchd \\- the conch cron daemon' "$conchd8" ||
  fail "conchd.8: no NAME line"

# Every subcommand has its subsection, with its usage line.
for sub in elect sema cron "cron add" "cron rm" "cron ls" "cron run" \
  "cron logs" "cron next" status completion; do
  grep -qx "\\.SS \"conch $sub\"" "$conch1" ||
    fail "conch.1 has no subsection for conch $sub"
  grep -q "^Usage: conch $sub " "$conch1" ||
    fail "conch.1 has no usage line for conch $sub"
done
# A sample of flags: a subcommand's own, and the common ones once.
for flag in 'nonblock' 'schedule' 'overlap' 'history' 'follow' 'endpoints' \
  'kill\\-after'; do
  grep -q "\\\\fB.*\\\\-\\\\-$flag" "$conch1" || fail "conch.1 lacks --$flag"
done
[[ "$(grep -c '\\-\\-endpoints\\fR URLS' "$conch1")" -eq 1 ]] ||
  fail "conch.1 lists the common flags more than once"
for section in 'EXIT STATUS' 'SEE ALSO' 'SUBCOMMANDS' 'OPTIONS' 'EXAMPLES'; do
  grep -qx "\\.SH \"*$section\"*" "$conch1" || fail "conch.1 has no $section"
done
for flag in 'listen' 'workers' 'max\\-late'; do
  grep -q "\\\\-\\\\-$flag" "$conchd8" || fail "conchd.8 lacks --$flag"
done
grep -qx '\.SH FILES' "$conchd8" || fail "conchd.8 has no FILES"

# Rendered by groff: no warnings (all of them on), and the text is there.
for page in "$conch1" "$conchd8"; do
  warnings="$(groff -man -Tutf8 -ww -z "$page" 2>&1)" ||
    fail "groff failed on $page"
  [[ -z "$warnings" ]] || fail "groff warns about $page: $warnings"
done
text="$(groff -man -Tascii -P-cbou "$conch1" 2>/dev/null)"
grep -q 'conch cron add' <<<"$text" || fail "rendered conch.1 lacks conch cron add"
grep -q 'allow (default) or skip a tick' <<<"$text" ||
  fail "rendered conch.1 lacks the text of --overlap"
# The examples one per line, as in --help.
grep -qx ' *conch elect backup -- /usr/local/bin/backup' <<<"$text" ||
  fail "rendered conch.1: the first example is not a line of its own"
grep -qx ' *conchd --listen 127.0.0.1:9187 --job-nice 10' \
  <<<"$(groff -man -Tascii -P-cbou "$conchd8" 2>/dev/null)" ||
  fail "rendered conchd.8: an example is not a line of its own"

if [[ "$failures" -gt 0 ]]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "PASS"
