#!/usr/bin/env python3
"""The noether method's meta-training step in PyTorch, timed like
`noether-vk bench-kernels` times its meta_step cases, for `make bench-peer`.

One step of Algorithm 1 on the pendulum model: MLP 2-200-200-2 (tanh), a
neural embedding 2-64-64-8, the Noether loss on the finite-difference
step (x, x + f(x) dt); one inner SGD step (lr 0.1) on per-example CN
scale and shift (cn) or on per-example copies of every weight (all, with
torch.func-free batching: a loop over examples, as higher-style code does
on old PyTorch); the task loss after tailoring; second-order gradients by
create_graph=True; Adam on the model and the embedding, gradient clipping
on the embedding. Prints JSON with the same keys as bench-kernels.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch


def mlp(sizes, last_bias, dev):
    layers = []
    for i in range(1, len(sizes)):
        lin = torch.nn.Linear(sizes[i - 1], sizes[i], bias=(i < len(sizes) - 1 or last_bias)).to(dev)
        torch.nn.init.orthogonal_(lin.weight)
        layers.append(lin)
    return layers


def run_mlp(layers, x, cn=None):
    h = x
    for i, lin in enumerate(layers):
        h = lin(h)
        if i < len(layers) - 1:
            if cn is not None:
                h = h * cn[2 * i] + cn[2 * i + 1]
            h = torch.tanh(h)
    return h


def functional_mlp(params, x):
    # params: [w1, b1, w2, b2, w3] in torch.nn.Linear layout (out, in)
    h = torch.tanh(x @ params[0].t() + params[1])
    h = torch.tanh(h @ params[2].t() + params[3])
    return h @ params[4].t()


def make_step(adapt, batch, dev):
    torch.manual_seed(0)
    f, g = mlp([2, 200, 200, 2], False, dev), mlp([2, 64, 64, 8], True, dev)
    fp = [p for l in f for p in l.parameters()]
    gp = [p for l in g for p in l.parameters()]
    opt_f = torch.optim.Adam(fp, lr=1e-3, weight_decay=1e-4)
    opt_g = torch.optim.Adam(gp, lr=1e-3)
    x = torch.randn(batch, 2, device=dev)
    y = torch.randn(batch, 2, device=dev)
    dt, lr = 3.0 / 44, 0.1

    def noether(pred, xi):
        return ((run_mlp(g, xi) - run_mlp(g, xi + dt * pred)) ** 2).mean(dim=1).sum()

    def step():
        opt_f.zero_grad()
        opt_g.zero_grad()
        if adapt == "cn":
            cn = []
            for w in (200, 200):
                cn += [torch.ones(batch, w, device=dev, requires_grad=True), torch.zeros(batch, w, device=dev, requires_grad=True)]
            grads = torch.autograd.grad(noether(run_mlp(f, x, cn), x), cn, create_graph=True)
            pred = run_mlp(f, x, [c - lr * gr for c, gr in zip(cn, grads)])
            task = ((pred - y) ** 2).mean()
        else:
            task = 0
            for i in range(batch):
                xi = x[i : i + 1]
                grads = torch.autograd.grad(noether(functional_mlp(fp, xi), xi), fp, create_graph=True)
                pred = functional_mlp([p - lr * gr for p, gr in zip(fp, grads)], xi)
                task = task + ((pred - y[i : i + 1]) ** 2).sum()
            task = task / y.numel()
        task.backward()
        torch.nn.utils.clip_grad_norm_(gp, 1000)
        opt_f.step()
        opt_g.step()
        return task.item()

    return step


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", help="write results to FILE (- for stdout)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    runs = 5 if args.quick else 20
    results = []
    for adapt, batch in (("cn", 128), ("cn", 1125), ("all", 32)):
        print("peer: meta_step %s/b%d" % (adapt, batch), file=sys.stderr)
        step = make_step(adapt, batch, dev)
        step()  # warm-up
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            step()  # .item() synchronises
            times.append((time.perf_counter() - t0) * 1e3)
        results.append({"op": "meta_step", "shape": "%s/b%d" % (adapt, batch), "wall_ms_median": statistics.median(times),
                        "wall_ms_min": min(times), "wall_ms_max": max(times), "runs": runs})
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu (%d threads)" % torch.get_num_threads()
    out = json.dumps({"device": "PyTorch %s on %s" % (torch.__version__, name), "results": results}, indent=2)
    if args.json and args.json != "-":
        with open(args.json + ".tmp", "w") as fh:
            fh.write(out + "\n")
        os.replace(args.json + ".tmp", args.json)
    else:
        print(out)


if __name__ == "__main__":
    main()
