#!/usr/bin/env python3
"""The one-inner-step Noether meta-gradient in PyTorch, as an independent
check of noether-vk's forward-over-reverse meta-gradient.

Reads the weights, data and settings that noether-vk wrote in safetensors
format (noether/physics/testdata/peer_metagrad.safetensors, written by
`go test ./noether -run TestPeerMetaGradient -write-peer-input`), computes
the task loss after one per-example SGD step on the Noether loss and its
gradient with respect to the model's and the embedding's parameters in
float64, by plain reverse over reverse (torch.autograd.grad with
create_graph=True), and prints JSON.

    python3 tools/peer/metagrad.py noether/physics/testdata/peer_metagrad.safetensors \
        > noether/physics/testdata/peer_metagrad.json

Model: f(x) = tanh(x W1 + b1) W2 (with per-example CN, tanh((x W1 + b1) * gamma
+ beta) W2); embedding: e(x) = tanh(x V1 + c1) V2 + c2. Noether loss per
example: mean_k (e(x) - e(x + dt f(x)))_k^2. Task loss: mean over all
elements of (f'(x) - y)^2.
"""
import json
import struct
import sys

import torch


def read_safetensors(path):
    with open(path, "rb") as fh:
        raw = fh.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n :]
    out = {}
    for name, t in header.items():
        if t["dtype"] != "F32":
            raise SystemExit(f"{path}: {name} has dtype {t['dtype']}, want F32")
        b, e = t["data_offsets"]
        vals = struct.unpack(f"<{(e - b) // 4}f", data[b:e])
        out[name] = torch.tensor(vals, dtype=torch.float64).reshape(t["shape"])
    return out, meta


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: metagrad.py INPUT.safetensors > OUTPUT.json")
    t, meta = read_safetensors(sys.argv[1])
    dt, lr, adapt = float(meta["dt"]), float(meta["inner_lr"]), meta["adapt"]
    x, y = t["x"], t["y"]
    theta = {k: t[k].clone().requires_grad_(True) for k in ("f.0.weight", "f.0.bias", "f.1.weight")}
    phi = {k: t[k].clone().requires_grad_(True) for k in ("g.0.weight", "g.0.bias", "g.1.weight", "g.1.bias")}

    def f(p, xi, gamma=None, beta=None):
        z = xi @ p["f.0.weight"] + p["f.0.bias"]
        if gamma is not None:
            z = z * gamma + beta
        return torch.tanh(z) @ p["f.1.weight"]

    def e(xi):
        return torch.tanh(xi @ phi["g.0.weight"] + phi["g.0.bias"]) @ phi["g.1.weight"] + phi["g.1.bias"]

    def noether(out, xi):
        return ((e(xi) - e(xi + dt * out)) ** 2).mean()

    task = 0.0
    hidden = theta["f.0.bias"].shape[0]
    for i in range(x.shape[0]):
        xi, yi = x[i : i + 1], y[i : i + 1]
        if adapt == "all":
            ln = noether(f(theta, xi), xi)
            grads = torch.autograd.grad(ln, list(theta.values()), create_graph=True)
            adapted = {k: v - lr * g for (k, v), g in zip(theta.items(), grads)}
            pred = f(adapted, xi)
        elif adapt == "cn":
            gamma = torch.ones(1, hidden, dtype=torch.float64, requires_grad=True)
            beta = torch.zeros(1, hidden, dtype=torch.float64, requires_grad=True)
            ln = noether(f(theta, xi, gamma, beta), xi)
            gg, gb = torch.autograd.grad(ln, [gamma, beta], create_graph=True)
            pred = f(theta, xi, gamma - lr * gg, beta - lr * gb)
        else:
            raise SystemExit(f"adapt {adapt!r}: want all or cn")
        task = task + ((pred - yi) ** 2).sum()
    task = task / y.numel()
    names = list(theta) + list(phi)
    grads = torch.autograd.grad(task, [theta.get(k, phi.get(k)) for k in names])
    json.dump(
        {
            "torch": torch.__version__,
            "adapt": adapt,
            "loss": task.item(),
            "grads": {k: g.reshape(-1).tolist() for k, g in zip(names, grads)},
        },
        sys.stdout,
        indent=1,
    )
    print()


if __name__ == "__main__":
    main()
