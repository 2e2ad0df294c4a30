#!/usr/bin/env bash
# Measures one conchd with many job definitions (issue 18, "Size": 100,000
# jobs, mostly daily), against a throwaway etcd on tmpfs, with the release
# build. For each size (by default 1000, then N, to show how it scales):
#   - load: tools/bench_cron_load stores the jobs as `conch cron add` would,
#     many at once (99% daily "M H * * *" spread over the day's minutes, 1%
#     '@every 1m'), and prints its rate; then etcd's db size and its growth;
#   - ready: one conchd starts (--listen on a free loopback port, --log-level
#     warn); the time from its exec until /readyz answers 200 (polled every
#     50 ms), its CPU until then, and once ready its RSS (VmRSS), peak RSS
#     (VmHWM) and threads, from /proc;
#   - idle: over a window (BENCH_WINDOW seconds) its CPU (utime+stime), with
#     only the ticks due in the window to run (the frequent jobs and the
#     daily ones whose minute comes up), next to what its /metrics counted
#     (ticks due, claimed, runs) and the etcd revisions and etcd CPU of the
#     window: the work per tick should follow the ticks due, not the jobs;
#   - changes: BENCH_CHANGES jobs replaced (each daily one moved to another
#     minute) and conchd's CPU over the BENCH_SETTLE seconds from the first
#     write, next to what the idle rate alone would have used;
#   - stop: the time from SIGTERM to its exit.
# A table at the end puts the sizes side by side.
# The Bazel server is stopped before measuring (BENCH_KEEP_BAZEL=1 keeps it).
#
#   bash tools/bench_cron_size.sh [N]      # default 100000
#
# Environment (defaults): BENCH_SMALL=1000 (the size measured first for
# comparison; 0 or >= N: only N), BENCH_WINDOW=60, BENCH_WARMUP=2 (seconds
# between ready and the window), BENCH_CHANGES=100, BENCH_SETTLE=5,
# BENCH_FREQUENT=0.01 (the share of frequent jobs),
# BENCH_FREQUENT_SCHEDULE='@every 1m', BENCH_LOAD_THREADS=32,
# BENCH_READY_TIMEOUT=600 (seconds to wait for /readyz), CONCHD_FLAGS
# (extra conchd flags), BENCH_KEEP_WORK=1 (keeps the daemon's log).
# A quick check: BENCH_WINDOW=10 bash tools/bench_cron_size.sh 3000
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

N="${1:-100000}"
SMALL="${BENCH_SMALL:-1000}"
WINDOW="${BENCH_WINDOW:-60}"
WARMUP="${BENCH_WARMUP:-2}"
CHANGES="${BENCH_CHANGES:-100}"
SETTLE="${BENCH_SETTLE:-5}"
FREQUENT="${BENCH_FREQUENT:-0.01}"
FREQUENT_SCHEDULE="${BENCH_FREQUENT_SCHEDULE:-@every 1m}"
LOAD_THREADS="${BENCH_LOAD_THREADS:-32}"
READY_TIMEOUT="${BENCH_READY_TIMEOUT:-600}"
CONCHD_FLAGS="${CONCHD_FLAGS:-}" # extra conchd flags, e.g. "--workers 16"
HZ="$(getconf CLK_TCK)"
SUMMARY=()

# utime+stime of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Clock ticks to milliseconds.
ticks_ms() { awk -v t="$1" -v hz="$HZ" 'BEGIN {printf "%.0f", t * 1000 / hz}'; }

# A field of /proc/PID/status without its unit: status_field PID VmRSS.
status_field() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }

# A number from etcd's endpoint status: etcd_status dbSize.
etcd_status() {
  etcdctl_local endpoint status -w json | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"
}

# Fetches /metrics of the daemon on PORT into FILE.
scrape() { curl -s -m 10 -o "$2" "http://127.0.0.1:$1/metrics" || : >"$2"; }

# The sum of a metric's samples (all label sets) in a scraped FILE.
metric() {
  awk -v m="$2" '$1 == m || index($1, m "{") == 1 {s += $2} END {printf "%.0f", s}' "$1"
}

# Bytes as MiB, one decimal.
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }

