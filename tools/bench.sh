#!/usr/bin/env bash
# Prints what the etcd client layer and the conch binary cost: one
# grant -> txn (put + range) -> revoke cycle in process, and the whole-process
# time of `conch --version` and `conch status`, against a throwaway etcd
# whose data lives on tmpfs (/dev/shm) so raft's fsyncs do not dominate.
#
#   bash tools/bench.sh [--iterations N]
#
# Optimized build (-c opt). Numbers go to stdout; nothing is asserted.
set -euo pipefail

# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tools/local_etcd.sh
source "$(dirname "${BASH_SOURCE[0]}")/local_etcd.sh"
cd "$CONCH_ROOT"

cleanup() {
  local rc=$?
  set +e
  local_etcd_stop
  [[ -n "$LOCAL_ETCD_DIR" ]] && rm -rf "$LOCAL_ETCD_DIR"
  exit "$rc"
}

main() {
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  conch_header "build (-c opt)"
  bazel build -c opt --jobs=2 //conch:conch //tools:bench_client
  local bin
  bin="$(bazel info -c opt bazel-bin 2>/dev/null)"
  local shm=/dev/shm
  [[ -d "$shm" && -w "$shm" ]] || shm="${TMPDIR:-/tmp}"
  LOCAL_ETCD_DIR="$(mktemp -d "${shm}/conch-bench.XXXXXX")"
  conch_header "etcd on ${shm}"
  local_etcd_start
  conch_log "etcd at ${LOCAL_ETCD_ENDPOINT} (data in ${LOCAL_ETCD_DIR})"
  conch_header "bench_client"
  echo "machine: $(nproc) cores, $(uname -r), etcd $("$LOCAL_ETCD_BIN" --version | sed -n 's/^etcd Version: //p')"
  "${bin}/tools/bench_client" --endpoints "$LOCAL_ETCD_ENDPOINT" \
    --conch "${bin}/conch/conch" "$@"
}

main "$@"
