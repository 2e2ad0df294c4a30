# A throwaway single-node etcd on free loopback ports, for the demo and the
# benchmarks. Source it after lib.sh; do not run it.
#
#   LOCAL_ETCD_DIR=$(mktemp -d)      # data and log go here (tmpfs is fastest)
#   local_etcd_start                 # retries with new ports; dies on failure
#   etcdctl_local get /x             # etcdctl against it
#   local_etcd_stop                  # SIGTERM, then SIGKILL after 5 s
#
# Sets LOCAL_ETCD_PID and LOCAL_ETCD_ENDPOINT (127.0.0.1:PORT).
# LOCAL_ETCD_BIN (default /usr/bin/etcd), LOCAL_ETCD_TIMEOUT (seconds to
# wait for health, default 30) and LOCAL_ETCD_NICE (run etcd under
# nice -n this; unset: the caller's) and LOCAL_ETCD_FLAGS (extra etcd
# flags, e.g. --enable-pprof for a profile of etcd under a benchmark) may be
# set by the caller.

LOCAL_ETCD_BIN="${LOCAL_ETCD_BIN:-/usr/bin/etcd}"
LOCAL_ETCD_TIMEOUT="${LOCAL_ETCD_TIMEOUT:-30}"
LOCAL_ETCD_DIR="${LOCAL_ETCD_DIR:-}"
LOCAL_ETCD_PID=""
LOCAL_ETCD_ENDPOINT=""

# etcdctl 3.4 speaks the v3 API by default.
etcdctl_local() {
  etcdctl --endpoints="$LOCAL_ETCD_ENDPOINT" --dial-timeout=2s --command-timeout=3s "$@"
}

# Prints N free TCP ports on 127.0.0.1, one a line.
free_ports() {
  local n="$1"
  if command -v python3 >/dev/null 2>&1; then
    # Bind port 0 N times at once, so the ports are distinct.
    python3 - "$n" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
    s.close()
PY
    return 0
  fi
  # No python3: random high ports that nothing answers on.
  local found=() p
  while [[ ${#found[@]} -lt "$n" ]]; do
    p=$((20000 + RANDOM % 40000))
    if [[ " ${found[*]-} " == *" ${p} "* ]]; then
      continue
    fi
    if ! (exec 3<>"/dev/tcp/127.0.0.1/${p}") 2>/dev/null; then
      found+=("$p")
    fi
  done
  printf '%s\n' "${found[@]}"
}

# Starts etcd in LOCAL_ETCD_DIR; returns non-zero if it exits before it is healthy
# or the deadline passes, so the caller can retry with other ports.
local_etcd_try_start() {
  local ports=()
  mapfile -t ports < <(free_ports 2)
  local client="http://127.0.0.1:${ports[0]}" peer="http://127.0.0.1:${ports[1]}"
  rm -rf "${LOCAL_ETCD_DIR}/etcd-data"
  ${LOCAL_ETCD_NICE:+nice -n "$LOCAL_ETCD_NICE"} "$LOCAL_ETCD_BIN" \
    --name conch-local \
    --data-dir "${LOCAL_ETCD_DIR}/etcd-data" \
    --listen-client-urls "$client" \
    --advertise-client-urls "$client" \
    --listen-peer-urls "$peer" \
    --initial-advertise-peer-urls "$peer" \
    --initial-cluster "conch-local=${peer}" \
    --initial-cluster-state new \
    ${LOCAL_ETCD_FLAGS:-} \
    >"${LOCAL_ETCD_DIR}/etcd.log" 2>&1 3>&- 4>&- &
  LOCAL_ETCD_PID=$!
  LOCAL_ETCD_ENDPOINT="127.0.0.1:${ports[0]}"

  local deadline=$((SECONDS + LOCAL_ETCD_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$LOCAL_ETCD_PID" 2>/dev/null; then
      wait "$LOCAL_ETCD_PID" 2>/dev/null || true
      LOCAL_ETCD_PID=""
      return 1
    fi
    if etcdctl_local endpoint health >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# Starts etcd, retrying with new ports up to three times.
local_etcd_start() {
  [[ -x "$LOCAL_ETCD_BIN" ]] || conch_die "no etcd at ${LOCAL_ETCD_BIN}"
  [[ -n "$LOCAL_ETCD_DIR" ]] || conch_die "LOCAL_ETCD_DIR is not set"
  local attempt
  for attempt in 1 2 3; do
    if local_etcd_try_start; then
      return 0
    fi
    conch_log "etcd did not become healthy (attempt ${attempt}); last log lines:"
    tail -n 5 "${LOCAL_ETCD_DIR}/etcd.log" >&2 || true
    local_etcd_stop
  done
  conch_die "could not start etcd; see the log lines above"
}

local_etcd_stop() {
  if [[ -z "$LOCAL_ETCD_PID" ]]; then
    return 0
  fi
  kill -TERM "$LOCAL_ETCD_PID" 2>/dev/null || true
  local i
  for i in $(seq 1 50); do
    kill -0 "$LOCAL_ETCD_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$LOCAL_ETCD_PID" 2>/dev/null || true
  wait "$LOCAL_ETCD_PID" 2>/dev/null || true
  LOCAL_ETCD_PID=""
}

