#!/usr/bin/env python3
"""Runs torch.optim.SGD or torch.optim.AdamW on given parameters, each in a parameter group of its own
weight decay, with given per-step gradients, for the opt-in cross-check test (PyTorchInteropTests).

usage: pytorch_optimizer.py IN OUT SPEC
  IN    .safetensors with "param.I" (float64) and "grads.I" (steps, *param.shape) for I = 0, 1, ...
  OUT   written: .safetensors with "trajectory.I" (steps, *param.shape), each parameter after each step
  SPEC  JSON: {"kind": "sgd" | "adamw", "lr": ..., "weight_decays": [one per parameter],
        sgd: "momentum", "dampening", "nesterov"; adamw: "betas": [b1, b2], "eps"}
"""
import json
import sys

import torch
from safetensors.torch import load_file, save_file


def main():
    src, out, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    data = load_file(src)
    count = len([k for k in data if k.startswith("param.")])
    params = [torch.nn.Parameter(data[f"param.{i}"].clone()) for i in range(count)]
    groups = [{"params": [p], "weight_decay": wd} for p, wd in zip(params, spec["weight_decays"])]
    if spec["kind"] == "sgd":
        opt = torch.optim.SGD(groups, lr=spec["lr"], momentum=spec["momentum"], dampening=spec["dampening"],
                              nesterov=spec["nesterov"])
    else:
        opt = torch.optim.AdamW(groups, lr=spec["lr"], betas=tuple(spec["betas"]), eps=spec["eps"])
    steps = data["grads.0"].shape[0]
    trajectories = [[] for _ in params]
    for step in range(steps):
        for i, p in enumerate(params):
            p.grad = data[f"grads.{i}"][step].clone()
        opt.step()
        for i, p in enumerate(params):
            trajectories[i].append(p.detach().clone())
    save_file({f"trajectory.{i}": torch.stack(t).contiguous() for i, t in enumerate(trajectories)}, out)


if __name__ == "__main__":
    main()