run_one() {
  local n="$1" prefix="/size$1/" log="$BENCH_WORK/conchd-$1.log"
  local port pid code
  conch_header "${n} jobs (${FREQUENT} of them '${FREQUENT_SCHEDULE}', the others daily), one conchd"

  # Load.
  local db0 db1 inuse1 keys
  db0="$(etcd_status dbSize)"
  "$BENCH_BIN/tools/bench_cron_load" --endpoints "$LOCAL_ETCD_ENDPOINT" \
    --prefix "$prefix" --count "$n" --threads "$LOAD_THREADS" \
    --frequent "$FREQUENT" --frequent-schedule "$FREQUENT_SCHEDULE"
  db1="$(etcd_status dbSize)"
  inuse1="$(etcd_status dbSizeInUse)"
  # The range's count is of every key in it, whatever the limit.
  keys="$(etcdctl_local --command-timeout=60s get --prefix "${prefix}cron/job/" --limit 1 --keys-only -w json |
    sed -n 's/.*"count":\([0-9]*\).*/\1/p')"
  echo "etcd: ${keys:-0} job keys; db size $(mib "$db1") (grew $(mib $((db1 - db0)))), in use $(mib "$inuse1")"

  # Start and ready.
  port="$(free_ports 1)"
  local t0 t_http="" t_ready="" deadline
  t0="$(now_ns)"
  # shellcheck disable=SC2086  # CONCHD_FLAGS is a list of words
  "$BENCH_BIN/conch/conchd" --endpoints "$LOCAL_ETCD_ENDPOINT" \
    --prefix "$prefix" --id "size$n" --log-level warn \
    --listen "127.0.0.1:${port}" $CONCHD_FLAGS 2>"$log" &
  pid=$!
  deadline=$((SECONDS + READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "conchd exited before it was ready; its log:"
      tail -n 20 "$log"
      wait "$pid" || true
      return 0
    fi
    code="$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:${port}/readyz" || true)"
    if [[ -z "$t_http" && "$code" != 000 ]]; then t_http="$(now_ns)"; fi
    if [[ "$code" == 200 ]]; then
      t_ready="$(now_ns)"
      break
    fi
    sleep 0.05
  done
  local cpu_ready rss hwm threads
  cpu_ready="$(cpu_ticks "$pid")"
  rss="$(status_field "$pid" VmRSS)"
  hwm="$(status_field "$pid" VmHWM)"
  threads="$(status_field "$pid" Threads)"
  if [[ -z "$t_ready" ]]; then
    echo "conchd not ready after ${READY_TIMEOUT} s (last /readyz: ${code}); RSS ${rss} kB, peak ${hwm} kB, CPU $(ticks_ms "$cpu_ready") ms; its log:"
    tail -n 20 "$log"
    kill -TERM "$pid"
    wait "$pid" || true
    SUMMARY+=("$(printf '%8s %10s' "$n" "not ready")")
    return 0
  fi
  local ready_ms
  ready_ms=$(((t_ready - t0) / 1000000))
  echo "ready: ${ready_ms} ms from exec to /readyz 200 (HTTP up after ${t_http:+$(((t_http - t0) / 1000000))} ms), CPU until ready $(ticks_ms "$cpu_ready") ms"
  echo "memory once ready: RSS ${rss} kB, peak RSS ${hwm} kB, ${threads} threads"
  scrape "$port" "$BENCH_WORK/m-ready"
  echo "conchd counts $(metric "$BENCH_WORK/m-ready" conch_cron_jobs) jobs ($(wc -c <"$BENCH_WORK/m-ready") bytes of /metrics)"

  # Idle window.
  sleep "$WARMUP"
  local cpu0 cpu1 ecpu0 ecpu1 rev0 rev1 w0 w1
  scrape "$port" "$BENCH_WORK/m0"
  rev0="$(etcd_status revision)"
  ecpu0="$(cpu_ticks "$LOCAL_ETCD_PID")"
  cpu0="$(cpu_ticks "$pid")"
  w0="$(now_ns)"
  sleep "$WINDOW"
  cpu1="$(cpu_ticks "$pid")"
  w1="$(now_ns)"
  ecpu1="$(cpu_ticks "$LOCAL_ETCD_PID")"
  rev1="$(etcd_status revision)"
  scrape "$port" "$BENCH_WORK/m1"
  local secs idle_ms idle_rate due claimed runs
  secs="$(awk -v a="$w0" -v b="$w1" 'BEGIN {printf "%.2f", (b - a) / 1e9}')"
  idle_ms="$(ticks_ms $((cpu1 - cpu0)))"
  idle_rate="$(awk -v c="$idle_ms" -v s="$secs" 'BEGIN {printf "%.2f", c / s}')"
  due=$(($(metric "$BENCH_WORK/m1" conch_cron_ticks_due_total) - $(metric "$BENCH_WORK/m0" conch_cron_ticks_due_total)))
  claimed=$(($(metric "$BENCH_WORK/m1" conch_cron_ticks_claimed_total) - $(metric "$BENCH_WORK/m0" conch_cron_ticks_claimed_total)))
  runs=$(($(metric "$BENCH_WORK/m1" conch_cron_runs_total) - $(metric "$BENCH_WORK/m0" conch_cron_runs_total)))
  echo "idle window ${secs} s: conchd CPU ${idle_ms} ms (${idle_rate} ms/s, $(awk -v r="$idle_rate" 'BEGIN {printf "%.2f", r / 10}')% of a core)"
  echo "idle window: ticks due ${due}, claimed ${claimed}, runs ${runs}; conchd CPU per tick due $(awk -v c="$idle_ms" -v d="$due" 'BEGIN {if (d > 0) printf "%.2f ms", c / d; else print "-"}')"
  echo "idle window: etcd revisions $((rev1 - rev0)), etcd CPU $(ticks_ms $((ecpu1 - ecpu0))) ms"
  echo "memory after the window: RSS $(status_field "$pid" VmRSS) kB, peak RSS $(status_field "$pid" VmHWM) kB"

  # Changes seen: CHANGES jobs replaced, each daily one moved to another minute.
  local c0 c1 resync0 resync1 k0 k1 change_ms extra_ms
  resync0="$(metric "$BENCH_WORK/m1" conch_watch_resyncs_total)"
  c0="$(cpu_ticks "$pid")"
  k0="$(now_ns)"
  "$BENCH_BIN/tools/bench_cron_load" --endpoints "$LOCAL_ETCD_ENDPOINT" \
    --prefix "$prefix" --count "$CHANGES" --threads 4 --replace --seed 1 \
    --frequent "$FREQUENT" --frequent-schedule "$FREQUENT_SCHEDULE" |
    sed 's/^loaded/changes: replaced/'
  while (($(now_ns) < k0 + SETTLE * 1000000000)); do sleep 0.1; done
  c1="$(cpu_ticks "$pid")"
  k1="$(now_ns)"
  scrape "$port" "$BENCH_WORK/m2"
  resync1="$(metric "$BENCH_WORK/m2" conch_watch_resyncs_total)"
  change_ms="$(ticks_ms $((c1 - c0)))"
  extra_ms="$(awk -v c="$change_ms" -v r="$idle_rate" -v a="$k0" -v b="$k1" \
    'BEGIN {printf "%.0f", c - r * (b - a) / 1e9}')"
  echo "changes: conchd CPU ${change_ms} ms over the $(awk -v a="$k0" -v b="$k1" 'BEGIN {printf "%.1f", (b - a) / 1e9}') s from the first write, ${extra_ms} ms above the idle rate ($(awk -v e="$extra_ms" -v k="$CHANGES" 'BEGIN {printf "%.2f", e / k}') ms per change); watch resyncs $((resync1 - resync0))"

  # Stop.
  local s0 s1
  s0="$(now_ns)"
  kill -TERM "$pid"
  wait "$pid" || true
  s1="$(now_ns)"
  echo "stop: $(((s1 - s0) / 1000000)) ms from SIGTERM to exit"
  if [[ -s "$log" ]]; then
    echo "conchd log: $(wc -l <"$log") lines (warn and above); the last ones:"
    tail -n 3 "$log"
  fi
  SUMMARY+=("$(printf '%8s %10s %10s %10s %14s %10s %14s %12s' "$n" "$ready_ms" "$rss" "$hwm" \
    "$idle_rate" "$due" "$extra_ms" "$(awk -v b="$((db1 - db0))" 'BEGIN {printf "%.1f", b / 1048576}')")")

  etcdctl_local --command-timeout=300s del --prefix "$prefix" >/dev/null || true
}

bench_begin //conch:conchd //tools:bench_cron_load
SIZES="$N"
if ((SMALL > 0 && SMALL < N)); then SIZES="$SMALL $N"; fi
for n in $SIZES; do
  run_one "$n"
done
conch_header "summary"
printf '%8s %10s %10s %10s %14s %10s %14s %12s\n' jobs ready_ms rss_kB peak_kB \
  idle_cpu_ms/s ticks_due "change_cpu_ms" db_grew_MiB
printf '%s\n' "${SUMMARY[@]}"
echo "(idle window ${WINDOW} s; change_cpu_ms: conchd CPU above the idle rate for ${CHANGES} replaced jobs)"
