#!/usr/bin/env bash
# Installs conch as Bazel built it: the two binaries, the man pages and the
# bash and zsh completions.
#
#   bazel run //packaging:install -- [--prefix DIR] [--destdir DIR] [--dry-run]
#   bazel run --config=release //packaging:install -- --prefix /usr/local
#
# Where the files go, under DESTDIR + PREFIX (PREFIX is /usr/local unless
# given; DESTDIR comes from --destdir, else $DESTDIR, else nothing):
#
#   bin/conch, bin/conchd                          mode 0755
#   share/man/man1/conch.1                         mode 0644
#   share/man/man8/conchd.8                        mode 0644
#   share/bash-completion/completions/conch        mode 0644
#   share/zsh/site-functions/_conch                mode 0644
#
# PREFIX is where the files will be found once installed, so it must be
# absolute; DESTDIR is a staging directory for packaging, relative to where
# `bazel run` was started if it is relative. Existing files are replaced.
#
# Exit codes: 0 installed (or listed, with --dry-run); 64 a bad command line
# (one line on stderr); 73 a file or directory could not be written.
set -euo pipefail

readonly EX_USAGE=64
readonly EX_CANTCREAT=73
readonly WORKSPACE_NAME=conch

usage() {
  cat <<'EOF'
Usage: bazel run //packaging:install -- [--prefix DIR] [--destdir DIR] [--dry-run]

Installs conch, conchd, their man pages and the bash and zsh completions
under DESTDIR + PREFIX:
  bin/conch, bin/conchd
  share/man/man1/conch.1, share/man/man8/conchd.8
  share/bash-completion/completions/conch
  share/zsh/site-functions/_conch

Options:
  --prefix DIR    the installation prefix, absolute (default /usr/local)
  --destdir DIR   stage the files under DIR (default: $DESTDIR, else none)
  -n, --dry-run   print what would be installed, install nothing
  -h, --help      print this help and exit
EOF
}

# One line on stderr, exit 64.
usage_error() {
  echo "install: $* (see --help)" >&2
  exit "$EX_USAGE"
}

prefix=/usr/local
destdir="${DESTDIR:-}"
dry_run=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --prefix | --destdir)
      [[ $# -ge 2 ]] || usage_error "$1 needs a value (DIR)"
      if [[ "$1" == --prefix ]]; then prefix="$2"; else destdir="$2"; fi
      shift 2
      ;;
    --prefix=*) prefix="${1#*=}"; shift ;;
    --destdir=*) destdir="${1#*=}"; shift ;;
    -n | --dry-run) dry_run=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown option \"$1\"" ;;
  esac
done
[[ -n "$prefix" ]] || usage_error "invalid --prefix \"\": the value is empty"
[[ "$prefix" == /* ]] ||
  usage_error "invalid --prefix \"$prefix\": must be an absolute path"
prefix="${prefix%/}"
if [[ -n "$destdir" && "$destdir" != /* ]]; then
  # `bazel run` starts us in the runfiles; the user meant their directory.
  destdir="${BUILD_WORKING_DIRECTORY:-$PWD}/$destdir"
fi
destdir="${destdir%/}"

# The built files: in our runfiles (`bazel run`, or bazel-bin/...), or in
# those of a test that has us as data.
runfiles=""
for candidate in "$0.runfiles/$WORKSPACE_NAME" \
  "${RUNFILES_DIR:-/nonexistent}/$WORKSPACE_NAME" \
  "${TEST_SRCDIR:-/nonexistent}/$WORKSPACE_NAME"; do
  if [[ -d "$candidate/packaging" ]]; then
    runfiles="$candidate"
    break
  fi
done
if [[ -z "$runfiles" ]]; then
  echo "install: cannot find the built files; run it with bazel run //packaging:install" >&2
  exit 1
fi

# source (in the runfiles), destination (below the prefix), mode.
FILES=(
  "conch/conch" "bin/conch" 0755
  "conch/conchd" "bin/conchd" 0755
  "packaging/conch.1" "share/man/man1/conch.1" 0644
  "packaging/conchd.8" "share/man/man8/conchd.8" 0644
  "packaging/conch.bash" "share/bash-completion/completions/conch" 0644
  "packaging/_conch" "share/zsh/site-functions/_conch" 0644
)

for ((i = 0; i < ${#FILES[@]}; i += 3)); do
  src="$runfiles/${FILES[i]}"
  dest="$destdir$prefix/${FILES[i + 1]}"
  mode="${FILES[i + 2]}"
  if [[ ! -f "$src" ]]; then
    echo "install: missing built file ${FILES[i]}" >&2
    exit 1
  fi
  if [[ "$dry_run" -eq 1 ]]; then
    echo "would install $dest"
    continue
  fi
  if ! install -d -m 0755 "$(dirname "$dest")" 2>/dev/null ||
    ! install -m "$mode" "$src" "$dest" 2>/dev/null; then
    echo "install: cannot write $dest" >&2
    exit "$EX_CANTCREAT"
  fi
  echo "installed $dest"
done
