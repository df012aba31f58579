#!/usr/bin/env python3
"""Free-AT replays in PyTorch, for the opt-in cross-check in PyTorchInteropTests: each batch replayed M times,
each replay one forward/backward pass whose input gradient steps the perturbation and whose weight gradient
torch.optim.SGD (lr 0.1, momentum 0.9, weight decay 5e-4) applies, as the references take it:
  --form authors    mahyarnajibi/FreeAdversarialTraining main_free.py: a global noise of the first batch's shape,
                    zero at the start, carried across batches; in1 = clamp(x + noise, 0, 1) on the graph;
                    noise[0:n] += step * sign(grad); noise.clamp_(-eps, eps)
  --form benchmark  fzjcdt/FastAT_Benchmark fast_at/free_at.py: x_adv = x at each batch's start;
                    x_adv = clamp(x + clamp(x_adv + eps * sign(grad) - x, -eps, eps), 0, 1)
No input normalisation (the models here have none), train mode throughout, no clean pass.

usage: pytorch_free_at.py ARCH CHECKPOINT BATCHES OUT --replays M --eps E [--step S] [--form authors|benchmark]
  BATCHES  a .safetensors file with images_0, labels_0, images_1, labels_1, ... (float32 / int64)
  OUT      written: the model's state dict after all replays, and "delta": the perturbation of the last batch's
           rows (authors: the global noise; benchmark: x_adv - x of the last batch)
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
    p.add_argument("batches")
    p.add_argument("out")
    p.add_argument("--replays", type=int, required=True)
    p.add_argument("--eps", type=float, required=True)
    p.add_argument("--step", type=float)
    p.add_argument("--form", choices=["authors", "benchmark"], default="authors")
    a = p.parse_args()
    step = a.eps if a.step is None else a.step
    model = {"smallcnn": SmallCNN, "preact18": PreActResNet18}[a.arch]()
    model.load_state_dict(load_file(a.checkpoint), strict=True)
    data = load_file(a.batches)
    batches = [(data[f"images_{i}"], data[f"labels_{i}"]) for i in range(len(data) // 2)]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    model.train()
    noise = torch.zeros_like(batches[0][0])
    for x, y in batches:
        n = x.shape[0]
        if a.form == "authors":
            for _ in range(a.replays):
                noise_batch = noise[0:n].clone().requires_grad_(True)
                in1 = x + noise_batch
                in1.clamp_(0, 1.0)
                loss = F.cross_entropy(model(in1), y)
                optimizer.zero_grad()
                loss.backward()
                noise[0:n] += step * torch.sign(noise_batch.grad)
                noise.clamp_(-a.eps, a.eps)
                optimizer.step()
            delta = noise
        else:
            adv = x.clone()
            for _ in range(a.replays):
                adv = adv.detach().requires_grad_(True)
                loss = F.cross_entropy(model(adv), y)
                optimizer.zero_grad()
                loss.backward()
                adv = adv.detach() + step * adv.grad.detach().sign()
                adv = torch.clamp(x + torch.clamp(adv - x, -a.eps, a.eps), 0, 1).detach()
                optimizer.step()
            delta = adv - x
    out = {k: v.contiguous() for k, v in model.state_dict().items()}
    out["delta"] = delta.contiguous()
    save_file(out, a.out)


if __name__ == "__main__":
    main()
