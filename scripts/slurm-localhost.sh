#!/usr/bin/env bash
# A real one-node SLURM on this machine (Debian's slurm-wlm and munge: munged, slurmctld and slurmd on
# localhost), and a tiny grid run on it as an array job (`agr grid --slurm`, `sbatch`) and straight
# (`agr grid`): the two tables must be equal (every number but the training times).
#
#   scripts/slurm-localhost.sh [--keep] [--timeout SECONDS]
#
# Needs root (apt-get, the daemons) and the release binary (`swift build -c release --product agr`; AGR=PATH
# for another). Works in $AGR_SLURM_DIR (default /tmp/agr-slurm): slurm.conf, the daemons' state and logs, the
# grid file and both runs folders. The daemons it started are stopped at the end unless --keep (then:
# `SLURM_CONF=$AGR_SLURM_DIR/slurm.conf sinfo` works, and the script run again reuses them).
set -euo pipefail

keep=false
timeout=1800
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=true ;;
    --timeout) timeout="$2"; shift ;;
    *) echo "usage: $0 [--keep] [--timeout SECONDS]" >&2; exit 64 ;;
  esac
  shift
done

root="$(cd "$(dirname "$0")/.." && pwd)"
agr="${AGR:-$root/.build/release/agr}"
work="${AGR_SLURM_DIR:-/tmp/agr-slurm}"
[ -x "$agr" ] || { echo "error: no agr binary at $agr: run swift build -c release --product agr (or set AGR)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "error: run as root (it installs packages and starts the SLURM daemons)" >&2; exit 1; }
started=$(date +%s)
say() { echo "[slurm-localhost $(( $(date +%s) - started ))s] $*"; }

# --- install ---------------------------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurm-wlm and munge (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null
fi

# --- munge: the credentials slurmctld and slurmd exchange --------------------------------------------------
stop_munge=false
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  [ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/log/munge /var/lib/munge && chown munge:munge /run/munge /var/log/munge /var/lib/munge
  runuser -u munge -- /usr/sbin/munged
  stop_munge=true
  say "munged started"
fi

# --- slurm.conf: one node, localhost, its real CPUs and memory (slurmd -C), no GPUs -------------------------
export SLURM_CONF="$work/slurm.conf"
mkdir -p "$work"/{state,spool,log}
running() { [ -s "$work/$1.pid" ] && kill -0 "$(cat "$work/$1.pid")" 2>/dev/null; }
if ! running slurmctld || ! running slurmd; then
  node="$(slurmd -C | head -1)"
  field() { echo "$node" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
  cat > "$SLURM_CONF" <<EOF
ClusterName=agr-localhost
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=3600
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(field CPUs) Boards=$(field Boards) SocketsPerBoard=$(field SocketsPerBoard) CoresPerSocket=$(field CoresPerSocket) ThreadsPerCore=$(field ThreadsPerCore) RealMemory=$(field RealMemory) State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
  say "slurm.conf: $(grep '^NodeName' "$SLURM_CONF")"
  slurmctld -i
  slurmd -N localhost
  say "slurmctld and slurmd started"
fi

stop_daemons() {
  if ! $keep; then
    for daemon in slurmd slurmctld; do
      [ -s "$work/$daemon.pid" ] && kill "$(cat "$work/$daemon.pid")" 2>/dev/null || true
    done
    $stop_munge && [ -s /run/munge/munged.pid ] && kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
    say "SLURM daemons stopped"
  else
    say "SLURM kept running (SLURM_CONF=$SLURM_CONF; stop: kill \$(cat $work/slurmd.pid) \$(cat $work/slurmctld.pid))"
  fi
}
trap stop_daemons EXIT

for _ in $(seq 60); do
  state="$(sinfo -h -n localhost -o %T 2>/dev/null || true)"
  [ "$state" = idle ] && break
  sleep 1
done
[ "$state" = idle ] || { echo "error: the node did not come up (state '$state'); see $work/log/" >&2; exit 1; }
say "node localhost idle: $(sinfo -h -o '%c CPUs, %m MB')"

# --- the grid: AT without and with AGR, two seeds, SmallCNN on 1,024 Fashion-MNIST images, 3 epochs -------------
grid="$work/tiny-slurm.json"
cat > "$grid" <<'EOF'
{
  "description": "scripts/slurm-localhost.sh: AT without and with AGR, two seeds, SmallCNN on 1,024 Fashion-MNIST images, 3 epochs.",
  "preset": "quickstart",
  "settings": {"epochs": 3, "agr_start_epoch": 1, "train_subset": 1024, "test_subset": 128, "batch_size": 32,
               "perturbation.steps": 2, "eval_steps": 5, "diagnostics_every": 4, "log_every": 4},
  "axes": {"method": ["at"], "agr": [false, true], "seed": [0, 1]},
  "evaluation": {"pgd_steps": 10, "pgd_examples": 200, "autoattack": "apgd-ce", "autoattack_examples": 50}
}
EOF
rm -rf "$work/cluster" "$work/direct"
cd "$root"  # the data root data/ and runs resolve from here, for the array's tasks too

# --- on SLURM -----------------------------------------------------------------------------------------------
"$agr" grid "$grid" --runs "$work/cluster" --slurm --slurm-cpus-per-task 1 --slurm-time 30 --slurm-mem 2G
job="$(sbatch --parsable "$work/cluster/slurm.sbatch")"
say "submitted array job $job"
submitted=$(date +%s)
while [ -n "$(squeue -h -j "$job" 2>/dev/null)" ]; do
  if [ $(( $(date +%s) - submitted )) -gt "$timeout" ]; then
    scancel "$job"; echo "error: the array did not finish in ${timeout}s; see $work/cluster/slurm-logs/" >&2; exit 1
  fi
  sleep 5
done
cluster_seconds=$(( $(date +%s) - submitted ))
states="$(scontrol -o show job "$job" | grep -o 'JobState=[A-Z_]*' | sort | uniq -c)"
say "array job $job finished in ${cluster_seconds}s:" $states
if scontrol -o show job "$job" | grep -o 'JobState=[A-Z_]*' | grep -qv COMPLETED; then
  tail -n 20 "$work"/cluster/slurm-logs/*.out >&2; echo "error: not every task completed" >&2; exit 1
fi
"$agr" grid "$grid" --runs "$work/cluster" --table

# --- straight ---------------------------------------------------------------------------------------------------
say "the same grid with agr grid (one run after another, one thread as each SLURM task)"
direct_started=$(date +%s)
OMP_NUM_THREADS=1 "$agr" grid "$grid" --runs "$work/direct" > "$work/direct.log" 2>&1 \
  || { tail -n 20 "$work/direct.log" >&2; echo "error: agr grid failed; see $work/direct.log" >&2; exit 1; }
direct_seconds=$(( $(date +%s) - direct_started ))
say "agr grid finished in ${direct_seconds}s"

# --- the same numbers: the per-run table without its last column (training time) ----------------------------
without_times() { awk -F, -v OFS=, '{ NF--; print }' "$1/results-runs.csv"; }
if diff <(without_times "$work/cluster") <(without_times "$work/direct"); then
  say "tables match: results-runs.csv of the SLURM array equals agr grid's, every run and number but the training time"
  without_times "$work/cluster"
else
  echo "error: the tables differ (above: < SLURM, > agr grid)" >&2; exit 1
fi
say "SLURM array ${cluster_seconds}s, agr grid ${direct_seconds}s"
