#!/usr/bin/env bash
# One prepared benchmark run for a lent NVIDIA machine (within 8 minutes:
# the steps' time limits add up to 480 s):
# devices, selftest, tune (its cache kept in the output folder),
# bench-kernels (default against tuned), the meta-training steps again with
# the graph compiler's passes off (fusion, reassociation, merging of
# repeated ops: what fewer dispatches are worth on a GPU), with texel
# reads on (the default on lavapipe only, unmeasured on GPUs) and with the
# convolutions as implicit GEMM (NOETHER_VK_CONV=implicit), a short
# training, and the PyTorch peer on CUDA, all written to one folder
# (default: $OUT when set, else bench-gpu-out).
#
# Prepare here, once, from the repository root (the lent machine has no
# network): the Vulkan loader packages go in .gl (see the device tool's notes),
#   echo /.gl/ >>.git/info/exclude; mkdir -p .gl /tmp/amd64/partial
#   o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
#   apt-get $o update; (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
# and build the binary here: make build. Then run `make bench-gpu` there,
# carrying .gl and bin.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-bench-gpu-out}}
# The device to benchmark (--device: an index or a name substring);
# BENCH_GPU_DEVICE=llvmpipe rehearses the script on lavapipe.
dev=${BENCH_GPU_DEVICE:-nvidia}
mkdir -p "$out"
log() { echo "bench-gpu: $*" | tee -a "$out/log.txt"; }

if ! ldconfig -p | grep -q libvulkan.so.1; then
  if ls .gl/*.deb >/dev/null 2>&1; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
    log "unpacked the carried Vulkan loader"
  else
    log "no Vulkan loader and no .gl/*.deb carried: see the comment at the top of this script"
    exit 1
  fi
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$icd" ] && ! ls /usr/share/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES=$icd
  log "using the NVIDIA ICD at $icd"
fi

bin=bin/noether-vk
[ -x "$bin" ] || { log "$bin missing: run make build before carrying the tree"; exit 1; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv >"$out/nvidia-smi.csv" 2>&1
step() { # name, timeout seconds, command...
  local name=$1 limit=$2; shift 2
  log "$name"
  local t0=$SECONDS
  # At the limit SIGQUIT: a Go program prints every goroutine's stack,
  # which shows where it waited (how the H200's stalled pipeline build was
  # found); KILL 5 s later if that does not end it.
  GOTRACEBACK=all timeout -s QUIT -k 5 "$limit" "$@" >"$out/$name.txt" 2>&1
  local rc=$?
  log "$name: exit $rc after $((SECONDS - t0)) s"
}
step devices 20 "$bin" --device "$dev" devices --json "$out/devices.json"
# The conformance suite one op per process, 8 at a time: one after another
# they took 189 s on an H200 (mostly pipeline builds), ten at a time 39 s.
mkdir -p "$out/selftest" && "$bin" selftest --list >"$out/selftest/ops.txt"
step selftest 70 xargs -P 8 -a "$out/selftest/ops.txt" -I{} "$bin" --device "$dev" selftest --ops {} --json "$out/selftest/{}.json"
# The tuning cache lives in the output folder, so it comes back with the
# results and a fresh machine starts untuned.
export XDG_CACHE_HOME="$(cd "$out" && pwd)/cache" # absolute, as Go requires
step tune 110 "$bin" --device "$dev" tune --shapes train,bench,video --json "$out/tune.json"
# --quick: fewer repetitions, plenty for kernels of microseconds.
step bench-kernels 120 "$bin" --device "$dev" bench-kernels --quick --json "$out/bench-kernels.json"
NOETHER_VK_FUSION=off NOETHER_VK_REASSOC=off NOETHER_VK_CSE=off NOETHER_VK_VIEWS=off \
  step passes-off 20 "$bin" --device "$dev" bench-kernels --ops meta_step --no-tune --json "$out/bench-passes-off.json"
NOETHER_VK_TEXELS=on step texels-on 20 "$bin" --device "$dev" bench-kernels --ops meta_step,matmul,conv2d --no-tune --json "$out/bench-texels-on.json"
NOETHER_VK_CONV=implicit step conv-implicit 30 "$bin" --device "$dev" bench-kernels \
  --ops conv2d,conv2d_input_grad,conv2d_weight_grad,video_meta_step --no-tune --json "$out/bench-conv-implicit.json"
step train 40 "$bin" --device "$dev" train --baseline-steps 200 --epochs 5 --out "$out/train-run" --overwrite --report "$out/train.json"
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  step peer 25 python3 tools/peer/kernels.py --device cuda --json "$out/peer.json"
  step peer-meta 25 python3 tools/peer/metastep.py --device cuda --json "$out/peer-meta.json"
  [ -f "$out/peer.json" ] && python3 tools/peer/compare.py "$out/bench-kernels.json" "$out/peer.json" $([ -f "$out/peer-meta.json" ] && echo "$out/peer-meta.json") | tee "$out/compare.txt"
else
  log "no CUDA PyTorch on this machine: peer skipped"
fi
log "done; results in $out"
# Everything in one archive too, for a transfer that takes a few files
# (less the drivers' own shader caches).
tar czf /tmp/bench-gpu.tgz -C "$out" --exclude ./bench-gpu.tgz --exclude ./cache/mesa_shader_cache --exclude ./cache/nvidia . &&
  mv /tmp/bench-gpu.tgz "$out/bench-gpu.tgz"
