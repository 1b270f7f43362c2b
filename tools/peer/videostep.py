#!/usr/bin/env python3
"""One video meta-training step in PyTorch: an independent peer of
noether-vk's Noether training on video (package noether/video).

    videostep.py check INPUT.safetensors > OUTPUT.json
    videostep.py bench [--json FILE] [--quick] [--threads N] [--device cpu|cuda]
    videostep.py preset

check reads what the Go test noether/video TestPeerVideoStep writes: an SVG's
and its embedding g_phi's weights under noether-vk's names, a batch of
time-major frames [T, B, C, S, S], actions [T-1, B, A] and, for SVG-LP, the
noise eps_prior and eps_posterior [T-1, B, Z], with the settings in the file's
metadata ("config": JSON). In float64 it computes the teacher-forced
prediction, the Noether loss of its consecutive frame pairs under g_phi, the
inner SGD steps on the adapted tensors (the predictor's latent offsets, or
the CN scale and shift after every norm layer), the task loss after them, and
the task loss's gradient with respect to every SVG and embedding parameter by
plain reverse over reverse (torch.autograd.grad with create_graph=True). It
prints JSON: loss, loss_untailored (the task loss with no inner step) and
grads by name, flattened.

bench times the noether method's whole training step at the default preset's
sizes (printed by `videostep.py preset`; the Go test checks them against
video.Preset("default")) in float32, as `noether-vk bench-kernels` times its
video_meta_step row: forward, the inner step on the latent offsets, the task
loss, its gradient with respect to g_phi through the inner step, gradient-norm
clipping and Adam on g_phi; the SVG stays fixed, as in the method.

The model is written out from noether-vk's documented architecture (package
svg's doc.go): DCGAN encoder and decoder with GroupNorm(1, C), skips from the
steps before n_past (or every step), a stacked-LSTM predictor on
[h, z, action] whose layers read their hidden state plus the latent offset,
and for SVG-LP Gaussian LSTM prior and posterior. Linear and LSTM weights are
stored [in, out], as noether-vk keeps them; convolutions in PyTorch's layout.
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
    sys.exit("videostep: PyTorch is not installed for %s: install python3-torch (Debian) or a CUDA build" % sys.executable)

# The import below would leave tools/peer/__pycache__ in the working tree.
sys.dont_write_bytecode = True
from metagrad import read_safetensors  # noqa: E402

SLOPE = 0.2  # DCGAN's LeakyReLU
NORM_EPS = 1e-5  # GroupNorm's epsilon (noether-vk's kernels.NormEps, PyTorch's default)

# The default preset of `noether-vk train --task pixel-pendulum` (svg.Preset
# and video.Preset "default"), whose training step bench times.
DEFAULT = {
    "image_size": 32, "channels": 3, "family": "dcgan", "width": 8, "g_dim": 32, "z_dim": 0, "rnn_size": 64,
    "predictor_layers": 2, "prior_layers": 0, "posterior_layers": 0, "n_past": 4, "n_future": 26,
    "norm": "groupnorm", "variant": "deterministic", "action_dim": 1, "skips": "context", "kl_weight": 1e-4,
    "adapt": "offsets", "inner_steps": 1, "inner_lr": 1e5, "form": "2b", "embed_dim": 64, "batch": 8,
    "embed_lr": 1e-3, "embed_clip": 1000.0,
}


class Params(dict):
    """Tensors by name that remember which names were read, so a check can
    report the file's tensors the model never used."""

    def __init__(self, *args):
        super().__init__(*args)
        self.used = set()

    def __getitem__(self, name):
        if name not in self:
            raise SystemExit("videostep: the model needs tensor %s, which the input does not have" % name)
        self.used.add(name)
        return super().__getitem__(name)


