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


def case(op, shape, flops, nbytes):
    """Decorates a setup function into a case tuple."""
    def wrap(setup):
        return (op, shape, float(flops), float(nbytes), setup)
    return wrap


def grad_of(fn, inputs, gy):
    """A closure timing only the backward pass of fn at fixed inputs."""
    def run():
        with torch.enable_grad():
            y = fn(*inputs)
            torch.autograd.grad(y, inputs, gy)
    return run


def elementwise_cases():
    n = MLP_ROWS * MLP_HIDDEN
    r = lambda dev, *s: torch.rand(*s, device=dev) - 0.5
    yield case("add", "1125x200+200", n, 4 * (2 * n + 200))(lambda dev: (lambda x, b: lambda: x + b)(r(dev, MLP_ROWS, 200), r(dev, 200)))
    yield case("mul", "1125x200", n, 12 * n)(lambda dev: (lambda x, y: lambda: x * y)(r(dev, MLP_ROWS, 200), r(dev, MLP_ROWS, 200)))
    yield case("sum", "1125x200 over rows", n, 4 * n)(lambda dev: (lambda x: lambda: x.sum(0))(r(dev, MLP_ROWS, 200)))
    for b in (2, 8):
        def cn(dev, b=b):
            x, g, be = r(dev, b, 64, 1024), r(dev, b, 64), r(dev, b, 64)
            return lambda: x * g[:, :, None] + be[:, :, None]
        yield case("cn_affine", "[%d,64,1024]" % b, 2 * b * 65536, 8 * b * 65536)(cn)
    for b in (2, 100):
        def lstm(dev, b=b):
            z, c = r(dev, b, 1024), r(dev, b, 256)
            def run():
                i, f, g, o = z.chunk(4, 1)
                c2 = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                return torch.sigmoid(o) * torch.tanh(c2), c2
            return run
        yield case("lstm_cell", "B=%d H=256" % b, 10 * b * 256, 4 * b * 256 * 7)(lstm)
    yield case("mse", "1x2250", 3 * 2250, 8 * 2250)(lambda dev: (lambda a, t: lambda: F.mse_loss(a, t))(r(dev, 1, 2250), r(dev, 1, 2250)))
    def adam(dev):
        p = torch.nn.Parameter(r(dev, 41200))
        p.grad = r(dev, 41200)
        opt = torch.optim.Adam([p], lr=1e-3)
        return opt.step
    yield case("adam", "41200 (MLP 2-200-200-2)", 10 * 41200, 4 * 7 * 41200)(adam)
    for k in (2, 200):
        def lin(dev, k=k):
            x, w, b = r(dev, MLP_ROWS, k), r(dev, k, 200), r(dev, 200)
            return lambda: torch.addmm(b, x, w)
        yield case("matmul", "1125x%dx200+bias" % k, 2 * MLP_ROWS * k * 200, 4 * (MLP_ROWS * k + k * 200 + MLP_ROWS * 200))(lin)


def conv_cases():
    for n, c, h, k, ks, st, pad in ((2, 6, 64, 32, 5, 1, 2), (2, 32, 32, 64, 5, 1, 2), (8, 128, 16, 256, 4, 2, 1)):
        oh = (h + 2 * pad - ks) // st + 1
        flops = 2.0 * n * k * oh * oh * c * ks * ks
        nbytes = 4.0 * (n * c * h * h + k * c * ks * ks + n * k * oh * oh)
        geo = "[%d,%d,%d,%d] k%dx%d s%d p%d -> %d" % (n, c, h, h, ks, ks, st, pad, k)
        def fwd(dev, n=n, c=c, h=h, k=k, ks=ks, st=st, pad=pad):
            x, w, b = torch.rand(n, c, h, h, device=dev), torch.rand(k, c, ks, ks, device=dev), torch.rand(k, device=dev)
            return lambda: F.conv2d(x, w, b, st, pad)
        def dinput(dev, n=n, c=c, h=h, k=k, ks=ks, st=st, pad=pad, oh=oh):
            w, gy = torch.rand(k, c, ks, ks, device=dev), torch.rand(n, k, oh, oh, device=dev)
            return lambda: torch.nn.grad.conv2d_input((n, c, h, h), w, gy, st, pad)
        def dweight(dev, n=n, c=c, h=h, k=k, ks=ks, st=st, pad=pad, oh=oh):
            x, gy = torch.rand(n, c, h, h, device=dev), torch.rand(n, k, oh, oh, device=dev)
            return lambda: torch.nn.grad.conv2d_weight(x, (k, c, ks, ks), gy, st, pad)
        yield ("conv2d", geo + " + bias", flops, nbytes, fwd)
        yield ("conv2d_input_grad", geo, flops, nbytes, dinput)
        yield ("conv2d_weight_grad", geo, flops, nbytes, dweight)


