#!/usr/bin/env bash
# conch-smoke.sh: the cluster smoke of spec 06 (section 4). Run it against a
# real etcd cluster, with at least one conchd serving the same --prefix, after
# installing or upgrading conch:
#
#   CONCH_ENDPOINTS=https://etcd1:2379,https://etcd2:2379 bash tools/conch-smoke.sh
#
# Every step is printed; the first failure ends the run with exit 1. The
# names are unique to this run (smoke-<host>-<pid>), and whatever the run
# created is removed again (leases revoked, the cron job and its history
# purged), so nothing is left behind in etcd.
#
# Environment: CONCH_ENDPOINTS (required) and the other CONCH_* variables
# of conch (CONCH_PREFIX, CONCH_CACERT, CONCH_USER, ...) as for conch itself;
# CONCH_BIN, the conch binary (default: `conch` on PATH, else this tree's
# bazel-bin/conch/conch); CONCH_SMOKE_EVERY, the cron step's period
# (default 1m; the tests use a few seconds).
set -euo pipefail

: "${CONCH_ENDPOINTS:?set CONCH_ENDPOINTS to the client URLs of the cluster}"
export CONCH_ENDPOINTS
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONCH="${CONCH_BIN:-$(command -v conch || echo "${ROOT}/bazel-bin/conch/conch")}"
EVERY="${CONCH_SMOKE_EVERY:-1m}"
NAME="smoke-$(hostname -s 2>/dev/null || echo host)-$$"
HOLDER_PID=""
JOB_ADDED=0

step() { printf '[smoke] %s\n' "$*"; }
fail() {
  printf '[smoke] FAILED: %s\n' "$*" >&2
  exit 1
}

cleanup() {
  local rc=$?
  set +e
  [[ -n "$HOLDER_PID" ]] && kill -TERM "$HOLDER_PID" 2>/dev/null && wait "$HOLDER_PID" 2>/dev/null
  [[ "$JOB_ADDED" == 1 ]] && "$CONCH" cron rm "$NAME" --purge >/dev/null 2>&1
  exit "$rc"
}
trap cleanup EXIT

# Runs conch, expecting exit code $1; prints its output.
expect() {
  local want="$1" rc=0
  shift
  "$CONCH" "$@" || rc=$?
  [[ "$rc" == "$want" ]] || fail "conch $* exited ${rc}, want ${want}"
}

# Polls `conch ARGS` until it exits 0, for at most $1 seconds.
wait_ok() {
  local secs="$1" deadline
  shift
  deadline=$((SECONDS + secs))
  until "$CONCH" "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "conch $* did not succeed within ${secs}s"
    sleep 0.2
  done
}

[[ -x "$CONCH" ]] || fail "no conch binary at ${CONCH} (set CONCH_BIN)"
step "conch $("$CONCH" --version | awk '{print $2}') against ${CONCH_ENDPOINTS}, names ${NAME}"

step "1. etcd answers"
expect 0 status

step "2. elect --who on a vacant office exits 1"
expect 1 elect "$NAME" --who

step "3. elect runs a child on the leader (a real quorum write)"
expect 0 elect "$NAME" -- sh -c 'test -n "$CONCH_REV"'
expect 1 elect "$NAME" --who

step "4. sema --max 2: a holder shows in --who"
"$CONCH" sema "$NAME" --max 2 -- sleep 30 &
HOLDER_PID=$!
wait_ok 20 sema "$NAME" --max 2 --who
expect 0 sema "$NAME" --max 2 --who
kill -TERM "$HOLDER_PID"
rc=0
wait "$HOLDER_PID" || rc=$?
HOLDER_PID=""
[[ "$rc" == 143 ]] || fail "the sema holder exited ${rc} on TERM, want 143"
expect 1 sema "$NAME" --who

step "5. cron: @every ${EVERY}, one tick later exactly one result"
expect 0 cron add "$NAME" --schedule "@every ${EVERY}" -- true
JOB_ADDED=1
# The rows of ls's history table: after the empty line and the table's
# header, tab-separated JOB TICK STATE DAEMON REV (docs/cli.md).
tick_rows() {
  "$CONCH" cron ls "$NAME" --history 100 -o tsv | awk 'h {print} /^$/ {getline; h = 1}'
}
ticks() { tick_rows | grep -c . || true; }
ok_ticks() { tick_rows | awk -F'\t' '$3 == "ok"' | grep -c . || true; }
period_s="$("$CONCH" cron next --schedule "@every ${EVERY}" --count 2 |
  awk '{print $1}' | xargs -n1 date +%s -d | awk 'NR==1 {a=$1} NR==2 {print $1-a}')"
deadline=$((SECONDS + 2 * period_s + 10))
until [[ "$(ok_ticks)" -ge 1 ]]; do
  ((SECONDS < deadline)) || fail "no tick of ${NAME} was run within $((2 * period_s + 10))s (is a conchd running on this prefix?)"
  sleep 0.5
done
n="$(ticks)"
[[ "$n" == 1 ]] || fail "${n} ticks recorded after the first one ran, want exactly 1"
"$CONCH" cron ls "$NAME" --history 1
expect 0 cron rm "$NAME" --purge
JOB_ADDED=0
expect 1 cron ls "$NAME"

step "6. nothing left behind"
expect 1 elect "$NAME" --who
expect 1 sema "$NAME" --who
step "ok"
