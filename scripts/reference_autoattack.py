#!/usr/bin/env python3
"""Robust accuracy of an agr checkpoint under AutoAttack built from torchattacks' ports of the reference
attacks, on the first N test images of an idx dataset, for comparison with `agr eval`.

usage: reference_autoattack.py ARCH CHECKPOINT IDX_DIR N EPS [VERSION]
  e.g. reference_autoattack.py smallcnn runs/quickstart/best.safetensors /usr/share/datasets/fashion-mnist 200 0.1
VERSION:
  standard      (default) the cascade with the official AutoAttack settings, as `agr eval --attacks aa`:
                APGD-CE and APGD-T (9 targets) 100 iterations, FAB-T (9 targets) 100 iterations,
                Square 5,000 queries (p_init 0.8), each on the points still robust
  apgd          APGD-CE + APGD-T only, as `agr eval --attacks aa-apgd`
  torchattacks  torchattacks.AutoAttack as shipped: note that it runs APGD, APGD-T and FAB with
                their default 10 iterations, not the 100 of the reference, so it is weaker
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
    apgd = [torchattacks.APGD(model, norm="Linf", eps=eps, steps=100, n_restarts=1, loss="ce", seed=0),
            torchattacks.APGDT(model, norm="Linf", eps=eps, steps=100, n_restarts=1, n_classes=10, seed=0)]
    if version == "standard":
        attack = torchattacks.MultiAttack(apgd + [
            torchattacks.FAB(model, norm="Linf", eps=eps, steps=100, n_restarts=1, multi_targeted=True,
                             n_classes=10, seed=0),
            torchattacks.Square(model, norm="Linf", eps=eps, n_queries=5000, n_restarts=1, p_init=0.8, seed=0)])
    elif version == "apgd":
        attack = torchattacks.MultiAttack(apgd)
    elif version == "torchattacks":
        attack = torchattacks.AutoAttack(model, norm="Linf", eps=eps, version="standard", n_classes=10, seed=0)
    else:
        sys.exit(f"unknown VERSION {version!r} (standard, apgd, torchattacks)")
    start = time.time()
    adv = attack(x, y)
    with torch.no_grad():
        robust = (model(adv).argmax(1) == y) & clean
    print(f"reference AutoAttack ({version}) eps {eps}: {robust.float().mean().item() * 100:.2f}% "
          f"({int(robust.sum())}/{n}) in {time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
