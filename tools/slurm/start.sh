#!/usr/bin/env bash
# Starts a real single-node Slurm test cluster on this machine (munge, slurmctld, slurmd, loopback
# only) for the project's Slurm round-trip test. Installs Debian's slurm-wlm and munge first if
# missing. Needs root, no systemd. Recipe: shared/docs/slurm-local.md.
#
# Self-contained: the configuration (slurm.conf, cgroup.conf), the controller's state, the daemons'
# spool, pid and log files all live in one state folder, $DRYFILM_SLURM_STATE (default
# /tmp/dryfilm-slurm); the daemons run with `-f $STATE/slurm.conf` on their own ports
# ($DRYFILM_SLURM_PORT, default 16817, and the next one), under their own cluster name. Nothing is
# written to /etc/slurm or /var/spool, so a workstation's real Slurm configuration is never touched;
# only munge is system-wide (its key and socket). Clients need `SLURM_CONF=$STATE/slurm.conf`,
# which this script prints as its last line. It refuses to start where a slurmctld that it did not
# start is running, and prints the daemons' log tails when a start fails.
# tools/slurm/stop.sh stops exactly the daemons it started (by their recorded PIDs).
set -euo pipefail

STATE=${DRYFILM_SLURM_STATE:-/tmp/dryfilm-slurm}
PORT=${DRYFILM_SLURM_PORT:-16817}
CONF="$STATE/slurm.conf"
HERE=$(cd "$(dirname "$0")" && pwd)

log() { echo "[slurm start] $*" >&2; }
log_tails() {
    for f in "$STATE/slurmctld.log" "$STATE/slurmd.log"; do
        [ -s "$f" ] || continue
        log "last lines of $f:"
        tail -n 15 "$f" | sed 's/^/    /' >&2
    done
}
die() { log "error: $*"; log_tails; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (installs packages, starts daemons as root)"
case "$STATE" in /*) ;; *) die "DRYFILM_SLURM_STATE must be an absolute path, got $STATE" ;; esac

# A previous start in the same state folder that was never stopped: stop it first.
if [ -s "$STATE/slurmd.pid" ] || [ -s "$STATE/slurmctld.pid" ] || [ -s "$STATE/munged.pid" ]; then
    log "stopping daemons left by a previous start"
    "$HERE/stop.sh" || true
fi

# Never run beside a Slurm controller this script did not start (a real cluster's, or another
# test's): refuse, naming it.
alive() { # pid: running and not a zombie (a stopped daemon lingers as one for a while)
    local st
    st=$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
    [ "$st" != Z ] && [ "$st" != X ]
}
for pid in $(pgrep -x slurmctld 2>/dev/null || true); do
    alive "$pid" || continue
    cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null || true)
    die "a slurmctld not started by this script is running (pid $pid: ${cmd:-?}); stop it or use the machine's own Slurm"
done

# A fresh state folder: configuration, controller state, spool, pids and logs.
rm -rf "$STATE/ctld" "$STATE/spool" "$STATE"/*.log
mkdir -p "$STATE/ctld" "$STATE/spool"

# 1. Packages (with a temporary policy-rc.d so postinst scripts start nothing).
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
    log "installing slurm-wlm and munge"
    policy=/usr/sbin/policy-rc.d
    backup=""
    if [ -e "$policy" ]; then backup="$STATE/policy-rc.d.bak"; cp -p "$policy" "$backup"; fi
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    export DEBIAN_FRONTEND=noninteractive
    set +e
    {
        apt-get -o DPkg::Lock::Timeout=600 update -qq \
            && apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
                slurm-wlm munge
    } >&2
    rc=$?
    set -e
    if [ -n "$backup" ]; then mv "$backup" "$policy"; else rm -f "$policy"; fi
    [ $rc = 0 ] || die "apt-get install slurm-wlm munge failed ($rc)"
fi

# 2. Configuration, all of it in the state folder.
hw=$(slurmd -C | head -n 1 | tr ' ' '\n' | grep -E '^(CPUs|Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore|RealMemory)=' | tr '\n' ' ')
[ -n "$hw" ] || die "slurmd -C printed no hardware description"
cat > "$CONF" <<CONF
# Written by dryfilm tools/slurm/start.sh: a single-node test cluster on loopback, self-contained
# in $STATE (state, spool, pids, logs); start the daemons with -f $CONF.
ClusterName=dryfilm-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
PlugStackConfig=$STATE/plugstack.conf
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.daemon.pid
SlurmdPidFile=$STATE/slurmd.daemon.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 $hw
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
# slurmd loads a cgroup plugin even with linuxproc/task none; it reads cgroup.conf beside slurm.conf.
echo "CgroupPlugin=cgroup/v1" > "$STATE/cgroup.conf"
: > "$STATE/plugstack.conf"
export SLURM_CONF="$CONF"

wait_for() { # seconds, description, command...
    local t=$1 what=$2; shift 2
    local end=$((SECONDS + t))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $end ] || die "timed out after ${t}s waiting for $what"
        sleep 0.2
    done
}
pid_from() { # pidfile -> pid (waits for the daemon to write it)
    local end=$((SECONDS + 15))
    until [ -s "$1" ]; do
        [ $SECONDS -lt $end ] || die "no pid file $1"
        sleep 0.1
    done
    tr -d ' \n' < "$1"
}

# 3. munge.
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
chmod 0755 /run/munge
if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    if command -v mungekey >/dev/null; then mungekey --create --keyfile=/etc/munge/munge.key
    else dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; fi
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "munged already running (not started here, will not be stopped)"
else
    rm -f /run/munge/munged.pid
    runuser -u munge -- /usr/sbin/munged
    echo "$(pid_from /run/munge/munged.pid)" > "$STATE/munged.pid"
    wait_for 15 "munge" sh -c 'munge -n | unmunge'
fi

# 4. slurmctld (-c: clean state, no jobs from an earlier run).
rm -f "$STATE/slurmctld.daemon.pid" "$STATE/slurmd.daemon.pid"
slurmctld -f "$CONF" -c || die "slurmctld -f $CONF did not start"
echo "$(pid_from "$STATE/slurmctld.daemon.pid")" > "$STATE/slurmctld.pid"
wait_for 30 "slurmctld (scontrol ping)" sh -c 'scontrol ping | grep -q UP'

# 5. slurmd.
slurmd -f "$CONF" -N localhost || die "slurmd -f $CONF did not start"
echo "$(pid_from "$STATE/slurmd.daemon.pid")" > "$STATE/slurmd.pid"
node_idle() { [ "$(sinfo -h -N -n localhost -o %T 2>/dev/null | head -n 1)" = idle ]; }
end=$((SECONDS + 30))
until node_idle; do
    [ $SECONDS -lt $end ] || die "node localhost never became idle: $(sinfo -h -N -o '%N %T %E')"
    state=$(sinfo -h -N -n localhost -o %T 2>/dev/null | head -n 1)
    case "$state" in
        down*|drain*) scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 0.2
done
log "slurm ready (configuration, state and logs in $STATE)"
echo "slurm ready"
echo "SLURM_CONF=$CONF"
