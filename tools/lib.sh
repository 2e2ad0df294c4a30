# Shared helpers for the scripts in tools/. Source it; do not run it.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Sets CONCH_ROOT (the repository root) and defines logging and stage
# headers, where buildifier lives (install-deps.sh installs it there), and the
# file lists the format scripts work on.

CONCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# buildifier comes from the npm package @bazel/buildifier, which ships static
# binaries for each platform inside the tarball (no download at install time).
# The version is pinned so every machine formats BUILD files the same way.
CONCH_BUILDIFIER_VERSION="${CONCH_BUILDIFIER_VERSION:-8.2.1}"
CONCH_NPM_PREFIX="${CONCH_NPM_PREFIX:-${HOME}/.cache/conch-npm}"

# Prints a "==== name ====" banner so a long log can be skimmed by stage.
conch_header() {
  printf '\n==== %s ====\n' "$*"
}

conch_log() {
  printf '[%s] %s\n' "$(basename "$0")" "$*"
}

conch_die() {
  printf '[%s] error: %s\n' "$(basename "$0")" "$*" >&2
  exit 1
}

# The package directory of the npm-installed buildifier.
conch_buildifier_pkg_dir() {
  printf '%s\n' "${CONCH_NPM_PREFIX}/node_modules/@bazel/buildifier"
}

# Prints the path of the native buildifier binary shipped in the npm package
# for this machine, or nothing when it is not installed.
conch_buildifier_npm_bin() {
  local dir arch
  dir="$(conch_buildifier_pkg_dir)"
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    riscv64) arch=riscv64 ;;
    *) arch="" ;;
  esac
  if [[ -n "$arch" && -x "${dir}/buildifier-linux_${arch}" ]]; then
    printf '%s\n' "${dir}/buildifier-linux_${arch}"
  elif [[ -x "${CONCH_NPM_PREFIX}/node_modules/.bin/buildifier" ]]; then
    # The package's node wrapper, which picks the binary itself.
    printf '%s\n' "${CONCH_NPM_PREFIX}/node_modules/.bin/buildifier"
  fi
}

# Prints the buildifier to use: $BUILDIFIER if set, else the pinned npm
# install, else one on PATH. Prints nothing when there is none.
conch_buildifier() {
  if [[ -n "${BUILDIFIER:-}" ]]; then
    printf '%s\n' "$BUILDIFIER"
    return 0
  fi
  local bin
  bin="$(conch_buildifier_npm_bin)"
  if [[ -z "$bin" ]]; then
    bin="$(command -v buildifier || true)"
  fi
  if [[ -n "$bin" ]]; then
    printf '%s\n' "$bin"
  fi
}

# Lists the files of the repository that git knows or would add: tracked
# files plus untracked ones that are not ignored, so a check before the first
# commit sees new files too. bazel-* convenience symlinks are never listed.
conch_repo_files() {
  git -C "$CONCH_ROOT" ls-files --cached --others --exclude-standard |
    grep -v -E '^bazel-' |
    sort -u |
    while IFS= read -r f; do
      if [[ -f "${CONCH_ROOT}/${f}" && ! -L "${CONCH_ROOT}/${f}" ]]; then
        printf '%s\n' "$f"
      fi
    done
}

# C++ sources and headers checked by clang-format.
conch_cxx_files() {
  conch_repo_files | grep -E '\.(cc|h)$' || true
}

# Bazel files checked by buildifier.
conch_bazel_files() {
  conch_repo_files |
    grep -E '(^|/)(BUILD|BUILD\.bazel|WORKSPACE|WORKSPACE\.bazel)$|\.bzl$|\.BUILD$' ||
    true
}

# Fills the arrays CONCH_CXX_FILES and CONCH_BAZEL_FILES with the files the
# format scripts work on: the given paths when there are any (sorted by kind,
# others skipped with a note), else every C++ and Bazel file of the repo.
# Paths come out relative to the repo root, for use after `cd "$CONCH_ROOT"`.
conch_collect_format_files() {
  CONCH_CXX_FILES=()
  CONCH_BAZEL_FILES=()
  if [[ $# -eq 0 ]]; then
    mapfile -t CONCH_CXX_FILES < <(conch_cxx_files)
    mapfile -t CONCH_BAZEL_FILES < <(conch_bazel_files)
    return 0
  fi
  local f
  for f in "$@"; do
    # Relative to the caller's directory; shown relative to the repo root.
    if [[ -e "$f" ]]; then
      f="$(cd "$(dirname "$f")" && pwd)/$(basename "$f")"
      f="${f#"${CONCH_ROOT}/"}"
    fi
    case "$(basename "$f")" in
      *.cc | *.h) CONCH_CXX_FILES+=("$f") ;;
      BUILD | BUILD.bazel | WORKSPACE | WORKSPACE.bazel | *.bzl | *.BUILD)
        CONCH_BAZEL_FILES+=("$f") ;;
      *) conch_log "not a C++ or Bazel file, skipped: $f" ;;
    esac
  done
}

# Dies with a hint unless clang-format and buildifier are available; sets
# CONCH_BUILDIFIER_BIN.
conch_require_formatters() {
  command -v clang-format >/dev/null 2>&1 ||
    conch_die "clang-format not found: run 'bash tools/install-deps.sh'"
  CONCH_BUILDIFIER_BIN="$(conch_buildifier)"
  [[ -n "$CONCH_BUILDIFIER_BIN" ]] ||
    conch_die "buildifier not found: run 'bash tools/install-deps.sh'"
}
