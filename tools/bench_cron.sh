#!/usr/bin/env bash
# Measures conchd against a throwaway etcd on tmpfs, with the release build:
# D daemons share J jobs `@every 1s` for S seconds, for each J in JOBS, and
# the report prints ticks expected/claimed/ok/missing, duplicates (from a run
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
#   bash tools/bench_cron.sh [SECONDS] [JOBS] [DAEMONS]
#   defaults: 60 s, "200 500 1000", 3 daemons
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

run_one() {
  local jobs="$1" prefix="/bench$1/" runs="$BENCH_WORK/runs$1" i pids=()
  : >"$runs"
  conch_header "${DAEMONS} daemons x ${jobs} jobs @every 1s for ${WINDOW} s, conchd and etcd at nice ${CONCHD_NICE}, jobs at 0"
  for ((i = 1; i <= DAEMONS; i++)); do
    nice -n "$CONCHD_NICE" "$BENCH_BIN/conch/conchd" --endpoints "$LOCAL_ETCD_ENDPOINT" \
      --prefix "$prefix" --id "d$i" --log-level warn $CONCHD_FLAGS \
      2>"$BENCH_WORK/d$i-$jobs.log" &
    pids+=($!)
  done
  for ((i = 0; i < jobs; i++)); do
    "$BENCH_BIN/conch/conch" cron add "j$i" --schedule '@every 1s' \
      --endpoints "$LOCAL_ETCD_ENDPOINT" --prefix "$prefix" -- \
      sh -c "echo \"\$CONCH_JOB \$CONCH_TICK\" >> $runs" >/dev/null
  done
  # The window starts at the next whole second after a 2 s warm-up
  # (BENCH_WARMUP seconds: over 100 puts every job at its history bound,
  # where each result also prunes).
  local from to rev0 cpu0=() cpu1=()
  from=$((EPOCHSECONDS + ${BENCH_WARMUP:-3}))
  to=$((from + WINDOW))
  while ((EPOCHSECONDS < from)); do sleep 0.1; done
  rev0="$(etcdctl_local endpoint status -w json | sed -n 's/.*"revision":\([0-9]*\).*/\1/p')"
  for i in "${!pids[@]}"; do cpu0[i]="$(cpu_ticks "${pids[i]}")"; done
  while ((EPOCHSECONDS < to)); do sleep 0.5; done
  for i in "${!pids[@]}"; do cpu1[i]="$(cpu_ticks "${pids[i]}")"; done
  # Let the last runs finish and record their results.
  sleep 3
  local hz
  hz="$(getconf CLK_TCK)"
  for i in "${!pids[@]}"; do
    printf 'daemon d%d: CPU %.1f%% of a core, peak RSS %s, now %s\n' $((i + 1)) \
      "$(awk -v a="${cpu0[i]}" -v b="${cpu1[i]}" -v hz="$hz" -v w="$WINDOW" \
        'BEGIN {print (b - a) * 100 / hz / w}')" \
      "$(awk '/VmHWM/ {print $2 " " $3}' "/proc/${pids[i]}/status")" \
      "$(awk '/VmRSS/ {print $2 " " $3}' "/proc/${pids[i]}/status")"
  done
  "$BENCH_BIN/tools/bench_cron_report" --endpoints "$LOCAL_ETCD_ENDPOINT" \
    --prefix "$prefix" --from "$from" --to "$to" --period 1s \
    --runs "$runs" --rev-before "$rev0"
  kill -TERM "${pids[@]}"
  wait "${pids[@]}" || true
  grep -h "missed" "$BENCH_WORK"/d*.log | head -3 || true
  etcdctl_local del --prefix "$prefix" >/dev/null
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
done
