#!/usr/bin/env bash
# make test-slurm: the scheduler integration, for real. Installs Slurm,
# munge and jq when missing (Debian packages; as root or with sudo), starts a
# one-node cluster with its own configuration in a temporary folder, then
# submits, each as an array job followed by its merge (tools/slurm/submit.sh):
#   1. a formula fit in 3 shards, and
#   2. a sweep of 3 seeds x 3 methods in 3 tasks,
# and checks that each merged result equals the same work done in one
# process. Stops the daemons it started (by their PID files) at the end.
# Skips, saying why, only when it cannot install: not root and no sudo.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath -m "${NOETHER_VK:-bin/noether-vk}")
[ -x "$bin" ] || { echo "test-slurm: no binary at $bin: run make build" >&2; exit 1; }
export NOETHER_VK=$bin
export MESA_SHADER_CACHE_DIR=${MESA_SHADER_CACHE_DIR:-$PWD/.cache/mesa}

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null || ! sudo -n true 2>/dev/null; then
    echo "test-slurm: skipped: starting Slurm and munge needs root, and this user is not root and has no password-less sudo"
    exit 0
  fi
  sudo="sudo -n"
fi
missing=()
for p in slurm-wlm munge jq; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "test-slurm: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/noether-vk-slurm.XXXXXX")
chmod 755 "$tmp"
started_munge=0
stop() {
  local code=$?
  for d in ctld d; do
    [ -s "$tmp/$d.pid" ] && $sudo kill "$(cat "$tmp/$d.pid")" 2>/dev/null || true
  done
  if [ "$started_munge" = 1 ] && [ -s /run/munge/munged.pid ]; then
    $sudo kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
  fi
  if [ "$code" != 0 ]; then
    echo "test-slurm: FAILED; the daemons' logs:" >&2
    tail -n 20 "$tmp"/*.log >&2 2>/dev/null || true
  fi
  $sudo rm -rf "$tmp"
}
trap stop EXIT

# Munge first: the Slurm daemons authenticate through it.
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  $sudo mkdir -p /run/munge
  $sudo chown munge:munge /run/munge
  $sudo su -s /bin/sh munge -c /usr/sbin/munged
  started_munge=1
fi

host=$(hostname)
mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
mkdir -p "$tmp/state" "$tmp/spool"
cat >"$tmp/slurm.conf" <<CONF
ClusterName=noethertest
SlurmctldHost=$host
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldLogFile=$tmp/ctld.log
SlurmdLogFile=$tmp/d.log
SlurmctldPidFile=$tmp/ctld.pid
SlurmdPidFile=$tmp/d.pid
JobCompType=jobcomp/none
NodeName=$host CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$tmp/slurm.conf
$sudo env SLURM_CONF="$SLURM_CONF" /usr/sbin/slurmctld
$sudo env SLURM_CONF="$SLURM_CONF" /usr/sbin/slurmd
for ((i = 0; i < 60; i++)); do
  sinfo -h -o %t 2>/dev/null | grep -qx idle && break
  sleep 0.5
done
sinfo -h -o %t | grep -qx idle || { echo "test-slurm: the node did not come up idle" >&2; sinfo >&2; exit 1; }
echo "test-slurm: one-node Slurm up ($(sinfo -V), $host, $(nproc) CPUs)"
export LOGS=$tmp/logs WAIT=1

# 1. A sharded formula fit against the whole fit in one process.
fit=(--system spring --depth 5)
tools/slurm/submit.sh formulas-fit "$tmp/fit" 3 "${fit[@]}" >/dev/null
"$bin" formulas fit "${fit[@]}" --json "$tmp/fit-one.json" >/dev/null
# Everything but the shard's name and the stages' wall times.
records() { jq -S 'del(.shard, .stages)' "$1"; }
fitted=$(jq '.records | length' "$tmp/fit/fits.json")
if [ "$fitted" != 123 ] || [ "$(jq .candidates_fitted "$tmp/fit/fits.json")" != 123 ]; then
  echo "test-slurm: the merged fit holds $fitted records, not the 123 formulas of depth 5" >&2
  exit 1
fi
if ! diff <(records "$tmp/fit/fits.json") <(records "$tmp/fit-one.json") >"$tmp/fit.diff"; then
  echo "test-slurm: the merged fit differs from the one-process fit:" >&2
  head -n 40 "$tmp/fit.diff" >&2
  exit 1
fi
echo "test-slurm: formulas fit in 3 array tasks, merged: $fitted formulas, $(jq .candidates_accepted "$tmp/fit/fits.json") accepted; every record (formula, parameters, score) equal to the one-process fit"

# 2. A seed sweep against the same sweep run in one process.
cat >"$tmp/seeds.json" <<'SWEEP'
{
  "description": "test-slurm: a small seed sweep",
  "numbers": ["test_rmse", "train_rmse"],
  "common": {"seed": [0, 1, 2], "baseline-steps": 30, "epochs": 2},
  "grids": [
    {"task": "pendulum", "method": ["vanilla", "finetune"]},
    {"task": "pendulum", "method": "tailor", "loss": "p^2 - 3*cos(q)", "inner-lr": 1}
  ]
}
SWEEP
tools/slurm/submit.sh sweep "$tmp/seeds.json" 3 --out "$tmp/sweep-slurm" >/dev/null
"$bin" sweep run "$tmp/seeds.json" --out "$tmp/sweep-one" >/dev/null 2>&1
"$bin" sweep merge "$tmp/seeds.json" --out "$tmp/sweep-one" >/dev/null
table() { jq -S 'del(.rows[].run_folders)' "$1"; }
points=$(jq '[.rows[].seeds | length] | add' "$tmp/sweep-slurm/table.json")
if [ "$points" != 9 ]; then
  echo "test-slurm: the merged sweep holds $points points, not 9" >&2
  exit 1
fi
if ! diff <(table "$tmp/sweep-slurm/table.json") <(table "$tmp/sweep-one/table.json") >"$tmp/sweep.diff"; then
  echo "test-slurm: the merged sweep differs from the one-process sweep:" >&2
  head -n 40 "$tmp/sweep.diff" >&2
  exit 1
fi
echo "test-slurm: sweep of $points points in 3 array tasks, merged: every number equal to the one-process sweep"
cat "$tmp/sweep-slurm/table.md"
echo "test-slurm: 2 passed, 0 failed"
