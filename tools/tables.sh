#!/usr/bin/env bash
# Every row of the README's results table: for each task, the MLP baseline
# (vanilla), the fine-tuning control, tailoring and meta-tailoring with the
# true energy (the oracle rows), and the Noether Network with a neural
# embedding, all from one baseline per task. Reports go to $OUT/<task>.json.
# Usage: tools/tables.sh [OUT] [extra train flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/tables}
shift || true
bin=${BIN:-bin/noether-vk}
data=${REAL_PENDULUM:-../shared/data/real_pend_h_1.txt}
mkdir -p "$out"
run() {
  local task=$1 loss=$2
  shift 2
  echo "tables: $task ($(date -u +%H:%M:%S))" >&2
  "$bin" train --task "$task" --method vanilla,finetune,tailor,meta-tailor,noether --loss "$loss" \
    --out "$out/$task" --report "$out/$task.json" "$@" | tee "$out/$task.txt"
}
run pendulum 'p^2 - 3*cos(q)' "$@"
run spring 'q^2 + p^2' "$@"
run real-pendulum 'p^2 - 2.4*cos(q)' --data "$data" "$@"
