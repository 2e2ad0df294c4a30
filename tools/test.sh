#!/usr/bin/env bash
# The project's test command: installs what is missing, then runs every
# Bazel test. Run from anywhere, as root or as a user with sudo:
#
#   bash tools/test.sh [--only S1,S2] [--skip S1,S2] [--list] [-- BAZEL_ARGS...]
#
# The work is a list of stages (STAGES below), each a function stage_NAME,
# run in order; the first failing stage stops the run. Adding a stage means
# writing its function and adding its name to STAGES.
#
# Options:
#   --only S1,S2    run only these stages (in STAGES order)
#   --skip S1,S2    run all stages but these
#   --list          print the stage names and exit
#   -- ARGS...      extra arguments for every `bazel test` (e.g. a test filter)
# Environment:
#   CONCH_TEST_STAGES        space-separated stage list replacing STAGES
#   CONCH_TEST_SUMMARY_FILE  if set, receives "PASSED FAILED" test-target
#                            counts at exit (.ci/run reads it)
#
# Exit status: 0 when every stage passed, non-zero otherwise. The last line
# is "tests: N passed, N failed", counted in Bazel test targets.
set -euo pipefail

# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$CONCH_ROOT"

STAGES=(
  deps
  bazel_test
  cluster
  asan
  tsan
)

BAZEL_ARGS=()
TESTS_PASSED=0
TESTS_FAILED=0
CURRENT_STAGE=""
STAGE_RESULTS=()
WORK_DIR=""

# Installs missing Debian packages and buildifier (fast when nothing is).
stage_deps() {
  bash "$CONCH_ROOT/tools/install-deps.sh" 3>&- 4>&-
}

# All unit, integration and invariant tests in the default configuration
# (the cluster drills run in their own stage).
stage_bazel_test() {
  run_bazel_test bazel_test //... --test_tag_filters=-cluster
}

# The drills and the smoke script on a local 3-node etcd cluster (issue 7),
# one test at a time: each starts three etcd members on two cores.
stage_cluster() {
  run_bazel_test cluster //... --test_tag_filters=cluster \
    --local_test_jobs=1
}

# Unit and integration tests again under AddressSanitizer + UBSan (the
# invariant tests, a minute of real processes, and the cluster drills run
# once above).
stage_asan() {
  run_bazel_test asan //... --config=asan --build_tests_only \
    --test_tag_filters=-invariant,-cluster
}

# ThreadSanitizer where it is meaningful: the tests that do not go through
# Debian's uninstrumented gRPC (whose internal synchronization TSan cannot
# see), nor through protobuf maps (tag notsan); see docs/testing.md.
stage_tsan() {
  run_bazel_test tsan //... --config=tsan --build_tests_only \
    --test_tag_filters=-integration,-cluster,-notsan
}

# Runs `bazel test` with the given targets and records per-target results
# from the build event protocol. $1 names the run (for the BEP file).
run_bazel_test() {
  local name="$1"
  shift
  local bep="${WORK_DIR}/${name}.bep.json"
  local ui=()
  if [[ ! -t 1 ]]; then
    # Logs, not a terminal: no cursor tricks, fewer progress lines.
    ui=(--curses=no --color=no --show_progress_rate_limit=30)
  fi
  local rc=0
  # 3>&- 4>&-: the Bazel server outlives this script and must not hold our
  # saved stdout/stderr (see on_exit) open.
  # --nocache_test_results: the disk cache may hold results of earlier
  # runs of the same inputs; the integration and invariant tests are about
  # timing and faults, so every run runs them again.
  bazel test "$@" --jobs=2 --nocache_test_results \
    --build_event_json_file="$bep" \
    ${ui[@]+"${ui[@]}"} ${BAZEL_ARGS[@]+"${BAZEL_ARGS[@]}"} 3>&- 4>&- || rc=$?

  # One JSON event a line; each test target ends with a testSummary event.
  local passed=0 failed=0 line label status
  if [[ -f "$bep" ]]; then
    while IFS= read -r line; do
      label="$(printf '%s' "$line" | sed -n 's/.*"testSummary": *{ *"label": *"\([^"]*\)".*/\1/p')"
      status="$(printf '%s' "$line" | sed -n 's/.*"overallStatus": *"\([A-Z_]*\)".*/\1/p')"
      case "$status" in
        PASSED | FLAKY) passed=$((passed + 1)) ;;
        *)
          failed=$((failed + 1))
          conch_log "test ${status:-NO_STATUS}: ${label:-?}"
          ;;
      esac
    done < <(grep -E '"overallStatus": *"' "$bep" || true)
  fi
  TESTS_PASSED=$((TESTS_PASSED + passed))
  TESTS_FAILED=$((TESTS_FAILED + failed))
  conch_log "${name}: ${passed} test targets passed, ${failed} failed (bazel exit ${rc})"

  case "$rc" in
    0) ;;
    3) conch_die "${name}: tests failed" ;;
    4) conch_die "${name}: no test targets found: nothing was tested" ;;
    *) conch_die "${name}: bazel test exited ${rc} (build or setup failure)" ;;
  esac
  if [[ $((passed + failed)) -eq 0 ]]; then
    conch_die "${name}: bazel reported no test results"
  fi
}

