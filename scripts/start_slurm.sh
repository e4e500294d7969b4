#!/usr/bin/env bash
# Configure and start a single-node SLURM cluster (munge + slurmctld + slurmd)
# on this Debian machine, for medeq's SLURM tests and benchmark.
#
# Idempotent: re-running it rewrites the same slurm.conf, leaves running
# daemons alone (restarting them only if the configuration changed) and
# returns once `sinfo` shows the node idle. Needs root and the Debian
# packages `slurm-wlm munge` (apt-get install -y slurm-wlm munge).
#
# Usage: bash scripts/start_slurm.sh   (re-runs itself with sudo if not root;
#        env SLURM_START_TIMEOUT=60 seconds to wait for the node)
set -euo pipefail

timeout_s="${SLURM_START_TIMEOUT:-60}"
conf_dir=/etc/slurm
conf="$conf_dir/slurm.conf"

die() { echo "start_slurm.sh: $*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "must run as root (it writes $conf and starts daemons)."
    exec sudo --preserve-env=SLURM_START_TIMEOUT bash "$0" "$@"
fi
for exe in munged slurmctld slurmd sinfo; do
    command -v "$exe" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin"
    command -v "$exe" >/dev/null 2>&1 || die "'$exe' not found: apt-get install -y slurm-wlm munge"
done

# ---------------------------------------------------------------- munge ----
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then
    if command -v mungekey >/dev/null 2>&1; then
        mungekey --create --keyfile=/etc/munge/munge.key
    else
        dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
    fi
fi
chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
chmod 0700 /etc/munge /var/log/munge
chmod 0400 /etc/munge/munge.key
chmod 0755 /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    rm -f /run/munge/munge.socket.2 /run/munge/munged.pid
    runuser -u munge -- munged
    for _ in $(seq 50); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
        sleep 0.1
    done
    munge -n | unmunge >/dev/null || die "munged did not start; see /var/log/munge/munged.log"
fi

# ---------------------------------------------------------- slurm.conf ----
host="$(hostname -s)"
# The node's real CPUs / sockets / cores / threads / memory, as slurmd sees them.
node_line="$(slurmd -C | head -n 1)"
case "$node_line" in
    NodeName=*) ;;
    *) die "unexpected 'slurmd -C' output: $node_line" ;;
esac
node_line="${node_line#NodeName=* }"

mkdir -p "$conf_dir" /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/slurm
new_conf="$(cat <<CONF
# Written by medeq scripts/start_slurm.sh: single-node test cluster.
ClusterName=medeq
SlurmctldHost=$host(127.0.0.1)
AuthType=auth/munge
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,default_queue_depth=1000
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=512
ReturnToService=2
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
MinJobAge=300
KillWait=5
MaxArraySize=100001
MaxJobCount=200000
NodeName=$host NodeAddr=127.0.0.1 $node_line State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
)"
changed=0
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$new_conf" ]; then
    printf '%s\n' "$new_conf" > "$conf"
    changed=1
fi

# ------------------------------------------------------------- daemons ----
running() { pgrep -x "$1" >/dev/null 2>&1; }
if [ "$changed" -eq 1 ]; then
    for d in slurmd slurmctld; do
        if running "$d"; then
            pkill -x "$d" || true
            for _ in $(seq 50); do running "$d" || break; sleep 0.1; done
        fi
    done
fi
running slurmctld || slurmctld
running slurmd || slurmd

# ------------------------------------------------------ wait until idle ----
deadline=$(( $(date +%s) + timeout_s ))
while :; do
    state="$(sinfo -h -n "$host" -o '%T' 2>/dev/null | head -n 1 || true)"
    case "$state" in
        idle|mixed|allocated) break ;;
        down*|drain*|fail*)
            scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    if [ "$(date +%s)" -ge "$deadline" ]; then
        die "node '$host' not idle after ${timeout_s}s (state: '${state:-none}'); see /var/log/slurm/slurmctld.log and slurmd.log"
    fi
    sleep 0.5
done
echo "SLURM ready: node $host is $state ($(sinfo -h -n "$host" -o '%c CPUs, %m MB'))"
