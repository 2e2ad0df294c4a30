# What the benchmark scripts share. Source it after lib.sh and
# local_etcd.sh; do not run it.
#
#   bench_begin //conch:conch //tools:bench_client   # build, start etcd
#   "$BENCH_BIN/conch/conch" ...                     # the release build
#   now_ns                                           # CLOCK_REALTIME ns
#
# bench_begin builds the given targets with --config=release (-c opt,
# statically linked), stops the Bazel server, starts a throwaway etcd with
# its data on tmpfs (/dev/shm, so raft's fsyncs do not dominate), makes a
# scratch directory $BENCH_WORK, and installs traps that stop etcd, kill
# leftover jobs and remove both directories on exit (BENCH_KEEP_WORK=1
# keeps $BENCH_WORK, with the daemons' logs).

BENCH_BIN=""
BENCH_WORK=""

now_ns() { date +%s%N; }

bench_cleanup() {
  local rc=$?
  set +e
  jobs -p | xargs -r kill -9 2>/dev/null
  { local_etcd_stop; } 2>/dev/null
  [[ -n "$LOCAL_ETCD_DIR" ]] && rm -rf "$LOCAL_ETCD_DIR"
  if [[ "${BENCH_KEEP_WORK:-0}" == 1 && -n "$BENCH_WORK" ]]; then
    echo "kept ${BENCH_WORK} (daemon logs, run logs)" >&2
  elif [[ -n "$BENCH_WORK" ]]; then
    rm -rf "$BENCH_WORK"
  fi
  exit "$rc"
}

bench_begin() {
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  conch_header "build (--config=release)"
  bazel build --config=release --jobs=2 "$@"
  BENCH_BIN="$(bazel info --config=release bazel-bin 2>/dev/null)"
  # An idle Bazel server runs a full GC of its JVM a few seconds after a
  # build, on the same cores as what is measured: stop it (the next build
  # starts it again). BENCH_KEEP_BAZEL=1 keeps it.
  [[ "${BENCH_KEEP_BAZEL:-0}" == 1 ]] || bazel shutdown
  local shm=/dev/shm
  [[ -d "$shm" && -w "$shm" ]] || shm="${TMPDIR:-/tmp}"
  LOCAL_ETCD_DIR="$(mktemp -d "${shm}/conch-bench.XXXXXX")"
  BENCH_WORK="$(mktemp -d)"
  local_etcd_start
  echo "etcd $("$LOCAL_ETCD_BIN" --version | sed -n 's/^etcd Version: //p') at ${LOCAL_ETCD_ENDPOINT}, data on ${shm}; $(nproc) cores, kernel $(uname -r)"
}
