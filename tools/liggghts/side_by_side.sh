#!/usr/bin/env bash
# Side-by-side DEM anchor benchmark: LIGGGHTS 3.8 on one process, then `dryfilm bench dem` on one
# and two threads, one after another from the same start file, and the throughput ratios.
#
# For people, not for the test suite (CI machines have no LIGGGHTS). Needs `liggghts` on PATH
# (Debian/Ubuntu: apt-get install liggghts) and a release build of dryfilm.
#
#   tools/liggghts/side_by_side.sh            # one repetition of each
#   REPS=3 tools/liggghts/side_by_side.sh     # medians of three
#
# Environment: DATA (the anchor data file, .gz or plain; default: the first of
# ../shared/bench/dem-anchor-N20000.data.gz next to the checkout, /work/shared/bench/...),
# DRYFILM (the binary; default $CARGO_TARGET_DIR/release/dryfilm or target/release/dryfilm),
# STEPS (default 5000), REPS (default 1), THREADS (dryfilm thread counts, default "1 2").
#
# The metric is the anchors': particle-steps per second of the stepping loop (N × steps / loop
# time; LIGGGHTS's "Loop time", dryfilm's loop_seconds), file reading and output excluded.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
steps=${STEPS:-5000}
reps=${REPS:-1}
threads=${THREADS:-"1 2"}

if [[ -z "${DATA:-}" ]]; then
    for c in "$root/../shared/bench/dem-anchor-N20000.data.gz" \
             "/work/shared/bench/dem-anchor-N20000.data.gz"; do
        if [[ -f "$c" ]]; then DATA=$c; break; fi
    done
fi
[[ -n "${DATA:-}" && -f "$DATA" ]] || { echo "anchor data file not found; set DATA" >&2; exit 1; }
if [[ -z "${DRYFILM:-}" ]]; then
    DRYFILM=${CARGO_TARGET_DIR:-$root/target}/release/dryfilm
fi
[[ -x "$DRYFILM" ]] || { echo "no dryfilm binary at $DRYFILM (cargo build --release, or set DRYFILM)" >&2; exit 1; }
command -v liggghts >/dev/null || { echo "liggghts not on PATH (apt-get install liggghts)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# LIGGGHTS reads the data file uncompressed.
case "$DATA" in
    *.gz) gzip -dc "$DATA" > "$tmp/anchor.data" ;;
    *) cp "$DATA" "$tmp/anchor.data" ;;
esac

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
json_num() { sed -n "s/.*\"$1\": *\([-0-9.eE+]*\).*/\1/p" "$2" | head -1; }

echo "DEM anchor benchmark side by side: $steps steps, $reps repetition(s), data $DATA"
echo "dryfilm: $DRYFILM"
echo "load before: $(uptime | sed 's/.*load average: //')"

declare -A rate loop
for r in $(seq 1 "$reps"); do
    (cd "$tmp" && liggghts -in "$here/in.dem-anchor" -var data anchor.data \
        -var stl "$here/top_wall.stl" -var steps "$steps" -log "$tmp/log.liggghts" > "$tmp/out.liggghts")
    line=$(grep -m1 '^Loop time of' "$tmp/log.liggghts")
    # "Loop time of T on P procs for S steps with N atoms"
    t=$(awk '{print $4}' <<< "$line")
    n=$(awk '{print $12}' <<< "$line")
    z=$(awk '/^ *Step/ {on=1; next} on && NF==4 {z=$4} /^Loop time/ {on=0} END {print z}' "$tmp/log.liggghts")
    loop[lig]+="$t "
    rate[lig]+="$(awk -v n="$n" -v s="$steps" -v t="$t" 'BEGIN {printf "%.6e", n*s/t}') "
    echo "  rep $r LIGGGHTS 1 proc: loop $t s, Z $z"
    for th in $threads; do
        "$DRYFILM" bench dem --data "$DATA" --steps "$steps" --threads "$th" --json > "$tmp/dry.json"
        loop[$th]+="$(json_num loop_seconds "$tmp/dry.json") "
        rate[$th]+="$(json_num particle_steps_per_s "$tmp/dry.json") "
        echo "  rep $r dryfilm $th thread(s): loop $(json_num loop_seconds "$tmp/dry.json") s," \
            "Z $(json_num coordination "$tmp/dry.json"), digest $(sed -n 's/.*"state_digest": *"\([0-9a-f]*\)".*/\1/p' "$tmp/dry.json")"
    done
done
echo "load after: $(uptime | sed 's/.*load average: //')"
echo
lig=$(tr ' ' '\n' <<< "${rate[lig]}" | grep . | median)
printf '%-24s %12s %18s %16s\n' "code" "loop s" "particle-steps/s" "vs LIGGGHTS"
printf '%-24s %12.2f %18.3e %16s\n' "LIGGGHTS 3.8, 1 proc" \
    "$(tr ' ' '\n' <<< "${loop[lig]}" | grep . | median)" "$lig" "1.00x"
for th in $threads; do
    d=$(tr ' ' '\n' <<< "${rate[$th]}" | grep . | median)
    printf '%-24s %12.2f %18.3e %15.2fx\n' "dryfilm, $th thread(s)" \
        "$(tr ' ' '\n' <<< "${loop[$th]}" | grep . | median)" "$d" "$(awk -v a="$d" -v b="$lig" 'BEGIN {print a/b}')"
done
echo "(medians of $reps; targets of issue 2: >= 1.0x on one thread, >= 1.7x on two)"