class SVG:
    """The SVG of configuration cfg as a function of the tensors p, with the
    adapted per-example tensors of the current pass in self.adapted."""

    def __init__(self, cfg, p):
        if cfg["family"] != "dcgan" or cfg["norm"] != "groupnorm":
            raise SystemExit("videostep: %s with %s: only the DCGAN family with GroupNorm is written here" % (cfg["family"], cfg["norm"]))
        self.cfg, self.p, self.adapted = cfg, p, {}
        self.levels = (cfg["image_size"] // 4).bit_length() - 1
        if 4 << self.levels != cfg["image_size"]:
            raise SystemExit("videostep: image size %d is not 4*2^k" % cfg["image_size"])

    def norm_scopes(self):
        """The scopes of every norm layer, encoder first: the CN sites."""
        L = self.levels
        enc = ["encoder.c%d.main.1" % (k + 1) for k in range(L)] + ["encoder.c%d.1" % (L + 1)]
        dec = ["decoder.upc1.1"] + ["decoder.upc%d.main.1" % j for j in range(2, L + 1)]
        return enc + dec

    def norm(self, x, scope):
        y = F.group_norm(x, 1, self.p[scope + ".weight"], self.p[scope + ".bias"], NORM_EPS)
        scale, shift = self.adapted.get(scope + ".cn.scale"), self.adapted.get(scope + ".cn.shift")
        if scale is not None:
            y = y * scale[:, :, None, None] + shift[:, :, None, None]
        return y

    def conv_block(self, x, scope, transposed, stride, pad, act):
        w, b = self.p[scope + ".0.weight"], self.p[scope + ".0.bias"]
        x = (F.conv_transpose2d if transposed else F.conv2d)(x, w, b, stride=stride, padding=pad)
        return act(self.norm(x, scope + ".1"))

    def encode(self, x):
        """Frames [B, C, S, S] to the code [B, g_dim] and the skips, finest first."""
        leaky = lambda v: F.leaky_relu(v, SLOPE)
        skips = []
        for k in range(self.levels):
            x = self.conv_block(x, "encoder.c%d.main" % (k + 1), False, 2, 1, leaky)
            skips.append(x)
        x = self.conv_block(x, "encoder.c%d" % (self.levels + 1), False, 1, 0, torch.tanh)
        return x.flatten(1), skips

    def decode(self, code, skips):
        leaky = lambda v: F.leaky_relu(v, SLOPE)
        L = self.levels
        x = self.conv_block(code[:, :, None, None], "decoder.upc1", True, 1, 0, leaky)
        for j in range(2, L + 1):
            x = self.conv_block(torch.cat([x, skips[L + 1 - j]], 1), "decoder.upc%d.main" % j, True, 2, 1, leaky)
        last = "decoder.upc%d.0" % (L + 1)
        x = F.conv_transpose2d(torch.cat([x, skips[0]], 1), self.p[last + ".weight"], self.p[last + ".bias"], stride=2, padding=1)
        return torch.sigmoid(x)

    def cells(self, scope, x, state, offsets):
        """The linear embedding then the stacked LSTM cells (gates i, f, g, o);
        layer l reads its hidden state plus offsets[l]. Returns the last
        layer's h and the new state."""
        p = self.p
        h = x @ p[scope + ".embed.weight"] + p[scope + ".embed.bias"]
        new = []
        for l, (hp, cp) in enumerate(state):
            s = "%s.lstm.%d." % (scope, l)
            if offsets[l] is not None:
                hp = hp + offsets[l]
            z = h @ p[s + "weight_ih"] + p[s + "bias_ih"] + hp @ p[s + "weight_hh"] + p[s + "bias_hh"]
            i, f, g, o = z.chunk(4, 1)
            c = torch.sigmoid(f) * cp + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            new.append((h, c))
        return h, new

    def gaussian(self, scope, x, eps, state):
        h, state = self.cells(scope, x, state, [None] * len(state))
        p = self.p
        mu = h @ p[scope + ".mu_net.weight"] + p[scope + ".mu_net.bias"]
        logvar = h @ p[scope + ".logvar_net.weight"] + p[scope + ".logvar_net.bias"]
        return mu + torch.exp(0.5 * logvar) * eps, mu, logvar, state

    def teacher_forced(self, frames, actions, eps_prior, eps_post):
        """The training pass: gen_0 .. gen_{T-1} (the context's ground truth,
        then the decoded frames) and the summed KL (SVG-LP; else 0)."""
        cfg = self.cfg
        B = frames[0].shape[0]
        zeros = lambda n, layers: [(frames[0].new_zeros(B, n), frames[0].new_zeros(B, n)) for _ in range(layers)]
        pred = zeros(cfg["rnn_size"], cfg["predictor_layers"])
        lp = cfg["variant"] == "learned-prior"
        if lp:
            prior, post = zeros(cfg["rnn_size"], cfg["prior_layers"]), zeros(cfg["rnn_size"], cfg["posterior_layers"])
        offsets = [self.adapted.get("frame_predictor.lstm.%d.offset" % l) for l in range(cfg["predictor_layers"])]
        gen, kl, skips = [frames[0]], 0.0, None
        for i in range(1, len(frames)):
            h, s = self.encode(frames[i - 1])
            if cfg["skips"] == "every-step" or i < cfg["n_past"]:
                skips = s
            parts = [h]
            if lp:
                target, _ = self.encode(frames[i])
                z, mu, logvar, post = self.gaussian("posterior", target, eps_post[i - 1], post)
                _, pmu, plogvar, prior = self.gaussian("prior", h, eps_prior[i - 1], prior)
                kl = kl + 0.5 * (plogvar - logvar + (logvar.exp() + (mu - pmu) ** 2) / plogvar.exp() - 1).sum() / B
                parts.append(z)
            if cfg["action_dim"] > 0:
                parts.append(actions[i - 1])
            out, pred = self.cells("frame_predictor", torch.cat(parts, 1), pred, offsets)
            code = torch.tanh(out @ self.p["frame_predictor.output.0.weight"] + self.p["frame_predictor.output.0.bias"])
            # The context steps' decoded frames are not used (nor in noether-vk).
            gen.append(frames[i] if i < cfg["n_past"] else self.decode(code, skips))
        return gen, kl

    def task_loss(self, gen, frames, kl):
        """SVG's loss: the summed frame MSEs past the context, plus the
        weighted KL."""
        loss = sum(F.mse_loss(gen[t], frames[t]) for t in range(self.cfg["n_past"], len(frames)))
        return loss + self.cfg["kl_weight"] * kl


def embed(p, x):
    """g_phi on frame pairs [N, 2C, S, S]: conv 5x5 to 32, ReLU, 2x2 max
    pooling, conv 5x5 to 64, ReLU, pooling, flatten, linear ([in, out])."""
    x = F.max_pool2d(F.relu(F.conv2d(x, p["embedding.0.weight"], p["embedding.0.bias"], padding=2)), 2)
    x = F.max_pool2d(F.relu(F.conv2d(x, p["embedding.3.weight"], p["embedding.3.bias"], padding=2)), 2)
    return x.flatten(1) @ p["embedding.7.weight"] + p["embedding.7.bias"]


def noether_loss(p, gen, form):
    """The Noether loss per example [B] of gen_0 .. gen_{T-1}: all consecutive
    pairs embedded as one batch, then the sum over pairs of the mean over
    embedding dimensions of the squared difference to the previous pair's
    embedding (2b) or the first's (2a)."""
    B = gen[0].shape[0]
    e = embed(p, torch.cat([torch.cat([gen[i], gen[i + 1]], 1) for i in range(len(gen) - 1)], 0)).split(B)
    return sum(((e[t] - (e[t - 1] if form == "2b" else e[0])) ** 2).mean(1) for t in range(1, len(e)))


def start_tensors(model, cfg, B, like):
    """The adapted tensors at their start: zero offsets, or CN scale 1 and
    shift 0, per example; requires_grad so the inner step can take their
    gradient."""
    if cfg["adapt"] == "offsets":
        return {"frame_predictor.lstm.%d.offset" % l: like.new_zeros(B, cfg["rnn_size"]).requires_grad_()
                for l in range(cfg["predictor_layers"])}
    if cfg["adapt"] != "cn":
        raise SystemExit("videostep: adapt %r: want offsets or cn" % cfg["adapt"])
    out = {}
    for s in model.norm_scopes():
        ch = model.p[s + ".weight"].shape[0]
        out[s + ".cn.scale"] = like.new_ones(B, ch).requires_grad_()
        out[s + ".cn.shift"] = like.new_zeros(B, ch).requires_grad_()
    return out


def tailored_task_loss(model, cfg, frames, actions, eps_prior, eps_post, steps):
    """The task loss after steps inner SGD steps on the Noether loss summed
    over the batch (so the rate is per example), the same noise in every
    pass, differentiable through the steps (create_graph)."""
    adapted = start_tensors(model, cfg, frames[0].shape[0], frames[0])
    for _ in range(steps):
        model.adapted = adapted
        gen, _ = model.teacher_forced(frames, actions, eps_prior, eps_post)
        inner = noether_loss(model.p, gen, cfg["form"]).sum()
        grads = torch.autograd.grad(inner, list(adapted.values()), create_graph=True)
        adapted = {k: v - cfg["inner_lr"] * g for (k, v), g in zip(adapted.items(), grads)}
    model.adapted = adapted
    gen, kl = model.teacher_forced(frames, actions, eps_prior, eps_post)
    return model.task_loss(gen, frames, kl)


def inputs_of(t, cfg):
    """The per-step frames, actions and noise of a file's time-major inputs."""
    per_step = lambda name: list(t[name].unbind(0)) if name in t else []
    frames = per_step("frames")
    if len(frames) != cfg["n_past"] + cfg["n_future"]:
        raise SystemExit("videostep: %d frames for n_past + n_future = %d" % (len(frames), cfg["n_past"] + cfg["n_future"]))
    return frames, per_step("actions"), per_step("eps_prior"), per_step("eps_posterior")


def check(path):
    raw, meta = read_safetensors(path)
    cfg = json.loads(meta["config"])
    data = {k: raw.pop(k) for k in ("frames", "actions", "eps_prior", "eps_posterior") if k in raw}
    params = Params({k: v.requires_grad_() for k, v in raw.items()})
    model = SVG(cfg, params)
    frames, actions, eps_prior, eps_post = inputs_of(data, cfg)
    loss = tailored_task_loss(model, cfg, frames, actions, eps_prior, eps_post, cfg["inner_steps"])
    unused = sorted(set(raw) - params.used)
    if unused:
        raise SystemExit("videostep: tensors of the input the model never read: %s" % ", ".join(unused))
    names = sorted(raw)
    grads = torch.autograd.grad(loss, [params[k] for k in names], allow_unused=True)
    model.adapted = {}
    gen, kl = model.teacher_forced(frames, actions, eps_prior, eps_post)
    untailored = model.task_loss(gen, frames, kl)
    json.dump({
        "torch": torch.__version__,
        "loss": loss.item(),
        "loss_untailored": untailored.item(),
        "grads": {k: (torch.zeros_like(params[k]) if g is None else g).reshape(-1).tolist() for k, g in zip(names, grads)},
    }, sys.stdout)
    print()


def param_shapes(cfg):
    """Every SVG and embedding tensor of cfg by name, with its shape (for
    bench, which draws its own weights; the Go test compares these with
    noether-vk's for the default preset)."""
    L = (cfg["image_size"] // 4).bit_length() - 1
    ch = lambda k: min(cfg["width"] << k, 8 * cfg["width"])
    shapes = {}

    def block(scope, w, out):
        shapes.update({scope + ".0.weight": w, scope + ".0.bias": [out], scope + ".1.weight": [out], scope + ".1.bias": [out]})

    def cells(scope, n_in, layers):
        H = cfg["rnn_size"]
        shapes.update({scope + ".embed.weight": [n_in, H], scope + ".embed.bias": [H]})
        for l in range(layers):
            s = "%s.lstm.%d." % (scope, l)
            shapes.update({s + "weight_ih": [H, 4 * H], s + "weight_hh": [H, 4 * H], s + "bias_ih": [4 * H], s + "bias_hh": [4 * H]})

    for k in range(L):
        block("encoder.c%d.main" % (k + 1), [ch(k), ch(k - 1) if k else cfg["channels"], 4, 4], ch(k))
    block("encoder.c%d" % (L + 1), [cfg["g_dim"], ch(L - 1), 4, 4], cfg["g_dim"])
    lp = cfg["variant"] == "learned-prior"
    cells("frame_predictor", cfg["g_dim"] + (cfg["z_dim"] if lp else 0) + cfg["action_dim"], cfg["predictor_layers"])
    shapes.update({"frame_predictor.output.0.weight": [cfg["rnn_size"], cfg["g_dim"]], "frame_predictor.output.0.bias": [cfg["g_dim"]]})
    block("decoder.upc1", [cfg["g_dim"], ch(L - 1), 4, 4], ch(L - 1))
    for j in range(2, L + 1):
        k = L + 1 - j
        block("decoder.upc%d.main" % j, [2 * ch(k), ch(k - 1), 4, 4], ch(k - 1))
    last = "decoder.upc%d.0" % (L + 1)
    shapes.update({last + ".weight": [2 * ch(0), cfg["channels"], 4, 4], last + ".bias": [cfg["channels"]]})
    if lp:
        for scope, layers in (("prior", cfg["prior_layers"]), ("posterior", cfg["posterior_layers"])):
            cells(scope, cfg["g_dim"], layers)
            for head in ("mu_net", "logvar_net"):
                shapes.update({"%s.%s.weight" % (scope, head): [cfg["rnn_size"], cfg["z_dim"]], "%s.%s.bias" % (scope, head): [cfg["z_dim"]]})
    side = cfg["image_size"] // 4
    shapes.update({
        "embedding.0.weight": [32, 2 * cfg["channels"], 5, 5], "embedding.0.bias": [32],
        "embedding.3.weight": [64, 32, 5, 5], "embedding.3.bias": [64],
        "embedding.7.weight": [64 * side * side, cfg["embed_dim"]], "embedding.7.bias": [cfg["embed_dim"]],
    })
    return shapes


def bench_step(cfg, dev):
    """The noether method's training step at cfg, float32, on random weights
    (N(0, 0.05); norm weights 1) and random frames and actions."""
    torch.manual_seed(0)
    theta, phi = {}, {}
    for name, shape in param_shapes(cfg).items():
        v = torch.ones(shape) if len(shape) == 1 and name.endswith(".1.weight") else 0.05 * torch.randn(shape)
        (phi if name.startswith("embedding.") else theta)[name] = v.to(dev)
    for v in phi.values():
        v.requires_grad_()
    model = SVG(cfg, Params({**theta, **phi}))
    T, B, S = cfg["n_past"] + cfg["n_future"], cfg["batch"], cfg["image_size"]
    frames = list(torch.rand(T, B, cfg["channels"], S, S, device=dev).unbind(0))
    actions = list((4 * torch.rand(T - 1, B, cfg["action_dim"], device=dev) - 2).unbind(0))
    opt = torch.optim.Adam(phi.values(), lr=cfg["embed_lr"])

    def step():
        opt.zero_grad()
        loss = tailored_task_loss(model, cfg, frames, actions, [], [], cfg["inner_steps"])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(phi.values(), cfg["embed_clip"])
        opt.step()
        return loss.item()  # synchronises

    return step


def bench_shape(cfg):
    """The row's shape, as bench-kernels names its video_meta_step row."""
    return "default/%s/b%d" % (cfg["adapt"], cfg["batch"])


def bench(args):
    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    runs = 3 if args.quick else 10
    print("videostep: video_meta_step %s" % bench_shape(DEFAULT), file=sys.stderr)
    step = bench_step(DEFAULT, dev)
    step()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu (%d threads)" % torch.get_num_threads()
    row = {"op": "video_meta_step", "shape": bench_shape(DEFAULT), "wall_ms_median": statistics.median(times),
           "wall_ms_min": min(times), "wall_ms_max": max(times), "runs": runs}
    out = json.dumps({"device": "PyTorch %s on %s" % (torch.__version__, name), "results": [row]}, indent=2)
    if args.json and args.json != "-":
        with open(args.json + ".tmp", "w") as fh:
            fh.write(out + "\n")
        os.replace(args.json + ".tmp", args.json)
    else:
        print(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="loss and meta-gradients of one step on a file's weights and inputs, float64, as JSON")
    c.add_argument("input")
    b = sub.add_parser("bench", help="time the default preset's training step of the noether method")
    b.add_argument("--json", help="write results to FILE (- for stdout)")
    b.add_argument("--quick", action="store_true", help="3 timed runs instead of 10")
    b.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    b.add_argument("--threads", type=int, default=os.cpu_count())
    sub.add_parser("preset", help="the default preset bench times and its tensors' shapes, as JSON")
    args = ap.parse_args()
    if args.cmd == "check":
        torch.set_default_dtype(torch.float64)
        check(args.input)
    elif args.cmd == "bench":
        bench(args)
    else:
        json.dump({"config": DEFAULT, "shapes": param_shapes(DEFAULT)}, sys.stdout)
        print()


if __name__ == "__main__":
    main()
