#!/usr/bin/env bash
# Measures conchd against a throwaway etcd on tmpfs, with the release build:
# D daemons share J jobs `@every 1s` for S seconds, for each J in JOBS, and
# the report prints ticks expected/recorded/ok/missing, duplicates (from a run
# log the jobs append to, outside etcd), tick lag p50/p99 (result.started −
# tick instant) overall and per runner, when each daemon's burst began (its
# claim answered), etcd revisions per tick, and CPU and peak RSS per daemon.
# The Bazel server is stopped before measuring (BENCH_KEEP_BAZEL=1 keeps it).
# Before each J it prints the floor: J starts of the same job command at
# once, from as many threads as the daemons have spawners, with no etcd and
# no conchd (tools/bench_spawn_floor).
#
# Priority: the daemons run as packaging/conchd.service runs them, at nice
# CONCHD_NICE (default -15) with --job-nice 0, and etcd at the same nice: in
# production etcd has hosts of its own, here it shares the cores with the
# jobs. CONCHD_NICE=0 runs everything at one priority. Lowering the nice
# needs root (or CAP_SYS_NICE); without it everything runs at one priority.
#
# Scraping: with BENCH_SCRAPE=1 every daemon also serves --listen
# 127.0.0.1:0, and each one's /metrics is fetched every second for the whole
# window, as a Prometheus would (BENCH_SCRAPE_PATH=/ fetches the status page
# instead); the report adds the scrapes' count, size and time.
# BENCH_GAUGES=FILE also appends each scrape's admission gauges (limit,
# committed, start cost, runs in progress) to FILE, one line per scrape.
#
#   bash tools/bench_cron.sh [SECONDS] [JOBS] [DAEMONS]
#   defaults: 60 s, "200 500 1000", 3 daemons
#
# Overload (issue 18): BENCH_MAX_LATE (default 10s) is every daemon's
# --max-late and the report's "on time"; BENCH_TASKSET=1 pins daemon i to
# CPU (i-1) mod nproc (with its jobs: they inherit the mask), to measure
# how on-time ticks grow with the number of daemons. BENCH_CPU_QUOTA=P puts
# daemon i and its jobs in a cgroup of its own limited to P % of one core
# (cpu controller, v1 or v2; needs root): on a machine with fewer cores
# than daemons, the same measure of scale-out. BENCH_LOGS=DIR keeps
# the daemons' logs (d<i>-<jobs>.log, at --log-level warn) in DIR.
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

WINDOW="${1:-60}"
JOBS="${2:-200 500 1000}"
DAEMONS="${3:-3}"
CONCHD_FLAGS="${CONCHD_FLAGS:-}"  # extra conchd flags, e.g. "--workers 16"
CONCHD_NICE="${CONCHD_NICE:--15}"
BENCH_SCRAPE="${BENCH_SCRAPE:-0}"
BENCH_SCRAPE_PATH="${BENCH_SCRAPE_PATH:-/metrics}"
BENCH_MAX_LATE="${BENCH_MAX_LATE:-10s}"
BENCH_TASKSET="${BENCH_TASKSET:-0}"
BENCH_CPU_QUOTA="${BENCH_CPU_QUOTA:-}"
CPU_GROUPS=()

# Moves process $1 into a new cgroup conch-bench-$2 limited to $3 % of one
# core (period 100 ms); its children inherit it.
cpu_limit() {
  local dir
  if [[ -w /sys/fs/cgroup/cpu ]]; then # v1
    dir="/sys/fs/cgroup/cpu/conch-bench-$2"
    mkdir -p "$dir"
    echo $(($3 * 1000)) >"$dir/cpu.cfs_quota_us"
  else # v2
    dir="/sys/fs/cgroup/conch-bench-$2"
    mkdir -p "$dir"
    echo "$(($3 * 1000)) 100000" >"$dir/cpu.max"
  fi
  echo "$1" >"$dir/cgroup.procs"
  CPU_GROUPS+=("$dir")
}

# Removes the cgroups of cpu_limit once their last process is gone.
cpu_unlimit() {
  local dir tries
  for dir in ${CPU_GROUPS[@]+"${CPU_GROUPS[@]}"}; do
    for ((tries = 0; tries < 50; tries++)); do
      rmdir "$dir" 2>/dev/null && break
      sleep 0.1
    done
  done
  CPU_GROUPS=()
}
if [[ "$(nice -n "$CONCHD_NICE" nice 2>/dev/null)" != "$CONCHD_NICE" ]]; then
  echo "bench_cron: cannot lower the nice value here; CONCHD_NICE=0" >&2
  CONCHD_NICE=0
fi
if ((CONCHD_NICE != 0)); then
  CONCHD_FLAGS="--job-nice 0 ${CONCHD_FLAGS}"
  export LOCAL_ETCD_NICE="$CONCHD_NICE"
fi

