#!/usr/bin/env bash
# Fails when formatting would change a file:
# - C++ (*.cc, *.h): clang-format --dry-run -Werror --style=file (.clang-format);
# - Bazel (BUILD, BUILD.bazel, WORKSPACE, *.bzl, *.BUILD):
#   buildifier --mode=check --lint=off.
# Checks every file git tracks or would add (untracked, not ignored), except
# the bazel-* symlinks. With file arguments, checks only those files.
#
#   bash tools/format-check.sh [FILE...]
#
# tools/format.sh rewrites the files this script complains about.
set -euo pipefail

# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
conch_collect_format_files "$@"
cd "$CONCH_ROOT"
conch_require_formatters

bad_cxx=()
for f in "${CONCH_CXX_FILES[@]}"; do
  if ! clang-format --dry-run -Werror --style=file "$f" >/dev/null 2>&1; then
    bad_cxx+=("$f")
  fi
done

bad_bazel=()
if [[ ${#CONCH_BAZEL_FILES[@]} -gt 0 ]]; then
  # Exit 4 means "reformat needed", and each such file is printed as
  # "path # reformat"; any other non-zero exit is a parse error.
  set +e
  out="$("$CONCH_BUILDIFIER_BIN" --mode=check --lint=off "${CONCH_BAZEL_FILES[@]}" 2>&1)"
  rc=$?
  set -e
  if [[ $rc -ne 0 && $rc -ne 4 ]]; then
    printf '%s\n' "$out" >&2
    conch_die "buildifier failed (exit ${rc})"
  fi
  mapfile -t bad_bazel < <(printf '%s\n' "$out" | sed -n 's/ # reformat$//p')
fi

printf 'format-check: %d C++ files (clang-format %s), %d Bazel files (buildifier)\n' \
  "${#CONCH_CXX_FILES[@]}" "$(clang-format --version | sed -n 's/.*version \([0-9.]*\).*/\1/p')" \
  "${#CONCH_BAZEL_FILES[@]}"

if [[ ${#bad_cxx[@]} -eq 0 && ${#bad_bazel[@]} -eq 0 ]]; then
  echo "format-check: ok"
  exit 0
fi
if [[ ${#bad_cxx[@]} -gt 0 ]]; then
  echo "clang-format would change:"
  printf '  %s\n' "${bad_cxx[@]}"
fi
if [[ ${#bad_bazel[@]} -gt 0 ]]; then
  echo "buildifier would change:"
  printf '  %s\n' "${bad_bazel[@]}"
fi
echo "format-check: FAILED; run 'bash tools/format.sh' to fix"
exit 1
