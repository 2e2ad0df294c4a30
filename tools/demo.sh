#!/usr/bin/env bash
# The project's demo: installs what is missing, builds conch, starts a
# throwaway single-node etcd on free loopback ports, and runs conch against
# it. etcd and its data directory are always removed at exit.
#
#   bash tools/demo.sh
#
# The demo is a list of steps (SETUP_STEPS, then CONCH_STEPS), each a
# function step_NAME, run in order. A new demo (elect, sema, cron, ...) is a
# function added to CONCH_STEPS; inside it, `conch ARGS...` runs the built
# binary against the demo etcd and `show CMD...` prints a command, then runs it.
#
# Environment:
#   CONCH_DEMO_SKIP_BUILD=1   skip the Bazel build and every conch step; only
#                             start etcd, check it with etcdctl and stop it
#                             (checks the etcd part of the demo without Bazel)
#   CONCH_DEMO_ETCD           etcd binary (default /usr/bin/etcd)
#   CONCH_DEMO_ETCD_TIMEOUT   seconds to wait for etcd to be healthy (default 30)
set -euo pipefail

# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tools/local_etcd.sh
source "$(dirname "${BASH_SOURCE[0]}")/local_etcd.sh"
cd "$CONCH_ROOT"

SETUP_STEPS=(
  deps
  build
  start_etcd
)
CONCH_STEPS=(
  version
  status
  status_json
  status_unreachable
  elect
  sema
  cron
)

SKIP_BUILD="${CONCH_DEMO_SKIP_BUILD:-0}"
LOCAL_ETCD_BIN="${CONCH_DEMO_ETCD:-/usr/bin/etcd}"
LOCAL_ETCD_TIMEOUT="${CONCH_DEMO_ETCD_TIMEOUT:-30}"
CONCH_BIN="${CONCH_ROOT}/bazel-bin/conch/conch"
CONCHD_BIN="${CONCH_ROOT}/bazel-bin/conch/conchd"

DEMO_DIR=""
ETCD_ENDPOINT=""

# Prints a command as a user would type it, then runs it; a non-zero exit
# is shown but does not end the demo, so each step can show exit codes.
show() {
  printf '\n$ %s\n' "$*"
  local rc=0
  "$@" || rc=$?
  if [[ "$rc" -ne 0 ]]; then
    printf '(exit %d)\n' "$rc"
  fi
  return 0
}

# The built conch, invoked under the name `conch` in what `show` prints.
conch() {
  "$CONCH_BIN" "$@" 3>&- 4>&-
}

step_deps() {
  bash "$CONCH_ROOT/tools/install-deps.sh" 3>&- 4>&-
}

step_build() {
  bazel build //conch:conch //conch:conchd --jobs=2 3>&- 4>&-
  [[ -x "$CONCH_BIN" ]] || conch_die "build finished but ${CONCH_BIN} is missing"
  [[ -x "$CONCHD_BIN" ]] || conch_die "build finished but ${CONCHD_BIN} is missing"
}

step_start_etcd() {
  LOCAL_ETCD_DIR="$DEMO_DIR"
  local_etcd_start
  ETCD_ENDPOINT="$LOCAL_ETCD_ENDPOINT"
  conch_log "etcd $("$LOCAL_ETCD_BIN" --version | sed -n 's/^etcd Version: //p') is healthy at ${ETCD_ENDPOINT} (pid ${LOCAL_ETCD_PID}, data in ${DEMO_DIR})"
  show etcdctl --endpoints="$ETCD_ENDPOINT" endpoint status --write-out=table
}

# Without the conch binary, a round trip through etcdctl shows etcd works.
step_etcd_roundtrip() {
  local key="/conch-demo/hello"
  etcdctl_local put "$key" world >/dev/null
  local got
  got="$(etcdctl_local get --print-value-only "$key")"
  [[ "$got" == world ]] || conch_die "etcd round trip returned '${got}'"
  conch_log "etcd round trip ok (put/get ${key})"
}

