#!/usr/bin/env bash
# The inner learning rate of the oracle rows: for each task, one MLP
# baseline, then tailoring and meta-tailoring with the true energy at inner
# learning rates 10^k, k = -1 .. 1.5 in steps of 0.5. The README's results
# table uses, per task, the rate with the lowest TRAINING long-term RMSE of
# meta-tailoring (test RMSE is printed alongside, never used to choose).
# Prints one line per task, rate and method: train and test RMSE.
# Usage: tools/inner_lr_sweep.sh [OUT] [extra train flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/inner-lr}
shift || true
bin=${BIN:-bin/noether-vk}
data=${REAL_PENDULUM:-../shared/data/real_pend_h_1.txt}
rates=${RATES:-0.1 0.316 1 3.16 10 31.6}
# rows REPORT prints "method train test" for each run of a train --report.
rows() {
  awk -F'[:,]' '/"method"/ {gsub(/[ "]/, "", $2); m = $2}
    /"test_rmse"/ {te = $2 + 0} /"train_rmse"/ {printf "%s %.4f %.4f\n", m, $2, te}' "$1"
}
sweep() {
  local task=$1 loss=$2
  shift 2
  echo "inner-lr sweep: $task baseline ($(date -u +%H:%M:%S))" >&2
  "$bin" train --task "$task" --method vanilla --overwrite --out "$out/$task/base" --report "$out/$task/base.json" "$@" >/dev/null
  rows "$out/$task/base.json" | while read -r m tr te; do printf '%s\t%s\t-\ttrain %s\ttest %s\n' "$task" "$m" "$tr" "$te"; done
  for lr in $rates; do
    # Each rate starts from the same baseline checkpoint.
    mkdir -p "$out/$task/lr$lr"
    cp -r "$out/$task/base/baseline" "$out/$task/lr$lr/"
    echo "inner-lr sweep: $task inner lr $lr ($(date -u +%H:%M:%S))" >&2
    "$bin" train --task "$task" --method tailor,meta-tailor --loss "$loss" --inner-lr "$lr" --resume \
      --out "$out/$task/lr$lr" --report "$out/$task/lr$lr.json" "$@" >/dev/null
    rows "$out/$task/lr$lr.json" | while read -r m tr te; do printf '%s\t%s\t%s\ttrain %s\ttest %s\n' "$task" "$m" "$lr" "$tr" "$te"; done
  done
}
sweep pendulum 'p^2 - 3*cos(q)' "$@"
sweep spring 'q^2 + p^2' "$@"
sweep real-pendulum 'p^2 - 2.4*cos(q)' --data "$data" "$@"