def pool_norm_cases():
    for n, c, h in ((2, 32, 64), (8, 32, 64), (8, 64, 32)):
        shape = "[%d,%d,%d,%d] k2x2 s2x2" % (n, c, h, h)
        size = n * c * h * h
        def pool(dev, n=n, c=c, h=h):
            x = torch.rand(n, c, h, h, device=dev)
            return lambda: F.max_pool2d(x, 2, 2, return_indices=True)
        def pool_back(dev, n=n, c=c, h=h):
            x = torch.rand(n, c, h, h, device=dev)
            y, idx = F.max_pool2d(x, 2, 2, return_indices=True)
            gy = torch.rand_like(y)
            return lambda: torch.ops.aten.max_pool2d_with_indices_backward(gy, x, [2, 2], [2, 2], [0, 0], [1, 1], False, idx)
        yield ("maxpool2d", shape, size, 4.0 * size * 1.5, pool)
        yield ("maxpool2d_backward", shape, size, 4.0 * size * 1.5, pool_back)
    for n, c, h in ((2, 64, 32), (8, 256, 8)):
        shape = "[%d,%d,%d,%d] x2x2" % (n, c, h, h)
        size = n * c * h * h
        def up(dev, n=n, c=c, h=h):
            x = torch.rand(n, c, h, h, device=dev)
            return lambda: F.interpolate(x, scale_factor=2, mode="nearest")
        def up_back(dev, n=n, c=c, h=h):
            gy = torch.rand(n, c, 2 * h, 2 * h, device=dev)
            return lambda: gy.view(n, c, h, 2, h, 2).sum((3, 5))
        yield ("upsample_nearest2d", shape, 4 * size, 4.0 * 5 * size, up)
        yield ("upsample_nearest2d_backward", shape, 4 * size, 4.0 * 5 * size, up_back)
    for n, c, h in ((2, 64, 32), (8, 256, 8)):
        size = n * c * h * h
        def cat(dev, n=n, c=c, h=h):
            a, b = torch.rand(n, c, h, h, device=dev), torch.rand(n, c, h, h, device=dev)
            return lambda: torch.cat((a, b), 1)
        def split(dev, n=n, c=c, h=h):
            x = torch.rand(n, 2 * c, h, h, device=dev)
            return lambda: [t.contiguous() for t in torch.split(x, c, 1)]
        yield ("concat", "%dx%dx%dx%d+%dx%dx%dx%d axis 1" % (n, c, h, h, n, c, h, h), 0, 16.0 * size, cat)
        yield ("split", "%dx%dx%dx%d axis 1 in halves" % (n, 2 * c, h, h), 0, 16.0 * size, split)
    for n, c, s in ((2, 64, 1024), (8, 256, 64)):
        size = n * c * s
        gshape, bshape = "[%d,%d,%d] G=1" % (n, c, s), "[%d,%d,%d] train" % (n, c, s)
        def gn(dev, n=n, c=c, s=s):
            x, w, b = torch.rand(n, c, s, device=dev), torch.rand(c, device=dev), torch.rand(c, device=dev)
            return lambda: F.group_norm(x, 1, w, b)
        def gn_back(dev, n=n, c=c, s=s):
            x = torch.rand(n, c, s, device=dev, requires_grad=True)
            w, b = torch.rand(c, device=dev, requires_grad=True), torch.rand(c, device=dev, requires_grad=True)
            return grad_of(lambda x, w, b: F.group_norm(x, 1, w, b), (x, w, b), torch.rand(n, c, s, device=dev))
        def bn(dev, n=n, c=c, s=s):
            x, w, b = torch.rand(n, c, s, device=dev), torch.rand(c, device=dev), torch.rand(c, device=dev)
            rm, rv = torch.zeros(c, device=dev), torch.ones(c, device=dev)
            return lambda: F.batch_norm(x, rm, rv, w, b, training=True)
        def bn_back(dev, n=n, c=c, s=s):
            x = torch.rand(n, c, s, device=dev, requires_grad=True)
            w, b = torch.rand(c, device=dev, requires_grad=True), torch.rand(c, device=dev, requires_grad=True)
            rm, rv = torch.zeros(c, device=dev), torch.ones(c, device=dev)
            return grad_of(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=True), (x, w, b), torch.rand(n, c, s, device=dev))
        yield ("group_norm", gshape, 8 * size, 8.0 * size, gn)
        yield ("group_norm_backward", gshape, 12 * size, 12.0 * size, gn_back)
        yield ("batch_norm", bshape, 8 * size, 8.0 * size, bn)
        yield ("batch_norm_backward", bshape, 12 * size, 12.0 * size, bn_back)


CASES = (list(unary_cases()) + list(matmul_cases()) + list(elementwise_cases()) + list(conv_cases())
         + list(pool_norm_cases()))


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