step_version() {
  show conch --version
}

step_status() {
  show conch status --endpoints "$ETCD_ENDPOINT"
}

step_status_json() {
  show conch status --endpoints "$ETCD_ENDPOINT" --json
}

# Two candidates for one office: A leads for two seconds, B waits and takes
# over the moment A's child exits (a lease revoke, not a TTL).
step_elect() {
  local ep="$ETCD_ENDPOINT"
  conch_log "candidate A campaigns for office 'demo' and runs for 2 s"
  conch elect demo --endpoints "$ep" -- sh -c \
    'echo "[A] I lead office $CONCH_NAME with fencing token CONCH_REV=$CONCH_REV"; sleep 2; echo "[A] done"' &
  local a=$!
  local deadline=$((SECONDS + 10))
  until conch elect demo --who --endpoints "$ep" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || conch_die "A never became leader"
    sleep 0.1
  done
  show conch elect demo --who --endpoints "$ep"
  conch_log "candidate B queues behind A (on a terminal it shows its place in line), then runs when A is done"
  show conch elect demo --endpoints "$ep" -- sh -c \
    'echo "[B] I lead office $CONCH_NAME with fencing token CONCH_REV=$CONCH_REV"'
  wait "$a"
  show conch elect demo --who --endpoints "$ep"
}

# Five contenders for a semaphore of two slots: at most two run at once,
# the others queue and start strictly in arrival order.
step_sema() {
  local ep="$ETCD_ENDPOINT" i pids=()
  conch_log "five contenders for semaphore 'pool' with --max 2 (each runs 1 s)"
  for i in 1 2 3 4 5; do
    conch sema pool --max 2 --endpoints "$ep" -- sh -c \
      "echo \"[\$(date +%T.%N | cut -c1-12)] contender $i runs in slot \$CONCH_SLOT (token \$CONCH_REV)\"; sleep 1" &
    pids+=($!)
    sleep 0.1  # a defined arrival order for the demo
  done
  local deadline=$((SECONDS + 10))
  until [ "$(conch sema pool --who --endpoints "$ep" 2>/dev/null | grep -c '^waiter')" -ge 3 ]; do
    ((SECONDS < deadline)) || break
    sleep 0.05
  done
  show conch sema pool --who --endpoints "$ep"
  wait "${pids[@]}"
  show conch sema pool --who --endpoints "$ep"
}

