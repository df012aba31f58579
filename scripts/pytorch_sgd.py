#!/usr/bin/env python3
"""Runs torch.optim.SGD on given parameters and per-step gradients, for the cross-check test.

usage: pytorch_sgd.py IN OUT LR MOMENTUM DAMPENING WEIGHT_DECAY NESTEROV(0|1)
  IN   .safetensors with "param" (float64) and "grads" (steps, *param.shape)
  OUT  written: .safetensors with "trajectory" (steps, *param.shape), the parameter after each step
"""
import sys
import torch
from safetensors.torch import load_file, save_file

def main():
    src, out, lr, momentum, dampening, wd, nesterov = sys.argv[1:8]
    data = load_file(src)
    p = torch.nn.Parameter(data["param"].clone())
    opt = torch.optim.SGD([p], lr=float(lr), momentum=float(momentum), dampening=float(dampening),
                          weight_decay=float(wd), nesterov=nesterov == "1")
    states = []
    for g in data["grads"]:
        p.grad = g.clone()
        opt.step()
        states.append(p.detach().clone())
    save_file({"trajectory": torch.stack(states).contiguous()}, out)

if __name__ == "__main__":
    main()
