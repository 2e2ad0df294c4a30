#!/usr/bin/env bash
# //packaging:install into a scratch DESTDIR: every file lands where
# docs/cli.md says, with its mode, and works from there (the binaries run,
# the completions parse, the man pages render); a bad command line exits 64
# with one line; --dry-run writes nothing.
set -euo pipefail

install_bin="packaging/install"
tmp="${TEST_TMPDIR:?run me with bazel test}"
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

expect_file() {  # PATH MODE
  if [[ ! -f "$1" ]]; then
    fail "$1 was not installed"
    return
  fi
  local mode
  mode="$(stat -c %a "$1")"
  [[ "$mode" == "$2" ]] || fail "$1 has mode $mode, not $2"
}

# --- an install with --destdir and --prefix ---
dest="$tmp/stage"
out="$("$install_bin" --prefix /usr/local --destdir "$dest")" ||
  fail "install exited $?"
root="$dest/usr/local"
expect_file "$root/bin/conch" 755
expect_file "$root/bin/conchd" 755
expect_file "$root/share/man/man1/conch.1" 644
expect_file "$root/share/man/man8/conchd.8" 644
expect_file "$root/share/bash-completion/completions/conch" 644
expect_file "$root/share/zsh/site-functions/_conch" 644
[[ "$(printf '%s\n' "$out" | grep -c '^installed ')" -eq 6 ]] ||
  fail "expected 6 'installed' lines, got: $out"
[[ "$(find "$dest" -type f | wc -l)" -eq 6 ]] ||
  fail "files other than the 6 were written: $(find "$dest" -type f)"

# What was installed works from there.
export ASAN_OPTIONS=detect_leaks=0 TSAN_OPTIONS=report_bugs=0
"$root/bin/conch" --version | grep -q '^conch ' || fail "conch --version"
"$root/bin/conchd" --version | grep -q '^conchd ' || fail "conchd --version"
bash -n "$root/share/bash-completion/completions/conch" ||
  fail "the bash completion does not parse"
zsh -n "$root/share/zsh/site-functions/_conch" ||
  fail "the zsh completion does not parse"
(
  # shellcheck source=/dev/null
  source "$root/share/bash-completion/completions/conch"
  complete -p conch | grep -q -- '-F _conch conch'
) || fail "sourcing the bash completion does not register it"
for page in man1/conch.1 man8/conchd.8; do
  groff -man -Tascii -P-cbou "$root/share/man/$page" 2>&1 | grep -q '^NAME' ||
    fail "$page does not render with a NAME section"
done

# DESTDIR from the environment; the default prefix.
DESTDIR="$tmp/env-stage" "$install_bin" >/dev/null || fail "DESTDIR install"
expect_file "$tmp/env-stage/usr/local/bin/conch" 755

# --prefix=DIR, and installing over an earlier install.
"$install_bin" --prefix=/opt/conch/ --destdir="$dest" >/dev/null ||
  fail "--prefix=DIR"
"$install_bin" --prefix=/opt/conch --destdir="$dest" >/dev/null ||
  fail "installing again"
expect_file "$dest/opt/conch/share/zsh/site-functions/_conch" 644

# --dry-run lists and writes nothing.
out="$("$install_bin" --dry-run --destdir "$tmp/dry")" || fail "--dry-run"
[[ ! -e "$tmp/dry" ]] || fail "--dry-run wrote $tmp/dry"
printf '%s\n' "$out" | grep -qx "would install $tmp/dry/usr/local/bin/conchd" ||
  fail "--dry-run did not list conchd: $out"

# Bad command lines: exit 64, one line on stderr, nothing written.
bad() {  # ARGS...
  local code=0 err
  err="$("$install_bin" "$@" --destdir "$tmp/bad" 2>&1 >/dev/null)" || code=$?
  [[ "$code" -eq 64 ]] || fail "install $*: exit $code, not 64"
  [[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 && "$err" == install:* ]] ||
    fail "install $*: not one line: $err"
  [[ ! -e "$tmp/bad" ]] || fail "install $*: wrote $tmp/bad"
}
bad --bogus
bad --prefix
bad --prefix relative/dir
bad --prefix ''

# A destination that cannot be written: 73.
touch "$tmp/a-file"
code=0
"$install_bin" --destdir "$tmp/a-file" >/dev/null 2>&1 || code=$?
[[ "$code" -eq 73 ]] || fail "an unwritable destination: exit $code, not 73"

"$install_bin" --help | grep -q '^Usage: ' || fail "--help"

if [[ "$failures" -gt 0 ]]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "PASS"
