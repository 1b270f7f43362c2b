#!/bin/bash
# lavapipe-profile.sh BENCH [SECONDS]: where the CPU time of one kernel
# benchmark goes inside the code lavapipe's JIT compiled for it.
#
# It runs `go test -bench BENCH ./kernels/` (one sub-benchmark, such as
# 'BenchmarkMatMul/vulkan/512$'), samples it with perf (cpu-clock) for
# SECONDS (default 8) once it is warm, copies the hottest 64 KiB of JIT
# code out of the running process with gdb, disassembles it with objdump
# and gives each instruction class's share of the samples (classify.py).
# perf's cpu-clock samples land on the instruction after the one that was
# running, so each sample is charged to the one before.
#
# Needs perf (linux-perf), gdb, objdump (binutils), python3, and a kernel
# that lets perf and gdb attach to the test process (run as root, or set
# kernel.perf_event_paranoid and kernel.yama.ptrace_scope).
set -euo pipefail
bench=${1:?usage: lavapipe-profile.sh BENCH [SECONDS]}
secs=${2:-8}
for t in perf gdb objdump python3; do
	command -v $t >/dev/null || { echo "lavapipe-profile: $t not found (apt-get install linux-perf gdb binutils python3)" >&2; exit 1; }
done
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
(cd "$root" && go test -c -o "$work/kernels.test" ./kernels/)
"$work/kernels.test" -test.run '^$' -test.bench "$bench" -test.benchtime $((secs + 20))s >"$work/bench.txt" 2>&1 &
pid=$!
sleep 6 # the calibration runs and the JIT compilation are over by then
kill -0 $pid 2>/dev/null || { echo "lavapipe-profile: the benchmark ended early:" >&2; cat "$work/bench.txt" >&2; exit 1; }
perf record -q -e cpu-clock -F 2000 -p $pid -o "$work/perf.data" -- sleep "$secs" >/dev/null 2>&1
perf script -i "$work/perf.data" -F ip,dso 2>/dev/null >"$work/samples.txt"
# JIT code has no file behind it: perf names it [JIT], [unknown] or its perf map.
range=$(python3 "$here/classify.py" range "$work/samples.txt")
gdb -p $pid -batch -ex "dump binary memory $work/code.bin $range" >/dev/null 2>&1
objdump -D -b binary -mi386:x86-64 --adjust-vma=${range%% *} "$work/code.bin" >"$work/code.asm"
echo "$bench: $secs s of samples"
python3 "$here/classify.py" classify "$work/samples.txt" "$work/code.asm"
