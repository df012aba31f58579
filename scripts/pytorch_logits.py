#!/usr/bin/env python3
"""Loads a checkpoint written by agr into the PyTorch model definitions the public AT code uses
and writes that model's logits on given inputs, for the cross-checks (PyTorchInteropTests, and
`agr interop` on a GPU machine).

usage: pytorch_logits.py ARCH CHECKPOINT INPUTS OUT [--device DEV] [--compare OURS] [--tolerance T] [--classes N]
  ARCH        preact18 | wrn34-10 | smallcnn, or the Python class a TorchScript model file came from
              (file.py:Class or package.module:Class, as scripts/export_model.py takes it), made with its
              default arguments, or with --classes N as its first argument
  CHECKPOINT  a .safetensors state dict (PyTorch key names)
  INPUTS      a .safetensors file with a float32 tensor "images" (N, C, H, W)
  OUT         written: a .safetensors file with "logits"
  --device    where PyTorch computes (cpu, cuda); fp32 with TF32 off
  --compare   a .safetensors file with "logits" (ours): prints the largest absolute difference and
              exits 1 when it is not below --tolerance (default 1e-4)
Needs torch; safetensors is used when installed, else a small reader/writer here. The model is loaded
with load_state_dict(strict=True), so any key or shape that differs from PyTorch's definition fails here.
"""
import argparse, json, os, struct, sys
from collections import OrderedDict
import torch, torch.nn as nn

try:
    from safetensors.torch import load_file, save_file
except ImportError:  # e.g. a machine with torch only
    DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32,
              "U8": torch.uint8, "BOOL": torch.bool, "BF16": torch.bfloat16, "F16": torch.float16}

    def load_file(path):
        data = open(path, "rb").read()
        length = struct.unpack("<Q", data[:8])[0]
        header, base, out = json.loads(data[8:8 + length]), 8 + length, {}
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            start, end = entry["data_offsets"]
            dtype = DTYPES[entry["dtype"]]
            flat = torch.frombuffer(bytearray(data[base + start:base + end]), dtype=dtype) if end > start \
                else torch.empty(0, dtype=dtype)
            out[name] = flat.reshape(entry["shape"]).clone()
        return out

    def save_file(tensors, path):
        names = {v: k for k, v in DTYPES.items()}
        header, blobs, offset = {}, [], 0
        for name, t in tensors.items():
            blob = bytes(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).tolist())
            header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
            blobs.append(blob)
            offset += len(blob)
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_path import torch_reference_path
sys.path.insert(0, os.path.dirname(torch_reference_path()))
from torch_reference import PreActResNet18, WRN34_10


class SmallCNN(nn.Module):
    """The TRADES MNIST model (same layer names)."""
    def __init__(self, classes=10):
        super().__init__()
        self.feature_extractor = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(1, 32, 3)), ("relu1", nn.ReLU()), ("conv2", nn.Conv2d(32, 32, 3)),
            ("relu2", nn.ReLU()), ("maxpool1", nn.MaxPool2d(2, 2)), ("conv3", nn.Conv2d(32, 64, 3)),
            ("relu3", nn.ReLU()), ("conv4", nn.Conv2d(64, 64, 3)), ("relu4", nn.ReLU()),
            ("maxpool2", nn.MaxPool2d(2, 2))]))
        self.classifier = nn.Sequential(OrderedDict([
            ("fc1", nn.Linear(64 * 4 * 4, 200)), ("relu1", nn.ReLU()), ("drop", nn.Dropout(0.5)),
            ("fc2", nn.Linear(200, 200)), ("relu2", nn.ReLU()), ("fc3", nn.Linear(200, classes))]))

    def forward(self, x):
        return self.classifier(self.feature_extractor(x).view(-1, 64 * 4 * 4))


def main():
    p = argparse.ArgumentParser(usage=__doc__)
    p.add_argument("arch")
    p.add_argument("checkpoint")
    p.add_argument("inputs")
    p.add_argument("out")
    p.add_argument("--device", default="cpu")
    p.add_argument("--classes", type=int)
    p.add_argument("--compare")
    p.add_argument("--tolerance", type=float, default=1e-4)
    a = p.parse_args()
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    state = load_file(a.checkpoint)
    builtin = {"preact18": PreActResNet18, "wrn34-10": WRN34_10, "smallcnn": SmallCNN}
    if a.arch in builtin:
        classes = state["linear.weight" if a.arch != "smallcnn" else "classifier.fc3.weight"].shape[0]
        model = builtin[a.arch](classes)
    else:
        from export_model import model_class
        model = model_class(a.arch)(a.classes) if a.classes else model_class(a.arch)()
    model.load_state_dict(state, strict=True)
    model.to(a.device).eval()
    with torch.no_grad():
        logits = model(load_file(a.inputs)["images"].to(a.device)).cpu()
    save_file({"logits": logits.contiguous()}, a.out)
    if a.compare:
        ours = load_file(a.compare)["logits"]
        difference = (ours.double() - logits.double()).abs().max().item()
        where = torch.cuda.get_device_name(0) if a.device.startswith("cuda") else "cpu"
        print(f"{a.arch}: strict load ok; max |logit difference| = {difference:.3g} over {logits.numel()} logits "
              f"(PyTorch {torch.__version__} on {where}, fp32, TF32 off; tolerance {a.tolerance:g})", flush=True)
        sys.exit(0 if difference < a.tolerance else 1)


if __name__ == "__main__":
    main()
