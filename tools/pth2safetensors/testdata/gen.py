#!/usr/bin/env python3
"""Writes the converter's test files: one small state dict saved by PyTorch
in both of its formats, and the values the converter must read from them.

  cd tools/pth2safetensors && /usr/bin/python3 testdata/gen.py

state.zip.pth    torch.save's default (a zip of data.pkl and raw storages)
state.legacy.pth torch.save(..., _use_new_zipfile_serialization=False), the
                 format of the published AlexNet and LPIPS files
expected.json    name -> {shape, values} for every floating-point tensor
                 (row-major, as float32), and the integer tensors' names,
                 which the converter skips
The dict holds what such files hold: contiguous float32 tensors, a
transposed (non-contiguous) one, two views of one storage at different
offsets, float64 and float16 tensors, an integer tensor (BatchNorm's
num_batches_tracked), a Parameter, and the _metadata attribute
state_dict() attaches."""
import collections
import json

import torch

torch.manual_seed(20261203)
base = torch.arange(12, dtype=torch.float32) * 0.25 - 1
sd = collections.OrderedDict()
sd["features.0.weight"] = torch.randn(4, 3, 2, 2)
sd["features.0.bias"] = torch.randn(4)
sd["lin0.model.1.weight"] = torch.rand(1, 4, 1, 1)
sd["transposed"] = torch.randn(3, 5).t()
sd["view.head"] = base[:4].view(2, 2)
sd["view.tail"] = base[6:12].view(3, 2)
sd["double"] = torch.randn(2, 2, dtype=torch.float64)
sd["half"] = torch.tensor([0.5, -2.0, 65504.0, 1e-3], dtype=torch.float16)
sd["bn.num_batches_tracked"] = torch.tensor(7)
sd["param"] = torch.nn.Parameter(torch.randn(3))
sd._metadata = collections.OrderedDict({"": {"version": 1}})

torch.save(sd, "testdata/state.zip.pth")
torch.save(sd, "testdata/state.legacy.pth", _use_new_zipfile_serialization=False)
expected = {"torch": torch.__version__, "tensors": {}, "skipped": []}
for name, t in sd.items():
    if not t.is_floating_point():
        expected["skipped"].append(name)
        continue
    expected["tensors"][name] = {"shape": list(t.shape), "values": [float(v) for v in t.detach().float().reshape(-1)]}
with open("testdata/expected.json", "w") as f:
    json.dump(expected, f, indent=1)
    f.write("\n")
