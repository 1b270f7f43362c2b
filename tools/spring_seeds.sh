#!/usr/bin/env bash
# The ideal spring over ten seeds: vanilla, the fine-tuning control,
# tailoring and meta-tailoring with the true energy (at the results
# table's inner rates, 1 and 10) and exact conservation (project), one
# baseline per seed. The README's spring analysis quotes it: it measures
# whether anything that enforces the energy can beat the baseline there.
# Reports: $OUT/s<seed>.json (vanilla, finetune, tailor, project) and
# $OUT/s<seed>-meta-tailor.json; each seed also prints its table.
# Usage: tools/spring_seeds.sh [OUT] [FIRST LAST]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/spring-seeds}
first=${2:-0}
last=${3:-9}
bin=${BIN:-bin/noether-vk}
mkdir -p "$out"
for s in $(seq "$first" "$last"); do
  echo "spring-seeds: seed $s ($(date -u +%H:%M:%S))" >&2
  "$bin" train --task spring --method vanilla,finetune,tailor,project --loss 'q^2 + p^2' --inner-lr 1 --seed "$s" --overwrite \
    --out "$out/s$s" --report "$out/s$s.json" | tee "$out/s$s.txt"
  "$bin" train --task spring --method meta-tailor --loss 'q^2 + p^2' --inner-lr 10 --seed "$s" --resume \
    --out "$out/s$s" --report "$out/s$s-meta-tailor.json" | tee -a "$out/s$s.txt"
done