# utime+stime of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# The host's CPU since boot, in clock ticks: "total idle+iowait user+nice".
host_ticks() {
  awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6, $2 + $3}' /proc/stat
}

# A free loopback port (the kernel's pick, released again).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Fetches http://127.0.0.1:PORT$BENCH_SCRAPE_PATH every second until $2
# (epoch seconds); one line per scrape: HTTP code, bytes, seconds.
scrape_loop() {
  local port="$1" until="$2" out="$3"
  local body="$BENCH_WORK/body$port"
  while ((EPOCHSECONDS < until)); do
    curl -s -o "$body" -m 5 -w '%{http_code} %{size_download} %{time_total}\n' \
      "http://127.0.0.1:${port}${BENCH_SCRAPE_PATH}" >>"$out" || echo "000 0 5" >>"$out"
    if [[ -n "${BENCH_GAUGES:-}" ]]; then
      # The daemon's own view of its load, one line per scrape.
      awk -v t="$EPOCHSECONDS" -v p="$port" '
        /^conch_cron_(admission_limit|admission_committed|start_cost_seconds|runs_in_progress|ticks_declined_total) / {
          sub(/^conch_cron_/, ""); v = v " " $0
        }
        END { print t, p, v }' "$body" >>"$BENCH_GAUGES"
    fi
    sleep 1
  done
  if [[ -n "${BENCH_GAUGES:-}" ]]; then cp "$body" "${BENCH_GAUGES}.last$port"; fi
}

