#!/usr/bin/env bash
# Measures the test tiers on this machine and writes the table into docs/testing.md (between the
# `times:begin` and `times:end` markers): the default tier (`cargo test --workspace --all-targets`)
# and the validation tier (`bash tools/validate.sh`), each from a warm build, N times (default 3),
# median and range; with --clean also `bash .ci/run` once on a fresh clone of HEAD (clean build,
# as CI runs it). Run it on an otherwise idle machine.
# Usage: bash tools/time-tests.sh [--runs N] [--clean]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3
clean=0
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=$2; shift 2 ;;
        --clean) clean=1; shift ;;
        *) echo "usage: bash tools/time-tests.sh [--runs N] [--clean]" >&2; exit 2 ;;
    esac
done

# Seconds taken by a command (its output to a log; fails the script if the command fails).
timed() {
    local log=$1; shift
    local t0 t1
    t0=$(date +%s.%N)
    if ! "$@" >"$log" 2>&1; then
        echo "failed: $* (log: $log)" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
    t1=$(date +%s.%N)
    python3 -c "print($t1 - $t0)"
}

# "median (min–max)" of the arguments, in minutes and seconds.
summary() {
    python3 - "$@" <<'PY'
import sys
v = sorted(float(x) for x in sys.argv[1:])
m = v[len(v) // 2] if len(v) % 2 else 0.5 * (v[len(v) // 2 - 1] + v[len(v) // 2])
f = lambda s: f"{int(s // 60)} min {s % 60:04.1f} s"
print(f"{f(m)} ({f(v[0])} – {f(v[-1])}, {len(v)} runs)" if len(v) > 1 else f(m))
PY
}

logs=$(mktemp -d)
echo "warming the builds" >&2
cargo test --workspace --all-targets --no-run >"$logs/build.log" 2>&1
cargo test --release --features validation --test validation --no-run >>"$logs/build.log" 2>&1

default=()
validation=()
for i in $(seq "$runs"); do
    echo "default tier, run $i/$runs" >&2
    default+=("$(timed "$logs/default_$i.log" cargo test --workspace --all-targets --no-fail-fast)")
done
for i in $(seq "$runs"); do
    echo "validation tier, run $i/$runs" >&2
    validation+=("$(timed "$logs/validation_$i.log" bash tools/validate.sh)")
done
count() { grep -h '^test result' "$1" | awk '{p+=$4; f+=$6; ig+=$8} END {print p " passed, " f " failed, " ig " ignored"}'; }

rows="| tier | command | time on 2 cores | tests |
|---|---|---|---|
| default | \`cargo test --workspace --all-targets\` (warm build) | $(summary "${default[@]}") | $(count "$logs/default_1.log") |
| validation | \`bash tools/validate.sh\` (warm build) | $(summary "${validation[@]}") | $(count "$logs/validation_1.log") |"

if [ $clean = 1 ]; then
    echo "clean clone, bash .ci/run" >&2
    clone=$(mktemp -d)
    git clone -q . "$clone/repo"
    ci=$(timed "$logs/ci.log" bash "$clone/repo/.ci/run")
    peak=$(du -sh "$clone/repo/target" | cut -f1)
    rows="$rows
| both, clean clone | \`bash .ci/run\` (clean build, \`CARGO_INCREMENTAL=0\`) | $(summary "$ci") | target/ $peak at the end |"
    rm -rf "$clone"
fi

stamp="Measured $(date -u +%Y-%m-%d) at $(git rev-parse --short HEAD) by \`bash tools/time-tests.sh$( [ $clean = 1 ] && echo ' --clean')\` on $(nproc) cores ($(uname -m))."
python3 - "$rows" "$stamp" <<'PY'
import sys, re
rows, stamp = sys.argv[1], sys.argv[2]
p = "docs/testing.md"
s = open(p).read()
new = f"<!-- times:begin (written by tools/time-tests.sh) -->\n{stamp}\n\n{rows}\n<!-- times:end -->"
s2 = re.sub(r"<!-- times:begin.*?<!-- times:end -->", new, s, flags=re.S)
if s2 == s and new not in s:
    sys.exit("docs/testing.md has no times:begin/times:end markers")
open(p, "w").write(s2)
PY
echo "logs in $logs" >&2
echo "$rows"
