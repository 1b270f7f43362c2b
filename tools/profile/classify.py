#!/usr/bin/env python3
"""Helpers of lavapipe-profile.sh.

range SAMPLES: the start and end address of the densest 64 KiB of JIT
code in perf script's "ip dso" lines (the start rounded down to a page).

classify SAMPLES ASM: each instruction class's share of the samples that
fall in the disassembled code, each sample charged to the instruction
before the one it landed on.
"""
import collections
import re
import sys

WINDOW = 0x10000


def jit_ips(path):
    ips = []
    for line in open(path):
        f = line.split()
        if len(f) >= 2 and ("JIT" in line or "unknown" in line or "perf-" in line):
            ips.append(int(f[0], 16))
    return sorted(ips)


def densest(ips):
    best, j = (0, 0, 0), 0
    for i, ip in enumerate(ips):
        while ip - ips[j] > WINDOW:
            j += 1
        if i - j > best[0]:
            best = (i - j, ips[j], ip)
    return best[1] & ~0xFFF, best[2] + 0x40


LANE_LOOP = {"cmp", "cmpl", "test", "testb", "inc", "dec", "shl", "sar", "shr", "movslq", "cltq", "and", "or", "xor",
             "lea", "add", "sub", "imul", "div", "mov", "vpcmpeqd", "vpcmpneqd", "vptestmd", "vpmovm2w", "vpextrd",
             "vmovdqa32", "vpbroadcastd", "kmovw", "kmovb", "kortestw", "vpaddd", "vpmulld", "vpsrld", "vpslld",
             "vpand", "vpandn", "vpor", "vpord", "vpxor", "vpxord", "vpminud", "vpminsd", "vpcmpgtd", "vpcmpltud",
             "vpcmpnltud", "vpcmpleud", "vpcmpled", "vpternlogd", "vpinsrd", "korb", "knotb"}


def kind(ins):
    op = ins.split()[0] if ins else ""
    mem = "(" in ins
    if re.match(r"v(fn?madd|fn?msub)", op) or op in ("vmulps", "vaddps", "vsubps", "vmulss", "vaddss"):
        return "arithmetic (multiply, add)"
    if "gather" in op:
        return "loads: gathers"
    if mem and "rsp" in ins and op.startswith(("vmov", "mov")):
        return "stack traffic (spilled registers, per-lane arrays)"
    if mem and op in ("vpbroadcastd", "vbroadcastss", "vmovd", "vmovss", "vpinsrd", "vinsertps"):
        return "loads: one lane at a time"
    if mem and op.startswith("vmov"):
        return "loads and stores: whole vectors"
    if op.startswith("j") or op in LANE_LOOP:
        return "lane loops: masks, addresses, bounds checks, branches"
    return "other (blends, shuffles, ...)"


def classify(samples, asm_path):
    code, order = {}, []
    for line in open(asm_path):
        m = re.match(r"\s*([0-9a-f]+):\t(?:[0-9a-f]{2} )+\s*\t(.*)", line)
        if m:
            a = int(m.group(1), 16)
            code[a] = m.group(2).strip()
            order.append(a)
    pos = {a: i for i, a in enumerate(order)}
    counts, total, inside = collections.Counter(), 0, 0
    for line in open(samples):
        f = line.split()
        if not f:
            continue
        total += 1
        ip = int(f[0], 16)
        if ip in pos:
            inside += 1
            counts[kind(code[order[max(pos[ip] - 1, 0)]])] += 1
    if inside == 0:
        sys.exit("classify: no sample fell in the disassembled code")
    print("%d samples, %d (%.1f%%) in the hottest 64 KiB of JIT code:" % (total, inside, 100 * inside / total))
    for k, v in counts.most_common():
        print("  %5.1f%%  %s" % (100 * v / inside, k))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "range":
        ips = jit_ips(sys.argv[2])
        if not ips:
            sys.exit("classify: no samples in JIT code")
        print("0x%x 0x%x" % densest(ips))
    elif len(sys.argv) == 4 and sys.argv[1] == "classify":
        classify(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
