#!/usr/bin/env bash
# Rewrites the golden fingerprints (tests/golden/*.json) from the current code and prints every
# change, old → new. Use it for a deliberate model change, then commit tests/golden/ together with
# the change and the printed list in the commit message; a refactor must not need it.
# Usage: bash tools/bless.sh [TEST NAME FILTER]   (default: every golden fingerprint)
set -uo pipefail
cd "$(dirname "$0")/.."
filter=${1:-golden::}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
DRYFILM_BLESS=1 cargo test -p dryfilm --test integration -- "$filter" --nocapture --test-threads 2 >"$log" 2>&1
rc=$?
grep -E '^(golden |  [A-Za-z0-9_.]+: )' "$log"
if [ $rc -ne 0 ]; then
    tail -n 40 "$log"
    echo "bless: cargo test failed (exit $rc); nothing reliable was written" >&2
    exit $rc
fi
git --no-pager diff --stat -- tests/golden
