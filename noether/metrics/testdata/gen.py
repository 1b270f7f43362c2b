# Generates reference.json, the scikit-image reference values for
# metrics_test.go. Run from the package directory with the system Python
# and Debian's python3-skimage (written with scikit-image 0.19.3, NumPy
# 1.24.2, SciPy 1.10.1; the versions are also recorded in the output):
#
#   /usr/bin/python3 testdata/gen.py > testdata/reference.json
#
# Each case is a pair of images x (the truth) and y (the prediction), float32,
# laid out [C, H, W] as the Go package takes them, written in the shortest
# decimal form that reads back as the same float32. The expected values:
#   mse            skimage.metrics.mean_squared_error(x, y)
#   psnr_channels  peak_signal_noise_ratio(x[c], y[c], data_range=1), c = 0..C-1
#   psnr           their mean (the reference averages PSNR over channels)
#   ssim_r1, ssim_r2  structural_similarity(x, y, channel_axis=0, win_size=7,
#                  gaussian_weights=False, use_sample_covariance=True,
#                  data_range=1 or 2), the channels' mean
#   ssim_r1_channels  the per-channel values at data range 1
# The images are passed to scikit-image as float64 (exact, since they are
# float32): 0.19 and later compute in the input's float type, and the
# reference code (0.17.2) computed in float64. data_range is given
# explicitly; 2 is what 0.17.2 took from the float dtype's range (-1, 1).
import json
import sys

import numpy as np
import scipy
import skimage
from skimage.metrics import (mean_squared_error, peak_signal_noise_ratio,
                             structural_similarity)

rng = np.random.default_rng(20240601)


def f32(a):
    return np.asarray(a, dtype=np.float32)


def structured(c, h, w):
    # A smooth gradient with a disc on it, the kind of content frames have.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.empty((c, h, w))
    for ch in range(c):
        img[ch] = 0.2 + 0.6 * (xx / (w - 1)) * (0.5 + 0.5 * ch / max(c - 1, 1))
        disc = (yy - h / 2) ** 2 + (xx - w / 3) ** 2 < (min(h, w) / 4) ** 2
        img[ch][disc] = 0.9 - 0.3 * ch
    return f32(np.round(img * 255) / 255)


cases = []


def add(name, x, y):
    x, y = f32(x), f32(y)
    assert x.shape == y.shape and x.ndim == 3
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    ssim = {}
    for r in (1, 2):
        ssim[r] = structural_similarity(
            x64, y64, channel_axis=0, win_size=7, gaussian_weights=False,
            use_sample_covariance=True, data_range=r)
    ssim1_ch = [structural_similarity(
        x64[c], y64[c], win_size=7, gaussian_weights=False,
        use_sample_covariance=True, data_range=1) for c in range(x.shape[0])]
    psnr_ch = [peak_signal_noise_ratio(x64[c], y64[c], data_range=1)
               for c in range(x.shape[0])]
    cases.append({
        "name": name,
        "shape": list(x.shape),
        "x": [np.format_float_positional(v, unique=True, trim="-") for v in x.ravel()],
        "y": [np.format_float_positional(v, unique=True, trim="-") for v in y.ravel()],
        "mse": float(mean_squared_error(x64, y64)),
        "psnr_channels": [float(v) for v in psnr_ch],
        "psnr": float(np.mean(psnr_ch)),
        "ssim_r1": float(ssim[1]),
        "ssim_r2": float(ssim[2]),
        "ssim_r1_channels": [float(v) for v in ssim1_ch],
    })


# Independent uniform noise: SSIM near 0.
add("random", rng.random((3, 16, 16)), rng.random((3, 16, 16)))
# A noisy copy, clipped to [0, 1].
x = rng.random((3, 16, 16))
add("noisy", x, np.clip(x + rng.normal(0, 0.1, x.shape), 0, 1))
# Structured content, H != W, shifted one pixel right and darkened.
x = structured(3, 20, 24)
add("structured", x, np.clip(np.roll(x, 1, axis=2) - 0.05, 0, 1))
# The smallest image SSIM takes: one 7x7 window, one channel.
add("small", rng.random((1, 7, 7)), rng.random((1, 7, 7)))
# Flat images: zero variance, only the luminance term differs.
add("flat", np.full((3, 8, 8), 0.25) + np.arange(3)[:, None, None] * 0.1,
    np.full((3, 8, 8), 0.75))
# Nearly equal, two channels: SSIM close to 1.
x = rng.random((2, 12, 10))
add("near", x, np.clip(x + rng.normal(0, 1e-3, x.shape), 0, 1))

json.dump({
    "generator": "testdata/gen.py",
    "skimage": skimage.__version__,
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "cases": cases,
}, sys.stdout, indent=None, separators=(",", ":"))
print()
