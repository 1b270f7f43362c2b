#!/usr/bin/env bash
# Every row of the README's results table: for each task, the MLP baseline
# (vanilla), the fine-tuning control, tailoring and meta-tailoring with the
# true energy (the oracle rows), the Noether Network with a neural
# embedding and the exact-conservation reference (project), all from one
# baseline per task. Tailoring and meta-tailoring each run at the inner
# learning rate that gave them the lowest TRAINING long-term RMSE in
# tools/inner_lr_sweep.sh (the README lists the sweep).
# Reports go to $OUT/<task>.json (vanilla, finetune, tailor, project),
# $OUT/<task>-meta-tailor.json and $OUT/<task>-noether.json.
# Usage: tools/tables.sh [OUT] [extra train flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/tables}
shift || true
bin=${BIN:-bin/noether-vk}
data=${REAL_PENDULUM:-../shared/data/real_pend_h_1.txt}
mkdir -p "$out"
# run TASK LOSS TAILOR_LR META_TAILOR_LR [flags...]
run() {
  local task=$1 loss=$2 tlr=$3 mlr=$4
  shift 4
  echo "tables: $task ($(date -u +%H:%M:%S))" >&2
  # --overwrite: a run folder left by an earlier make tables is replaced.
  "$bin" train --task "$task" --method vanilla,finetune,tailor,project --loss "$loss" --inner-lr "$tlr" --overwrite \
    --out "$out/$task" --report "$out/$task.json" "$@" | tee "$out/$task.txt"
  # The same run folder: the baseline is reused from its checkpoint.
  "$bin" train --task "$task" --method meta-tailor --loss "$loss" --inner-lr "$mlr" --resume \
    --out "$out/$task" --report "$out/$task-meta-tailor.json" "$@" | tee -a "$out/$task.txt"
  "$bin" train --task "$task" --method noether --resume \
    --out "$out/$task" --report "$out/$task-noether.json" "$@" | tee -a "$out/$task.txt"
}
run pendulum 'p^2 - 3*cos(q)' 3.16 1 "$@"
run spring 'q^2 + p^2' 1 10 "$@"
run real-pendulum 'p^2 - 2.4*cos(q)' 1 3.16 --data "$data" "$@"
