#!/usr/bin/env python3
"""One AT-AWP training step in PyTorch, as the AGR authors' train.py and awp.py take it (method 'awp', no AGR):
a train-mode clean forward pass, the AdvWeightPerturb proxy step (SGD lr PROXY_LR on -CE of the adversarial batch,
diff = ||w|| / (||w_proxy - w|| + 1e-20) * (w_proxy - w) for the multi-dimensional weights), the weights moved by
gamma * diff, CE on the adversarial batch, torch.optim.SGD (lr 0.1, momentum 0.9, weight decay 5e-4), the weights
moved back. For the opt-in cross-check in PyTorchInteropTests: the adversarial batch comes from the caller, so the
attack's random numbers play no part.

usage: pytorch_awp_step.py ARCH CHECKPOINT BATCH OUT [--gamma G] [--proxy-lr R]
  BATCH  a .safetensors file with "images", "adversarial" (float32) and "labels" (int64)
  OUT    written: the model's state dict after the step
Needs torch and safetensors.
"""
import argparse, os, sys
import torch, torch.nn.functional as F
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_logits import SmallCNN, PreActResNet18


def main():
    p = argparse.ArgumentParser()
    p.add_argument("arch", choices=["smallcnn", "preact18"])
    p.add_argument("checkpoint")
    p.add_argument("batch")
    p.add_argument("out")
    p.add_argument("--gamma", type=float, default=0.01)
    p.add_argument("--proxy-lr", type=float, default=0.01)
    a = p.parse_args()
    make = {"smallcnn": SmallCNN, "preact18": PreActResNet18}[a.arch]
    model, proxy = make(), make()
    model.load_state_dict(load_file(a.checkpoint), strict=True)
    batch = load_file(a.batch)
    imgs, imgs_adv, targets = batch["images"], batch["adversarial"], batch["labels"]
    optim = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    proxy_optim = torch.optim.SGD(proxy.parameters(), lr=a.proxy_lr)

    model.train()
    model(imgs)  # train.py's clean pass (its loss is not used without AGR)
    # awp.py: calc_awp
    proxy.load_state_dict(model.state_dict())
    proxy.train()
    loss = -F.cross_entropy(proxy(imgs_adv), targets)
    proxy_optim.zero_grad()
    loss.backward()
    proxy_optim.step()
    diff = {}
    for (k, w), (_, wp) in zip(model.state_dict().items(), proxy.state_dict().items()):
        if len(w.size()) <= 1 or "weight" not in k:
            continue
        d = wp - w
        diff[k] = w.norm() / (d.norm() + 1e-20) * d
    def add(coeff):
        with torch.no_grad():
            for name, param in model.named_parameters():
                if name in diff:
                    param.data += coeff * diff[name]
    add(a.gamma)
    loss = F.cross_entropy(model(imgs_adv), targets)
    optim.zero_grad()
    loss.backward()
    optim.step()
    add(-a.gamma)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, a.out)


if __name__ == "__main__":
    main()