print_summary() {
  local rc="$1"
  conch_header "summary"
  local r
  for r in ${STAGE_RESULTS[@]+"${STAGE_RESULTS[@]}"}; do
    printf '  %s\n' "$r"
  done
  if [[ "$rc" -ne 0 && -n "$CURRENT_STAGE" ]]; then
    printf '  %-12s FAILED (exit %d)\n' "$CURRENT_STAGE" "$rc"
  fi
  if [[ -n "${CONCH_TEST_SUMMARY_FILE:-}" ]]; then
    printf '%d %d\n' "$TESTS_PASSED" "$TESTS_FAILED" >"$CONCH_TEST_SUMMARY_FILE"
  fi
  printf 'tests: %d passed, %d failed\n' "$TESTS_PASSED" "$TESTS_FAILED"
}

on_exit() {
  local rc=$?
  set +e
  # Print on the original outputs even if a signal landed mid-redirection.
  exec 1>&3 2>&4
  print_summary "$rc"
  if [[ -n "$WORK_DIR" ]]; then
    rm -rf "$WORK_DIR"
  fi
  exit "$rc"
}

usage() {
  sed -n '2,/^set -euo pipefail$/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

# Prints the stages to run, one a line, from STAGES and the options.
select_stages() {
  local only="$1" skip="$2" s
  for s in "${STAGES[@]}"; do
    if [[ -n "$only" && ",${only}," != *",${s},"* ]]; then
      continue
    fi
    if [[ ",${skip}," == *",${s},"* ]]; then
      continue
    fi
    printf '%s\n' "$s"
  done
}

main() {
  local only="" skip="" list=0
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --only) only="${2:?--only needs a list}"; shift 2 ;;
      --only=*) only="${1#--only=}"; shift ;;
      --skip) skip="${2:?--skip needs a list}"; shift 2 ;;
      --skip=*) skip="${1#--skip=}"; shift ;;
      --list) list=1; shift ;;
      -h | --help) usage; exit 0 ;;
      --) shift; BAZEL_ARGS=("$@"); break ;;
      *) usage >&2; conch_die "unknown argument: $1" ;;
    esac
  done
  if [[ -n "${CONCH_TEST_STAGES:-}" ]]; then
    read -r -a STAGES <<<"$CONCH_TEST_STAGES"
  fi
  local s
  for s in "${STAGES[@]}" ${only//,/ } ${skip//,/ }; do
    declare -F "stage_${s}" >/dev/null || conch_die "unknown stage: ${s}"
  done
  if [[ "$list" -eq 1 ]]; then
    printf '%s\n' "${STAGES[@]}"
    exit 0
  fi

  local selected=()
  mapfile -t selected < <(select_stages "$only" "$skip")
  [[ ${#selected[@]} -gt 0 ]] || conch_die "no stage selected"

  exec 3>&1 4>&2
  trap on_exit EXIT
  WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/conch-test.XXXXXX")"
  local start
  for s in "${selected[@]}"; do
    CURRENT_STAGE="$s"
    conch_header "stage: ${s}"
    start=$SECONDS
    "stage_${s}"
    STAGE_RESULTS+=("$(printf '%-12s ok (%ds)' "$s" $((SECONDS - start)))")
  done
  CURRENT_STAGE=""
}

main "$@"
