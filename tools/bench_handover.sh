#!/usr/bin/env bash
# Measures the handover gap under contention against a throwaway etcd on
# tmpfs (release build): K=10 contenders for one office each loop
#   conch elect bench-handover --ttl 10s -- bench_hold LOG 50
# and, for comparison, etcd's own lock
#   etcdctl lock bench-handover-etcdctl bench_hold LOG 50
# where bench_hold (tools/bench_hold.cc) logs its start and end and holds
# for 50 ms. The gap is from one child's end to the next child's start,
# whoever it is. The two tools run in alternate rounds of 100 handovers
# (the first 5 of each round discarded as warm-up), stopped and drained in
# between, so both see the same machine. Prints, per tool, the gap's p50,
# p90, p99 and max in ms, the count, and how many times two children ran
# at once (overlaps; expected 0), then conch against its targets
# (p50 <= 5 ms, p99 <= 20 ms).
#
#   bash tools/bench_handover.sh [HANDOVERS_PER_TOOL]     (default 300)
#
# Numbers only; nothing is asserted (a missed target does not fail it).
set -euo pipefail

# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tools/local_etcd.sh
source "$(dirname "${BASH_SOURCE[0]}")/local_etcd.sh"
# shellcheck source=tools/bench_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"
cd "$CONCH_ROOT"

HANDOVERS="${1:-300}"
readonly K=10 HOLD_MS=50 PER_ROUND=100 WARMUP=5
readonly CONCH_OFFICE=bench-handover ETCDCTL_LOCK=bench-handover-etcdctl
# Give up on a round that makes no progress for this long (seconds).
readonly STALL_S=30

WORK=""
CONCH=""
HOLD=""
LOOP_PIDS=()  # the contender loops of the running round (session leaders)
STOP_NS=0     # when the running round was told to stop (CLOCK_REALTIME ns)

[[ "$HANDOVERS" =~ ^[1-9][0-9]*$ ]] ||
  conch_die "HANDOVERS_PER_TOOL must be a positive integer, got \"${HANDOVERS}\""

# The key prefix under which a tool's contenders queue.
office_prefix() {
  case "$1" in
    conch) printf '%s\n' "/bench/elect/${CONCH_OFFICE}/" ;;
    etcdctl) printf '%s\n' "${ETCDCTL_LOCK}/" ;;
  esac
}

# How many keys are queued in tool $1's office.
office_keys() {
  etcdctl_local get "$(office_prefix "$1")" --prefix --keys-only | grep -c . || true
}

# How many processes of session $1 are alive (zombies not counted).
# shellcheck disable=SC2009  # pgrep cannot leave out zombies alone
session_alive() {
  ps -o stat= --sid "$1" 2>/dev/null | grep -vc '^Z' || true
}

# How many lines of log $1 start with "S".
starts_in() {
  grep -c '^S' "$1" || true
}

# Starts K contender loops of tool $1, each in its own session (and so its
# own process group), the children logging to $2.
start_loops() {
  local tool="$1" log="$2" j
  LOOP_PIDS=()
  for ((j = 0; j < K; j++)); do
    case "$tool" in
      conch)
        # shellcheck disable=SC2016  # expanded by sh, from its arguments
        setsid sh -c 'while :; do "$0" elect "$1" --ttl 10s -- "$2" "$3" "$4"; done' \
          "$CONCH" "$CONCH_OFFICE" "$HOLD" "$log" "$HOLD_MS" \
          </dev/null >>"$WORK/loops.conch.out" 2>&1 &
        ;;
      etcdctl)
        # shellcheck disable=SC2016
        setsid sh -c 'while :; do etcdctl --endpoints="$0" --dial-timeout=2s lock "$1" "$2" "$3" "$4"; done' \
          "$LOCAL_ETCD_ENDPOINT" "$ETCDCTL_LOCK" "$HOLD" "$log" "$HOLD_MS" \
          </dev/null >>"$WORK/loops.etcdctl.out" 2>&1 &
        ;;
    esac
    LOOP_PIDS+=($!)
  done
}

