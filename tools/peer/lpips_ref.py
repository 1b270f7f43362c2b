#!/usr/bin/env python3
"""Reference LPIPS distances for noether/metrics' test (lpips_test.go).

The lpips package itself cannot be installed here (no Python package index
can be reached), so this script implements its published formula
independently of the Go code, with PyTorch in float64, as the package's
LPIPS(net='alex', version='0.1') computes it in evaluation mode
(lpips/pretrained_networks.py and lpips/lpips.py):

  x in [0, 1] -> 2x - 1 -> (x - shift) / scale, shift (-.030, -.088, -.188),
  scale (.458, .448, .450) (ScalingLayer);
  torchvision's AlexNet features, cut after each ReLU: relu1 = conv 64 k11 s4
  p2; relu2 = maxpool 3/2, conv 192 k5 p2; relu3 = maxpool 3/2, conv 384 k3
  p1; relu4 = conv 256 k3 p1; relu5 = conv 256 k3 p1;
  each unit-normalised over channels: f / (sqrt(sum_c f^2) + 1e-10);
  per layer k: the 1x1 convolution lin_k (no bias) of (f0 - f1)^2, averaged
  over positions (spatial_average); the sum over the 5 layers.

The weights are not the published ones (the test must not need them): every
tensor is drawn from a counter-based hash that lpips_test.go reproduces
exactly (see draw below): the convolutions' weights uniform with He's bound
sqrt(6 / fan_in) (so the features keep their scale through the ReLUs),
biases within +-0.01, the linear weights in [0, 1) (non-negative, as
trained LPIPS weights are). So are the
images. Run from the repository root with Debian's python3-torch:

  /usr/bin/python3 tools/peer/lpips_ref.py > noether/metrics/testdata/lpips_reference.json
"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

# The AlexNet layers LPIPS uses: (name, in, out, kernel, stride, pad).
CONVS = [("features.0", 3, 64, 11, 4, 2), ("features.3", 64, 192, 5, 1, 2),
         ("features.6", 192, 384, 3, 1, 1), ("features.8", 384, 256, 3, 1, 1),
         ("features.10", 256, 256, 3, 1, 1)]


def draw(stream, n):
    """n values in [0, 1): Chris Wellons' lowbias32 hash of
    i * 0x9e3779b9 + stream * 0x85ebca6b (mod 2^32), over 2^32."""
    x = (np.arange(n, dtype=np.uint64) * np.uint64(0x9E3779B9) + np.uint64(stream * 0x85EBCA6B)) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(16)
    return x.astype(np.float64) / 2.0**32


def weights():
    """Tensor name -> float64 array; stream k for the k-th tensor in this
    order: features.{0,3,6,8,10}.{weight,bias}, then lin{0..4}.model.1.weight.
    Values pass through float32, as the Go test holds them."""
    w, k = {}, 0
    for name, cin, cout, ks, _, _ in CONVS:
        bound = np.sqrt(6 / (cin * ks * ks))
        w[name + ".weight"] = ((2 * draw(k, cout * cin * ks * ks) - 1) * bound).reshape(cout, cin, ks, ks)
        w[name + ".bias"] = (2 * draw(k + 1, cout) - 1) * 0.01
        k += 2
    for i, (_, _, cout, _, _, _) in enumerate(CONVS):
        w["lin%d.model.1.weight" % i] = draw(k, cout).reshape(1, cout, 1, 1)
        k += 1
    return {n: a.astype(np.float32).astype(np.float64) for n, a in w.items()}


def image(stream, n, size):
    """n images [3, size, size] in [0, 1]: a smooth pattern, different per
    image and channel, plus hashed noise of amplitude 0.2."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    out = np.empty((n, 3, size, size))
    noise = draw(stream, n * 3 * size * size).reshape(n, 3, size, size)
    for b in range(n):
        for c in range(3):
            f = 1 + b + 2 * c
            out[b, c] = 0.5 + 0.3 * np.sin(2 * np.pi * (f * xx + (stream % 7) * yy) / 2) * np.cos(2 * np.pi * f * yy / 3)
    out = np.clip(out + 0.2 * (noise - 0.5), 0, 1)
    return out.astype(np.float32).astype(np.float64)


def lpips(x0, x1, w):
    shift = torch.tensor([-.030, -.088, -.188], dtype=torch.float64).view(1, 3, 1, 1)
    scale = torch.tensor([.458, .448, .450], dtype=torch.float64).view(1, 3, 1, 1)
    t = {n: torch.from_numpy(a) for n, a in w.items()}

    def features(x):
        h = (torch.from_numpy(2 * x - 1) - shift) / scale
        out = []
        for i, (name, _, _, _, stride, pad) in enumerate(CONVS):
            if i in (1, 2):
                h = F.max_pool2d(h, 3, 2)
            h = F.relu(F.conv2d(h, t[name + ".weight"], t[name + ".bias"], stride=stride, padding=pad))
            out.append(h)
        return out

    def normalize(f):
        return f / (torch.sqrt(torch.sum(f ** 2, dim=1, keepdim=True)) + 1e-10)

    layers = []
    for k, (a, b) in enumerate(zip(features(x0), features(x1))):
        d = (normalize(a) - normalize(b)) ** 2
        layers.append(F.conv2d(d, t["lin%d.model.1.weight" % k]).mean(dim=[2, 3]).view(-1))
    return torch.stack(layers).sum(0).numpy(), torch.stack(layers, 1).numpy()


def main():
    w = weights()
    cases = []
    # (name, size, images x, images y): y from another stream, x itself
    # (distance 0), x with hashed noise, x mirrored.
    for size in (64, 128):
        x = image(100 + size, 3, size)
        other = image(200 + size, 3, size)
        noisy = np.clip(x + 0.05 * (draw(300 + size, x.size).reshape(x.shape) - 0.5), 0, 1).astype(np.float32).astype(np.float64)
        mirrored = x[:, :, :, ::-1].copy()
        for name, y, ys in (("other", other, 200 + size), ("same", x, None), ("noisy", noisy, 300 + size), ("mirrored", mirrored, None)):
            d, per_layer = lpips(x, y, w)
            cases.append({"name": name, "size": size, "x_stream": 100 + size, "y_stream": ys,
                          "distance": d.tolist(), "per_layer": per_layer.tolist()})
    json.dump({"generator": "tools/peer/lpips_ref.py", "torch": torch.__version__, "numpy": np.__version__,
               "cases": cases}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
