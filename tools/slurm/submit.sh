#!/usr/bin/env bash
# Submits sharded work to Slurm as an array job, each task doing its share
# (--shard auto reads SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT), and
# the merge as a second job that starts only when every task of the array
# has succeeded (--dependency=afterok; if one fails, the merge is cancelled
# and rerunning the array redoes only what is missing). Prints the two job
# IDs.
#
#   tools/slurm/submit.sh sweep FILE N               # the sweep file in N tasks; then sweep merge FILE
#   tools/slurm/submit.sh formulas-fit DIR N FLAGS   # formulas fit FLAGS in N shards into DIR/part-I.json,
#                                                    # then formulas merge into DIR/fits.json
#
# Environment:
#   NOETHER_VK   the binary (default: bin/noether-vk; make build); every task must see it
#   SBATCH_OPTS  more sbatch options for both jobs, e.g. "--partition=gpu --gres=gpu:1 --time=4:00:00"
#   LOGS         the jobs' output files (default: runs/slurm)
#   WAIT=1       wait for the merge to end, and exit with its status
set -euo pipefail
cd "$(dirname "$0")/../.."

usage() { sed -n '2,20p' "$0" >&2; exit 2; }
(($# >= 3)) || usage
kind=$1 target=$2 n=$3
shift 3
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "submit: N must be a positive number of tasks, not $n" >&2; exit 2; }
bin=$(realpath "${NOETHER_VK:-bin/noether-vk}")
[ -x "$bin" ] || { echo "submit: no binary at $bin: run make build, or set NOETHER_VK" >&2; exit 2; }
logs=${LOGS:-runs/slurm}
mkdir -p "$logs"
# shellcheck disable=SC2206 # options are words
opts=(--chdir="$PWD" ${SBATCH_OPTS:-})

# q quotes its arguments for the tasks' shell.
q() {
  local s
  s=$(printf '%q ' "$@")
  echo "${s% }"
}
case $kind in
sweep)
  [ -f "$target" ] || { echo "submit: no sweep file $target" >&2; exit 2; }
  name=sweep-$(basename "$target" .json)
  work=$(q "$bin" sweep run "$target" --shard auto "$@")
  merge=$(q "$bin" sweep merge "$target" "$@")
  ;;
formulas-fit)
  mkdir -p "$target"
  name=fit-$(basename "$target")
  work="$(q "$bin" formulas fit "$@") --shard auto --json $(q "$target")/part-\$SLURM_ARRAY_TASK_ID.json"
  parts=()
  for ((i = 0; i < n; i++)); do parts+=("$target/part-$i.json"); done
  merge=$(q "$bin" formulas merge "${parts[@]}" --json "$target/fits.json")
  ;;
*) usage ;;
esac

array=$(sbatch --parsable "${opts[@]}" --job-name="$name" --array="0-$((n - 1))" --output="$logs/$name-%A_%a.out" --wrap "$work")
array=${array%%;*}
echo "submit: array job $array: $n tasks of: $work" >&2
wait=()
[ "${WAIT:-0}" = 1 ] && wait=(--wait)
merged=$(sbatch --parsable "${opts[@]}" "${wait[@]}" --job-name="$name-merge" --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  --output="$logs/$name-merge-%j.out" --wrap "$merge")
merged=${merged%%;*}
echo "submit: merge job $merged after array $array succeeds: $merge" >&2
echo "$array $merged"