run_one() {
  local jobs="$1" prefix="/bench$1/" runs="$BENCH_WORK/runs$1" i pids=()
  local listen=() scrapers=() ports=()
  : >"$runs"
  conch_header "${DAEMONS} daemons x ${jobs} jobs @every 1s for ${WINDOW} s, conchd and etcd at nice ${CONCHD_NICE}, jobs at 0$([[ "$BENCH_SCRAPE" == 1 ]] && echo ", ${BENCH_SCRAPE_PATH} scraped every second")$([[ -n "$BENCH_CPU_QUOTA" ]] && echo ", each daemon and its jobs at most ${BENCH_CPU_QUOTA} % of a core")"
  for ((i = 1; i <= DAEMONS; i++)); do
    listen=()
    if [[ "$BENCH_SCRAPE" == 1 ]]; then
      ports[i]="$(free_port)"
      listen=(--listen "127.0.0.1:${ports[i]}")
    fi
    local pin=()
    if [[ "$BENCH_TASKSET" == 1 ]]; then
      pin=(taskset -c $(((i - 1) % $(nproc))))
    fi
    ${pin[@]+"${pin[@]}"} nice -n "$CONCHD_NICE" "$BENCH_BIN/conch/conchd" --endpoints "$LOCAL_ETCD_ENDPOINT" \
      --prefix "$prefix" --id "d$i" --log-level warn --max-late "$BENCH_MAX_LATE" \
      ${listen[@]+"${listen[@]}"} $CONCHD_FLAGS \
      2>"$BENCH_WORK/d$i-$jobs.log" &
    pids+=($!)
    if [[ -n "$BENCH_CPU_QUOTA" ]]; then
      cpu_limit "$!" "d$i" "$BENCH_CPU_QUOTA"
    fi
  done
  # Four adds at a time: 8000 jobs one by one take almost three minutes.
  seq 0 $((jobs - 1)) | xargs -P 4 -I{} "$BENCH_BIN/conch/conch" cron add "j{}" \
    --schedule '@every 1s' --endpoints "$LOCAL_ETCD_ENDPOINT" --prefix "$prefix" -- \
    sh -c "echo \"\$CONCH_JOB \$CONCH_TICK\" >> $runs" >/dev/null
  # The window starts at the next whole second after a 2 s warm-up
  # (BENCH_WARMUP seconds: over 100 puts every job at its history bound,
  # where each result also prunes).
  local from to rev0 cpu0=() cpu1=()
  from=$((EPOCHSECONDS + ${BENCH_WARMUP:-3}))
  to=$((from + WINDOW))
  while ((EPOCHSECONDS < from)); do sleep 0.1; done
  if [[ "$BENCH_SCRAPE" == 1 ]]; then
    : >"$BENCH_WORK/scrapes$jobs"
    for ((i = 1; i <= DAEMONS; i++)); do
      scrape_loop "${ports[i]}" "$to" \
        "$BENCH_WORK/scrapes$jobs" &
      scrapers+=($!)
    done
  fi
  rev0="$(etcdctl_local endpoint status -w json | sed -n 's/.*"revision":\([0-9]*\).*/\1/p')"
  for i in "${!pids[@]}"; do cpu0[i]="$(cpu_ticks "${pids[i]}")"; done
  local etcd0 etcd1 host0 host1
  etcd0="$(cpu_ticks "$LOCAL_ETCD_PID")"
  host0="$(host_ticks)"
  while ((EPOCHSECONDS < to)); do sleep 0.5; done
  for i in "${!pids[@]}"; do cpu1[i]="$(cpu_ticks "${pids[i]}")"; done
  etcd1="$(cpu_ticks "$LOCAL_ETCD_PID")"
  host1="$(host_ticks)"
  # Let the last runs finish and record their results.
  sleep 3
  if [[ ${#scrapers[@]} -gt 0 ]]; then
    wait "${scrapers[@]}" || true
    sort -n -k3 "$BENCH_WORK/scrapes$jobs" | awk '
      {n++; if ($1 != 200) bad++; bytes += $2; t[n] = $3}
      END {
        p50 = int(n * 0.5) + 1; p99 = int(n * 0.99) + 1; if (p99 > n) p99 = n
        printf "scrapes of %s: %d (%d not 200), %.0f bytes on average, time p50 %.1f ms p99 %.1f ms max %.1f ms\n",
          path, n, bad, bytes / n, t[p50] * 1000, t[p99] * 1000, t[n] * 1000
      }' path="$BENCH_SCRAPE_PATH"
  fi
  local hz
  hz="$(getconf CLK_TCK)"
  for i in "${!pids[@]}"; do
    printf 'daemon d%d: CPU %.1f%% of a core, peak RSS %s, now %s\n' $((i + 1)) \
      "$(awk -v a="${cpu0[i]}" -v b="${cpu1[i]}" -v hz="$hz" -v w="$WINDOW" \
        'BEGIN {print (b - a) * 100 / hz / w}')" \
      "$(awk '/VmHWM/ {print $2 " " $3}' "/proc/${pids[i]}/status")" \
      "$(awk '/VmRSS/ {print $2 " " $3}' "/proc/${pids[i]}/status")"
  done
  printf 'etcd: CPU %.1f%% of a core; host: %s\n' \
    "$(awk -v a="$etcd0" -v b="$etcd1" -v hz="$hz" -v w="$WINDOW" \
      'BEGIN {print (b - a) * 100 / hz / w}')" \
    "$(awk -v a="$host0" -v b="$host1" 'BEGIN {
      split(a, x); split(b, y)
      printf "%.0f%% busy, %.0f%% of it user+nice", 100 - (y[2] - x[2]) * 100 / (y[1] - x[1]),
        (y[3] - x[3]) * 100 / ((y[1] - x[1]) - (y[2] - x[2]) + 1e-9)
    }')"
  # The daemons stop before the report reads etcd: past saturation they
  # would keep etcd busy, and the report would take minutes.
  kill -TERM "${pids[@]}"
  wait "${pids[@]}" || true
  cpu_unlimit
  "$BENCH_BIN/tools/bench_cron_report" --endpoints "$LOCAL_ETCD_ENDPOINT" \
    --prefix "$prefix" --from "$from" --to "$to" --period 1s \
    --max-late "$BENCH_MAX_LATE" --runs "$runs" --rev-before "$rev0"
  # Ticks handed out too late to claim (not recorded in etcd), with the
  # window to tell whether they fell in it.
  echo "window $(date -u -d "@$from" +%T)–$(date -u -d "@$to" +%T) UTC;" \
    "missed (too late): $(cat "$BENCH_WORK"/d*-"$jobs".log | grep -c "missed" || true)"
  grep -h "missed" "$BENCH_WORK"/d*-"$jobs".log | head -3 || true
  if [[ -n "${BENCH_LOGS:-}" ]]; then
    mkdir -p "$BENCH_LOGS"
    cp "$BENCH_WORK"/d*-"$jobs".log "$BENCH_LOGS"/
  fi
  # When admission cut its limit, and why (at most a line a second each).
  local cuts
  cuts="$(cat "$BENCH_WORK"/d*-"$jobs".log | grep -c "admission:" || true)"
  echo "admission cuts: ${cuts}"
  grep -h "admission:" "$BENCH_WORK"/d*-"$jobs".log | head -4 || true
  # Past saturation there are hundreds of thousands of keys to delete.
  etcdctl_local --command-timeout=120s del --prefix "$prefix" >/dev/null || true
}

bench_begin //conch:conch //conch:conchd //tools:bench_cron_report \
  //tools:bench_spawn_floor
for j in $JOBS; do
  # The floor under the lag: the same burst of job starts (the same
  # command) without etcd or conchd, split over the daemons' spawners.
  conch_header "floor: ${j} job starts at once, no etcd, no conchd"
  for ((k = 0; k < 3; k++)); do
    "$BENCH_BIN/tools/bench_spawn_floor" --count "$j" \
      --threads $((2 * DAEMONS)) --command "echo x >> $BENCH_WORK/floor.log"
  done
  run_one "$j"
  # A fresh etcd for the next count: the last one's raft log and heap
  # (gigabytes past saturation) would slow it down.
  if [[ "$j" != "${JOBS##* }" ]]; then
    local_etcd_stop
    local_etcd_start
  fi
done
