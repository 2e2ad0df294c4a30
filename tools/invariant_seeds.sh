#!/usr/bin/env bash
# Runs the invariant tests (//testing:invariant_test) with M random seeds
# and prints one summary: per seed and scenario the faults injected, the
# violations, and the longest overlap window per fault kind; then the
# totals. A failing seed is printed with the command that replays it.
#
#   bash tools/invariant_seeds.sh [M]        (default 20)
#   CONCH_SEEDS="1 2 3" bash tools/invariant_seeds.sh   (given seeds)
#
# Each seed runs every scenario (elect N=1, sema N=2 and N=3 with
# cooperative children, elect with children that ignore SIGTERM): about
# two minutes per seed on 2 cores.
set -euo pipefail

# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$CONCH_ROOT"

M="${1:-20}"
if [[ -n "${CONCH_SEEDS:-}" ]]; then
  read -r -a SEEDS <<<"$CONCH_SEEDS"
else
  SEEDS=()
  for ((i = 0; i < M; i++)); do
    SEEDS+=("$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')")
  done
fi

OUT="$(mktemp)"
trap 'rm -f "$OUT"' EXIT
failed=()
for seed in "${SEEDS[@]}"; do
  conch_header "seed ${seed}"
  if bazel test //testing:invariant_test --jobs=2 --test_env=CONCH_SEED="$seed" \
    --test_output=all --nocache_test_results >"$OUT.run" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$seed")
  fi
  grep '^SUMMARY' "$OUT.run" | tee -a "$OUT" || true
  echo "seed ${seed}: ${status}"
  if [[ "$status" == FAILED ]]; then
    grep -E 'Failure|holders|token|seed [0-9]+:' "$OUT.run" | head -20 || true
  fi
done
rm -f "$OUT.run"

conch_header "summary over ${#SEEDS[@]} seeds"
awk '
  /^SUMMARY/ {
    runs++
    for (i = 1; i <= NF; i++) {
      if ($i ~ /^faults=/) { split($i, a, "="); faults += a[2] }
      if ($i ~ /^violations=/) { split($i, a, "="); violations += a[2] }
      if ($i ~ /^missed_watch_events=/) { split($i, a, "="); missed += a[2] }
      if ($i ~ /^late_after_stream_break=/) { split($i, a, "="); late += a[2] }
      if ($i ~ /^late_during_read=/) { split($i, a, "="); during += a[2] }
    }
    # The windows are the key=value pairs inside max_overlap_ms{...}.
    w = $0
    sub(/.*max_overlap_ms\{/, "", w)
    sub(/\}.*/, "", w)
    n = split(w, pairs, " ")
    for (j = 1; j <= n; j++) {
      split(pairs[j], kv, "=")
      if (kv[2] + 0 > max[kv[1]]) max[kv[1]] = kv[2] + 0
      seen[kv[1]] = 1
    }
  }
  END {
    printf "scenario runs %d, faults injected %d, violations %d\n", runs, faults, violations
    printf "waiters that acquired on their periodic re-read: %d with no watch event, %d while the watch stream was re-opening, %d with the event arriving during the read\n", missed, late, during
    printf "max overlap window (ms):"
    for (k in seen) printf " %s=%.1f", k, max[k]
    printf "\n"
  }' "$OUT"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "FAILED seeds: ${failed[*]}"
  echo "replay one: bazel test //testing:invariant_test --test_env=CONCH_SEED=<seed> --test_output=all"
  exit 1
fi
echo "all seeds passed"