# Stops the running loops: SIGTERM to each loop's process group (conch
# forwards it to its child and revokes; etcdctl's child is in the group),
# then waits until nothing of their sessions runs (SIGKILL after 10 s).
stop_loops() {
  ((${#LOOP_PIDS[@]} > 0)) || return 0
  STOP_NS="$(now_ns)"
  local pid i
  for pid in "${LOOP_PIDS[@]}"; do
    kill -TERM -- "-${pid}" 2>/dev/null || true
  done
  wait "${LOOP_PIDS[@]}" 2>/dev/null || true
  for pid in "${LOOP_PIDS[@]}"; do
    for ((i = 0; i < 1000; i++)); do
      [[ "$(session_alive "$pid")" == 0 ]] && break
      sleep 0.01
    done
    if [[ "$(session_alive "$pid")" != 0 ]]; then
      conch_log "loop ${pid}: still running 10 s after SIGTERM; SIGKILL"
      pkill -KILL -s "$pid" 2>/dev/null || true
    fi
  done
  LOOP_PIDS=()
}

# Waits (at most 15 s) until tool $1's office has no keys; then deletes
# what is left, with a warning, so the next round starts empty.
wait_office_empty() {
  local tool="$1" i
  for ((i = 0; i < 300; i++)); do
    [[ "$(office_keys "$tool")" == 0 ]] && return 0
    sleep 0.05
  done
  conch_log "warning: ${tool}: $(office_keys "$tool") keys left 15 s after the stop; deleting them"
  etcdctl_local del "$(office_prefix "$tool")" --prefix >/dev/null
}

# Waits until log $1 holds $2 starts; dies if no start comes for STALL_S.
wait_starts() {
  local log="$1" want="$2" have last=-1 since="$SECONDS"
  while :; do
    have="$(starts_in "$log")"
    ((have >= want)) && return 0
    if ((have != last)); then
      last="$have"
      since="$SECONDS"
    elif ((SECONDS - since > STALL_S)); then
      conch_die "no handover for ${STALL_S} s (${have} of ${want} starts); see ${WORK}/loops.*.out (BENCH_KEEP_WORK=1 keeps it)"
    fi
    sleep 0.2
  done
}

# Reads the events of log $1 (only those before $2 ns), appends the gaps
# (ns) after the first WARMUP to file $3, and appends the number of
# overlaps (a start while another child had not ended) to file $4.
gaps_of() {
  sort -k2,2n "$1" | awk -v stop="$2" -v warm="$WARMUP" -v ovf="$4" '
    $2 >= stop { next }
    $1 == "S" {
      if (holder != "") overlaps++
      else if (have_end && ++gaps > warm) print $2 - last_end
      holder = $3
    }
    $1 == "E" && $3 == holder { holder = ""; last_end = $2; have_end = 1 }
    END { print overlaps + 0 >> ovf }' >>"$3"
}

# One round of tool $1 (round number $2) until $3 handovers are kept.
round() {
  local tool="$1" n="$2" want="$3"
  local log="$WORK/${tool}.${n}.log" t0="$SECONDS"
  : >"$log"
  start_loops "$tool" "$log"
  wait_starts "$log" $((WARMUP + want + 1))
  stop_loops
  local before after
  before="$(wc -l <"$WORK/${tool}.gaps")"
  gaps_of "$log" "$STOP_NS" "$WORK/${tool}.gaps" "$WORK/${tool}.overlaps"
  after="$(wc -l <"$WORK/${tool}.gaps")"
  wait_office_empty "$tool"
  printf 'round %d %-8s %4d handovers kept in %3d s, %d overlaps\n' \
    "$n" "$tool" $((after - before)) $((SECONDS - t0)) \
    "$(tail -n 1 "$WORK/${tool}.overlaps")"
}

# Prints "n p50 p90 p99 max" (ms; nearest rank) of the ns on stdin.
percentiles() {
  sort -n | awk '{a[NR] = $1}
    function at(q,  i) { i = int(q * NR); if (i < q * NR) i++; if (i < 1) i = 1; return a[i] / 1e6 }
    END { if (NR == 0) { print 0, 0, 0, 0, 0; exit }
          printf "%d %.1f %.1f %.1f %.1f\n", NR, at(0.5), at(0.9), at(0.99), a[NR] / 1e6 }'
}

# Prints the row of tool $1 named $2; leaves "p50 p99" of it in ROW_P.
ROW_P=""
report_row() {
  local n p50 p90 p99 max overlaps
  read -r n p50 p90 p99 max < <(percentiles <"$WORK/$1.gaps")
  overlaps="$(awk '{s += $1} END {print s + 0}' "$WORK/$1.overlaps")"
  printf '%-14s %5d %8s %8s %8s %8s %9d\n' "$2" "$n" "$p50" "$p90" "$p99" "$max" "$overlaps"
  ((overlaps == 0)) || echo "WARNING: $2: ${overlaps} overlaps (two children ran at once)"
  ROW_P="$p50 $p99"
}

# Prints "met" or "missed (X ms)" for value $1 against limit $2.
verdict() {
  awk -v v="$1" -v l="$2" 'BEGIN { if (v <= l) print "met"; else printf "missed (%s ms)\n", v }'
}

# Kills what is left of the loops, then the shared cleanup (etcd, dirs).
handover_cleanup() {
  local rc=$? pid
  set +e
  for pid in "${LOOP_PIDS[@]}"; do
    pkill -KILL -s "$pid" 2>/dev/null || true
  done
  (exit "$rc")
  bench_cleanup
}

main() {
  local start="$SECONDS"
  bench_begin //conch:conch //tools:bench_hold
  trap handover_cleanup EXIT
  CONCH="${BENCH_BIN}/conch/conch"
  HOLD="${BENCH_BIN}/tools/bench_hold"
  WORK="$BENCH_WORK"
  export CONCH_ENDPOINTS="$LOCAL_ETCD_ENDPOINT" CONCH_PREFIX=/bench/
  echo "$(etcdctl version | head -n 1); K=${K} contenders, ${HOLD_MS} ms holds," \
    ">= ${HANDOVERS} handovers per tool, rounds of ${PER_ROUND} (+${WARMUP} warm-up)"

  conch_header "rounds (alternating)"
  local tool
  for tool in conch etcdctl; do
    : >"$WORK/${tool}.gaps"
    : >"$WORK/${tool}.overlaps"
  done
  local n=0 kept want
  while :; do
    local more=0
    n=$((n + 1))
    for tool in conch etcdctl; do
      kept="$(wc -l <"$WORK/${tool}.gaps")"
      ((kept < HANDOVERS)) || continue
      more=1
      want=$((HANDOVERS - kept))
      ((want <= PER_ROUND)) || want="$PER_ROUND"
      round "$tool" "$n" "$want"
    done
    ((more)) || break
  done

  conch_header "gap: one child's end -> the next child's start (ms)"
  printf '%-14s %5s %8s %8s %8s %8s %9s\n' tool n p50 p90 p99 max overlaps
  report_row conch "conch elect"
  local conch_p="$ROW_P"
  report_row etcdctl "etcdctl lock"
  local p50 p99
  read -r p50 p99 <<<"$conch_p"
  echo "conch targets: p50 <= 5 ms $(verdict "$p50" 5); p99 <= 20 ms $(verdict "$p99" 20)"
  # What the loops printed, but for what the stops cause (etcdctl's
  # "context canceled" and "signal: terminated").
  local out
  for tool in conch etcdctl; do
    out="$(grep -v -e 'context canceled' -e 'signal: terminated' \
      "$WORK/loops.${tool}.out" || true)"
    if [[ -n "$out" ]]; then
      echo "note: the ${tool} loops printed $(wc -l <<<"$out") other lines; first: $(head -n 1 <<<"$out")"
    fi
  done
  echo "took $((SECONDS - start)) s"
}

main "$@" 2> >(grep -v " Killed " >&2)
