#!/usr/bin/env bash
# Measures `conch elect` against a throwaway etcd on tmpfs (release
# build) and prints:
#   - handover: clean exit of the leader's child -> the standby's child runs
#   - revoke -> SIGTERM: `etcdctl lease revoke` -> the child's TERM trap
#     (raw, and minus the median cost of etcdctl itself)
#   - wrapper SIGKILL -> the child is gone (the fuse)
#   - RSS of a waiting and of a holding conch
#
#   bash tools/bench_elect.sh [ROUNDS]     (default 20)
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

ROUNDS="${1:-20}"

# Whether process $1 runs (a zombie waiting for its reaper does not).
running() {
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z ]]
}

# Waits (polling every 2 ms, at most 10 s) until file $1 exists.
wait_file() {
  local i
  for ((i = 0; i < 5000; i++)); do
    [[ -s "$1" ]] && return 0
    sleep 0.002
  done
  conch_die "timed out waiting for $1"
}

# Prints "p50 p90 max" in ms of the numbers (ns) on stdin.
stats() {
  sort -n | awk '{a[NR]=$1} END {
    p50=a[int((NR+1)*0.5)]; p90=a[int(NR*0.9)>0?int(NR*0.9):1];
    printf "p50=%7.1f ms  p90=%7.1f ms  max=%7.1f ms  (n=%d)\n",
      p50/1e6, p90/1e6, a[NR]/1e6, NR }'
}

keys_of() { etcdctl_local get "/bench/elect/$1/" --prefix --keys-only | grep -c . || true; }

main() {
  bench_begin //conch:conch
  local conch="${BENCH_BIN}/conch/conch"
  WORK="$BENCH_WORK"
  export CONCH_ENDPOINTS="$LOCAL_ETCD_ENDPOINT" CONCH_PREFIX=/bench/
  echo "${ROUNDS} rounds"

  conch_header "handover after a clean exit"
  local i
  : >"$WORK/handover"
  for ((i = 0; i < ROUNDS; i++)); do
    rm -f "$WORK"/{a.up,a.end,b.start,go}
    "$conch" elect "h$i" -- sh -c "echo 1 > $WORK/a.up; while [ ! -e $WORK/go ]; do sleep 0.005; done; date +%s%N > $WORK/a.end" &
    local a=$!
    wait_file "$WORK/a.up"
    "$conch" elect "h$i" -- sh -c "date +%s%N > $WORK/b.start" &
    local b=$!
    until [[ "$(keys_of "h$i")" == 2 ]]; do sleep 0.005; done
    : >"$WORK/go"
    wait "$a" "$b"
    echo $(($(cat "$WORK/b.start") - $(cat "$WORK/a.end"))) >>"$WORK/handover"
  done
  printf 'child A ends -> child B starts   '
  stats <"$WORK/handover"

  conch_header "lease revoke -> SIGTERM in the child"
  : >"$WORK/revoke"
  : >"$WORK/etcdctl"
  for ((i = 0; i < ROUNDS; i++)); do
    rm -f "$WORK"/{up,term}
    "$conch" elect "r$i" --kill-after 2s -- sh -c "trap 'date +%s%N > $WORK/term; exit 0' TERM; echo 1 > $WORK/up; sleep 1000 & wait" &
    local w=$!
    wait_file "$WORK/up"
    local lease
    lease="$("$conch" elect "r$i" --who --json | sed -n 's/.*"lease":"\([0-9a-f]*\)".*/\1/p')"
    local t0
    t0="$(now_ns)"
    etcdctl_local lease revoke "$lease" >/dev/null
    wait_file "$WORK/term"
    echo $(($(cat "$WORK/term") - t0)) >>"$WORK/revoke"
    wait "$w" || true
    # What etcdctl itself costs (a fresh lease, nothing attached).
    local spare
    spare="$(etcdctl_local lease grant 60 | awk '{print $2}')"
    t0="$(now_ns)"
    etcdctl_local lease revoke "$spare" >/dev/null
    echo $(($(now_ns) - t0)) >>"$WORK/etcdctl"
  done
  printf 'etcdctl revoke -> TERM (raw)     '
  stats <"$WORK/revoke"
  printf 'etcdctl lease revoke alone       '
  stats <"$WORK/etcdctl"

  conch_header "wrapper SIGKILL -> child gone (fuse)"
  : >"$WORK/fuse"
  for ((i = 0; i < ROUNDS; i++)); do
    rm -f "$WORK/pid"
    "$conch" elect "k$i" -- sh -c "echo \$\$ > $WORK/pid; sleep 1000 & wait" &
    local w=$!
    wait_file "$WORK/pid"
    local child
    child="$(cat "$WORK/pid")"
    local t0
    t0="$(now_ns)"
    kill -9 "$w"
    while running "$child"; do sleep 0.001; done
    echo $(($(now_ns) - t0)) >>"$WORK/fuse"
    { wait "$w"; } 2>/dev/null || true
  done
  printf 'kill -9 wrapper -> child gone    '
  stats <"$WORK/fuse"

  conch_header "RSS"
  rm -f "$WORK"/{up,go}
  "$conch" elect rss -- sh -c "echo 1 > $WORK/up; while [ ! -e $WORK/go ]; do sleep 0.05; done" &
  local holder=$!
  wait_file "$WORK/up"
  "$conch" elect rss -- true &
  local waiter=$!
  until [[ "$(keys_of rss)" == 2 ]]; do sleep 0.01; done
  sleep 0.5  # let both settle before reading RSS (a measurement, not a sync)
  echo "holding conch: $(awk '/VmRSS/ {print $2, $3}' "/proc/${holder}/status")"
  echo "waiting conch: $(awk '/VmRSS/ {print $2, $3}' "/proc/${waiter}/status")"
  : >"$WORK/go"
  wait "$holder" "$waiter"
}

main "$@" 2> >(grep -v " Killed " >&2)
