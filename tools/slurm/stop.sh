#!/usr/bin/env bash
# Stops the Slurm daemons that tools/slurm/start.sh started, by the PIDs it recorded in
# $DRYFILM_SLURM_STATE (default /tmp/dryfilm-slurm), never by name: cancels every job, waits for
# the queue to drain, then stops slurmd, slurmctld and munged in that order.
set -uo pipefail

STATE=${DRYFILM_SLURM_STATE:-/tmp/dryfilm-slurm}
# The clients talk to this test cluster only (its configuration is in the state folder).
export SLURM_CONF="$STATE/slurm.conf"
log() { echo "[slurm stop] $*" >&2; }

alive() { # pid: running and not a zombie
    [ -r "/proc/$1/stat" ] || return 1
    local st
    st=$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
    [ "$st" != Z ] && [ "$st" != X ]
}

if [ -s "$STATE/slurmctld.pid" ] && alive "$(cat "$STATE/slurmctld.pid")"; then
    jobs=$(squeue -h -o %i 2>/dev/null | sort -u)
    if [ -n "$jobs" ]; then
        # shellcheck disable=SC2086
        scancel $jobs 2>/dev/null || true
        end=$((SECONDS + 30))
        while [ -n "$(squeue -h -o %i 2>/dev/null)" ] && [ $SECONDS -lt $end ]; do sleep 0.2; done
    fi
fi

for d in slurmd slurmctld munged; do
    f="$STATE/$d.pid"
    [ -s "$f" ] || continue
    pid=$(cat "$f")
    if alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        end=$((SECONDS + 15))
        while alive "$pid" && [ $SECONDS -lt $end ]; do sleep 0.1; done
        if alive "$pid"; then
            log "$d ($pid) did not stop on TERM: KILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.2
        fi
    fi
    if alive "$pid"; then log "$d ($pid) still running"; else log "$d ($pid) stopped"; fi
    rm -f "$f"
done
exit 0
