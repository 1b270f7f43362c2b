#!/usr/bin/env python3
"""PyTorch peer of `noether-vk bench-kernels`: the same kernels at the same
shapes, timed the same way (median, min, max over repeated runs after a
warm-up), printing the same JSON keys, so `make bench-peer` can put the two
side by side on one machine.

Uses whatever PyTorch this Python has: the CPU build from Debian
(python3-torch) or a CUDA build, where timing uses CUDA events.
"""
import argparse
import json
import os
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.exit("peer: PyTorch is not installed for %s: install python3-torch (Debian) or a CUDA build" % sys.executable)

MLP_ROWS, MLP_HIDDEN = 25 * 45, 200


def unary_cases():
    n = MLP_ROWS * MLP_HIDDEN
    ops = {
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "relu": torch.relu,
        "exp": torch.exp,
        "softplus": F.softplus,
    }
    for name, fn in ops.items():
        def setup(dev, fn=fn):
            x = torch.rand(MLP_ROWS, MLP_HIDDEN, device=dev) * 4 - 2
            return lambda: fn(x)
        yield name, "1125x200", float(n), 8.0 * n, setup


def matmul_cases():
    shapes = [(MLP_ROWS, 2, 200), (MLP_ROWS, 200, 200), (MLP_ROWS, 200, 2), (256, 256, 256), (512, 512, 512), (1024, 1024, 1024)]
    for m, k, n in shapes:
        def setup(dev, m=m, k=k, n=n):
            a = torch.rand(m, k, device=dev) - 0.5
            b = torch.rand(k, n, device=dev) - 0.5
            return lambda: a @ b
        yield "matmul", "%dx%dx%d" % (m, k, n), 2.0 * m * n * k, 4.0 * (m * k + k * n + m * n), setup


CASES = list(unary_cases()) + list(matmul_cases())


def timed(fn, dev, reps, budget):
    fn()  # warm-up
    if dev.type == "cuda":
        torch.cuda.synchronize()
    times = []
    start = time.perf_counter()
    while len(times) < reps and (len(times) < 3 or time.perf_counter() - start < budget):
        if dev.type == "cuda":
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            fn()
            b.record()
            torch.cuda.synchronize()
            times.append(a.elapsed_time(b))
        else:
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times), max(times), len(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", help="write results to FILE (- for stdout)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads (default: all cores)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    reps, budget = (5, 0.3) if args.quick else (25, 2.0)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu (%d threads)" % torch.get_num_threads()
    results = []
    with torch.no_grad():
        for op, shape, flops, nbytes, setup in CASES:
            print("peer: %s %s" % (op, shape), file=sys.stderr)
            med, lo, hi, runs = timed(setup(dev), dev, reps, budget)
            sec = med / 1e3
            results.append({
                "op": op, "shape": shape, "gpu_ms_median": med, "gpu_ms_min": lo, "gpu_ms_max": hi,
                "wall_ms_median": med, "runs": runs,
                "gflops": flops / sec / 1e9 if sec > 0 else 0, "gbps": nbytes / sec / 1e9 if sec > 0 else 0,
            })
    doc = {"device": "PyTorch %s on %s" % (torch.__version__, name), "results": results}
    out = json.dumps(doc, indent=2)
    if args.json and args.json != "-":
        with open(args.json + ".tmp", "w") as f:
            f.write(out + "\n")
        os.replace(args.json + ".tmp", args.json)
    else:
        print(out)


if __name__ == "__main__":
    main()
