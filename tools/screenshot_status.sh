#!/usr/bin/env bash
# Refreshes the status page screenshots in docs/img from the browser test:
# runs //conch:status_page_browser_test (a real etcd, three conchd, headless
# Chromium; see that test) and copies the PNGs it leaves in its outputs.
#
#   bash tools/screenshot_status.sh
set -euo pipefail

# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$CONCH_ROOT"

bazel test //conch:status_page_browser_test --jobs=2 --nocache_test_results
# Bazel 4 zips what a test leaves in TEST_UNDECLARED_OUTPUTS_DIR.
outputs="$(bazel info bazel-testlogs)/conch/status_page_browser_test/test.outputs/outputs.zip"
[[ -s "$outputs" ]] || conch_die "the test left no outputs ($outputs)"
mkdir -p docs/img
for png in status-page.png status-page-phone.png; do
  python3 - "$outputs" "$png" "docs/img/$png" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[3], "wb") as out:
    out.write(z.read(sys.argv[2]))
PY
  conch_log "docs/img/$png ($(stat -c %s "docs/img/$png") bytes)"
done
