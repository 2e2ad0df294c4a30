#!/usr/bin/env bash
# Prints what the etcd client layer and the conch binary cost: one
# grant -> txn (put + range) -> revoke cycle in process, and the whole-process
# time of `conch --version` and `conch status`, against a throwaway etcd
# whose data lives on tmpfs (/dev/shm) so raft's fsyncs do not dominate.
#
#   bash tools/bench.sh [--iterations N]
#
# Release build (--config=release). Numbers go to stdout; nothing is
# asserted.
set -euo pipefail

# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tools/local_etcd.sh
source "$(dirname "${BASH_SOURCE[0]}")/local_etcd.sh"
# shellcheck source=tools/bench_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"
cd "$CONCH_ROOT"

main() {
  bench_begin //conch:conch //tools:bench_client
  conch_header "bench_client"
  "${BENCH_BIN}/tools/bench_client" --endpoints "$LOCAL_ETCD_ENDPOINT" \
    --conch "${BENCH_BIN}/conch/conch" "$@"
}

main "$@"
