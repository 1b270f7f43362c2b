#!/usr/bin/env python3
"""Prints noether-vk's bench-kernels JSON and the PyTorch peer's side by side.

ratio = PyTorch wall ms / noether-vk wall ms: above 1 means noether-vk is faster.
"""
import json
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: compare.py OURS.json PEER.json [PEER.json ...]")
    ours, peers = load(sys.argv[1]), [load(p) for p in sys.argv[2:]]
    peer = peers[0]
    theirs = {(r["op"], r["shape"]): r for p in peers for r in p["results"]}
    print("noether-vk: %s" % ours["device"])
    print("peer:       %s" % peer["device"])
    print()
    # Columns as wide as the longest op and shape (video_meta_step's included).
    wop = max([len("op")] + [len(r["op"]) for r in ours["results"]])
    wshape = max([len("shape")] + [len(r["shape"]) for r in ours["results"]])
    print("%-*s %-*s %12s %12s %8s" % (wop, "op", wshape, "shape", "ours ms", "peer ms", "ratio"))
    missing = []
    for r in ours["results"]:
        key = (r["op"], r["shape"])
        p = theirs.get(key)
        if p is None or r.get("error"):
            missing.append(key)
            continue
        ratio = p["wall_ms_median"] / r["wall_ms_median"] if r["wall_ms_median"] else float("nan")
        print("%-*s %-*s %12.3f %12.3f %7.2fx" % (wop, r["op"], wshape, r["shape"], r["wall_ms_median"], p["wall_ms_median"], ratio))
    for op, shape in missing:
        print("%-*s %-*s  (no peer measurement or an error on our side)" % (wop, op, wshape, shape))


if __name__ == "__main__":
    main()
