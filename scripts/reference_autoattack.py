#!/usr/bin/env python3
"""Robust accuracy of an agr checkpoint under torchattacks' AutoAttack (a port of the reference
implementation), on the first N test images of an idx dataset, for comparison with `agr eval`.

usage: reference_autoattack.py ARCH CHECKPOINT IDX_DIR N EPS [VERSION]
  e.g. reference_autoattack.py smallcnn runs/quickstart/best.safetensors /usr/share/datasets/fashion-mnist 200 0.1
Needs torch, safetensors, numpy and torchattacks (not this project's venv: see PyTorchInteropTests).
"""
import gzip, os, sys, time
import numpy as np
import torch
import torchattacks
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_logits import SmallCNN, PreActResNet18, WRN34_10


def idx(path):
    with gzip.open(path) if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    arch, checkpoint, folder, n, eps = sys.argv[1:6]
    version = sys.argv[6] if len(sys.argv) > 6 else "standard"
    n, eps = int(n), float(eps)
    images = idx(os.path.join(folder, "t10k-images-idx3-ubyte.gz"))[:n]
    labels = idx(os.path.join(folder, "t10k-labels-idx1-ubyte.gz"))[:n]
    x = torch.tensor(images, dtype=torch.float32).unsqueeze(1) / 255.0
    y = torch.tensor(labels, dtype=torch.int64)
    model = {"smallcnn": SmallCNN, "preact18": PreActResNet18, "wrn34-10": WRN34_10}[arch]()
    model.load_state_dict(load_file(checkpoint), strict=True)
    model.eval()
    with torch.no_grad():
        clean = (model(x).argmax(1) == y)
    print(f"clean {clean.float().mean().item() * 100:.2f}%", flush=True)
    attack = torchattacks.AutoAttack(model, norm="Linf", eps=eps, version=version, n_classes=10, seed=0)
    start = time.time()
    adv = attack(x, y)
    with torch.no_grad():
        robust = (model(adv).argmax(1) == y) & clean
    print(f"torchattacks AutoAttack ({version}) eps {eps}: {robust.float().mean().item() * 100:.2f}% "
          f"({int(robust.sum())}/{n}) in {time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
