#!/usr/bin/env bash
# Rewrites files in place so that tools/format-check.sh passes: clang-format
# (--style=file) for *.cc/*.h, buildifier (--lint=off) for Bazel files.
# Without arguments it formats every file format-check.sh checks; with file
# arguments, only those.
#
#   bash tools/format.sh [FILE...]
set -euo pipefail

# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
conch_collect_format_files "$@"
cd "$CONCH_ROOT"
conch_require_formatters

if [[ ${#CONCH_CXX_FILES[@]} -gt 0 ]]; then
  clang-format -i --style=file "${CONCH_CXX_FILES[@]}"
fi
if [[ ${#CONCH_BAZEL_FILES[@]} -gt 0 ]]; then
  "$CONCH_BUILDIFIER_BIN" --mode=fix --lint=off "${CONCH_BAZEL_FILES[@]}"
fi
conch_log "formatted ${#CONCH_CXX_FILES[@]} C++ and ${#CONCH_BAZEL_FILES[@]} Bazel files"
