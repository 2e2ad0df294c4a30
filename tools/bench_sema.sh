#!/usr/bin/env bash
# Measures `conch sema` against a throwaway etcd on tmpfs, with the release
# build (-c opt, statically linked), and prints:
#   (a) one whole-process cycle `conch sema X --max 1 -- true` against
#       `etcdctl lock X -- true`, interleaved, medians and their ratio;
#   (b) acquisitions per second with K contenders looping on N slots;
#   (c) watch events etcd delivers per release, for queues of L waiters
#       (etcd_debugging_mvcc_events_total on its /metrics).
#
#   bash tools/bench_sema.sh [CYCLES] [SECONDS] [LENGTHS]
#   defaults: 30 cycles, 5 s per (K, N), queue lengths "10 100 500"
#   BENCH_SEMA_PARTS="a" runs only the parts named (default "a b c").
#
# Numbers only; nothing is asserted (the tests do that).
set -euo pipefail

# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tools/local_etcd.sh
source "$(dirname "${BASH_SOURCE[0]}")/local_etcd.sh"
# shellcheck source=tools/bench_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"
cd "$CONCH_ROOT"

CYCLES="${1:-30}"
SECONDS_PER_RUN="${2:-5}"
LENGTHS="${3:-10 100 500}"
WORK=""
CONCH=""

median_ms() {
  sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1e6}'
}

metric() {
  curl -s "http://${LOCAL_METRICS}/metrics" |
    awk '$1 == "etcd_debugging_mvcc_events_total" {print $2}'
}

queue_len() {
  etcdctl_local get "/bench/sema/$1/1/q/" --prefix --keys-only | grep -c . || true
}

# Waits until the events counter stops moving (200 ms without change).
settle() {
  local prev now
  prev="$(metric)"
  while true; do
    sleep 0.2
    now="$(metric)"
    [[ "$now" == "$prev" ]] && break
    prev="$now"
  done
}

part_a() {
  conch_header "(a) one cycle: conch sema --max 1 -- true  vs  etcdctl lock -- true"
  : >"$WORK/conch" && : >"$WORK/etcdctl"
  # Timed with bash's own clock ($EPOCHREALTIME, microseconds): reading it
  # starts no process, so only the command itself is measured.
  local i t0 t1
  for ((i = 0; i < CYCLES + 3; i++)); do
    t0="${EPOCHREALTIME/./}"
    "$CONCH" sema cycle --max 1 -- true
    t1="${EPOCHREALTIME/./}"
    ((i < 3)) || echo $(((t1 - t0) * 1000)) >>"$WORK/conch"
    t0="${EPOCHREALTIME/./}"
    etcdctl_local lock cycle -- true >/dev/null
    t1="${EPOCHREALTIME/./}"
    ((i < 3)) || echo $(((t1 - t0) * 1000)) >>"$WORK/etcdctl"
  done
  local c e
  c="$(median_ms <"$WORK/conch")"
  e="$(median_ms <"$WORK/etcdctl")"
  printf 'conch sema cycle     median %6s ms  (n=%d)\n' "$c" "$CYCLES"
  printf 'etcdctl lock cycle   median %6s ms  (n=%d)\n' "$e" "$CYCLES"
  awk -v c="$c" -v e="$e" 'BEGIN {printf "ratio conch/etcdctl  %.2f  (goal <= 0.5)\n", c/e}'
}

# K loops of `conch sema T --max N -- true` for SECONDS_PER_RUN seconds.
throughput() {
  local k="$1" n="$2" name="tp-$1-$2" j
  rm -f "$WORK"/count.*
  local stop=$((SECONDS + SECONDS_PER_RUN))
  local loops=()
  for ((j = 0; j < k; j++)); do
    (
      c=0
      while ((SECONDS < stop)); do
        "$CONCH" sema "$name" --max "$n" -- true && c=$((c + 1))
      done
      echo "$c" >"$WORK/count.$j"
    ) &
    loops+=($!)
  done
  wait "${loops[@]}"  # not a bare wait: etcd is a background job too
  local total
  total="$(cat "$WORK"/count.* | awk '{s+=$1} END {print s}')"
  awk -v t="$total" -v s="$SECONDS_PER_RUN" -v k="$k" -v n="$n" \
    'BEGIN {printf "K=%-3d N=%-2d  %6.1f acquisitions/s  (%d in %d s)\n", k, n, t/s, t, s}'
}

part_b() {
  conch_header "(b) acquisitions per second (every one a whole conch process)"
  local k n
  for n in 1 5; do
    for k in 1 10 50; do
      throughput "$k" "$n"
    done
  done
}

part_c() {
  conch_header "(c) watch events delivered per release vs queue length (N=1)"
  local len i
  for len in $LENGTHS; do
    local name="herd-$len"
    rm -f "$WORK"/go.*
    local pids=()
    for ((i = 0; i <= len; i++)); do
      "$CONCH" sema "$name" --max 1 -- sh -c "while [ ! -e $WORK/go.$i ]; do sleep 0.2; done" &
      pids+=($!)
      # Let each queue up before the next: a defined order.
      until [[ "$(queue_len "$name")" -ge $((i + 1)) ]]; do sleep 0.005; done
    done
    settle
    local releases=5 total=0 before after
    for ((i = 0; i < releases; i++)); do
      before="$(metric)"
      : >"$WORK/go.$i"
      until [[ "$(queue_len "$name")" -le $((len - i)) ]]; do sleep 0.01; done
      settle
      after="$(metric)"
      total=$((total + ${after%.*} - ${before%.*}))
    done
    awk -v l="$len" -v t="$total" -v r="$releases" \
      'BEGIN {printf "queue %-4d  %.1f events per release  (%d releases)\n", l, t/r, r}'
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  done
}

main() {
  local part
  for part in ${BENCH_SEMA_PARTS:-a b c}; do
    [[ "$part" == [abc] ]] ||
      conch_die "BENCH_SEMA_PARTS: unknown part \"${part}\" (use a, b, c)"
  done
  bench_begin //conch:conch
  CONCH="${BENCH_BIN}/conch/conch"
  WORK="$BENCH_WORK"
  LOCAL_METRICS="$LOCAL_ETCD_ENDPOINT"
  export CONCH_ENDPOINTS="$LOCAL_ETCD_ENDPOINT" CONCH_PREFIX=/bench/
  local part
  for part in ${BENCH_SEMA_PARTS:-a b c}; do
    "part_${part}"
  done
}

main "$@" 2> >(grep -v " Killed " >&2)