# Two conchd daemons share one job that ticks every second: each tick runs
# exactly once, on whichever daemon claimed it; `cron ls` shows who ran what.
# d1 also serves its status page, metrics and health checks (--listen):
# the demo fetches them; CONCH_DEMO_HOLD=SECONDS keeps the daemons running
# that long at the end, to open the page in a browser.
step_cron() {
  local ep="$ETCD_ENDPOINT" d1 d2 port
  port="$(free_ports 1)"
  conch_log "two daemons, d1 and d2, logging one line per tick to ${DEMO_DIR}/d*.log"
  conch_log "d1 serves its status page at http://127.0.0.1:${port}/"
  "$CONCHD_BIN" --endpoints "$ep" --id d1 --listen "127.0.0.1:${port}" \
    2>"$DEMO_DIR/d1.log" 3>&- 4>&- &
  d1=$!
  "$CONCHD_BIN" --endpoints "$ep" --id d2 2>"$DEMO_DIR/d2.log" 3>&- 4>&- &
  d2=$!
  show conch cron add heartbeat --schedule '@every 1s' --endpoints "$ep" -- \
    sh -c 'echo "tick $CONCH_TICK on token $CONCH_REV"'
  show conch cron add report --schedule '30 2 * * *' --tz Europe/Berlin \
    --endpoints "$ep" -- echo nightly
  show conch cron next --schedule '30 2 * * *' --tz Europe/Berlin \
    --from 2026-10-24T00:00:00Z --count 3
  conch_log "letting five ticks pass"
  local deadline=$((SECONDS + 15)) n=0
  while ((SECONDS < deadline)); do
    # The history table follows an empty line: JOB TICK STATE DAEMON REV.
    n="$(conch cron ls --history 100 -o tsv --endpoints "$ep" 2>/dev/null |
      awk -F'\t' 'h && $3 == "ok" {n++} /^$/ {getline; h = 1} END {print n + 0}' || true)"
    ((n >= 5)) && break
    sleep 0.2
  done
  show conch cron run heartbeat --wait --endpoints "$ep"
  show conch cron ls --history 6 --endpoints "$ep"
  show conch cron logs heartbeat --last 2 --endpoints "$ep"
  show conch status --endpoints "$ep"
  show curl -s "http://127.0.0.1:${port}/readyz"
  conch_log "from d1's /metrics (runs it recorded, by outcome):"
  curl -s "http://127.0.0.1:${port}/metrics" | grep '^conch_cron_runs_total' || true
  show curl -s -o /dev/null -w '%{http_code} %{content_type} %{size_download} bytes\n' \
    "http://127.0.0.1:${port}/"
  if [[ -n "${CONCH_DEMO_HOLD:-}" ]]; then
    conch_log "holding for ${CONCH_DEMO_HOLD} s: open http://127.0.0.1:${port}/"
    sleep "$CONCH_DEMO_HOLD"
  fi
  show conch cron rm heartbeat --endpoints "$ep"
  show conch cron rm report --endpoints "$ep"
  kill -TERM "$d1" "$d2"
  wait "$d1" "$d2" || true
  conch_log "d1 ran $(grep -c ': ok after' "$DEMO_DIR/d1.log" || true) tick(s), d2 ran $(grep -c ': ok after' "$DEMO_DIR/d2.log" || true)"
  conch_log "one log line per tick, from both daemons' stderr:"
  grep -h ': ok after' "$DEMO_DIR/d1.log" "$DEMO_DIR/d2.log" | sort -k2 | tail -n 4
}

# Nothing listens on a fresh free port: conch gives up after --dial-timeout
# and exits 69 (EX_UNAVAILABLE).
step_status_unreachable() {
  local port
  port="$(free_ports 1)"
  show conch status --endpoints "127.0.0.1:${port}" --dial-timeout 1s
}

cleanup() {
  local rc=$?
  set +e
  # A signal can land while a command runs with its output redirected (the
  # health poll); the handler would inherit that, so go back to the originals.
  exec 1>&3 2>&4
  local_etcd_stop
  if [[ -n "$DEMO_DIR" ]]; then
    rm -rf "$DEMO_DIR"
  fi
  if [[ "$rc" -eq 0 ]]; then
    conch_log "demo finished; etcd stopped and its data removed"
  else
    conch_log "demo FAILED (exit ${rc}); etcd stopped and its data removed"
  fi
  exit "$rc"
}

run_step() {
  conch_header "demo: $1"
  "step_$1"
}

main() {
  # Keep the real stdout/stderr on fds 3 and 4 for cleanup(); programs that
  # the demo starts get them closed (3>&- 4>&-).
  exec 3>&1 4>&2
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  DEMO_DIR="$(mktemp -d "${TMPDIR:-/tmp}/conch-demo.XXXXXX")"

  local s
  for s in "${SETUP_STEPS[@]}"; do
    if [[ "$SKIP_BUILD" == 1 && "$s" == build ]]; then
      conch_log "CONCH_DEMO_SKIP_BUILD=1: not building, no conch steps"
      continue
    fi
    run_step "$s"
  done
  if [[ "$SKIP_BUILD" == 1 ]]; then
    run_step etcd_roundtrip
    return 0
  fi
  for s in "${CONCH_STEPS[@]}"; do
    run_step "$s"
  done
}

main "$@"
