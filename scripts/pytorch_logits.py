#!/usr/bin/env python3
"""Loads a checkpoint written by agr into the PyTorch model definitions the public AT code uses
and writes that model's logits on given inputs, for the cross-check test (PyTorchInteropTests).

usage: pytorch_logits.py ARCH CHECKPOINT INPUTS OUT
  ARCH        preact18 | wrn34-10 | smallcnn
  CHECKPOINT  a .safetensors state dict (PyTorch key names)
  INPUTS      a .safetensors file with a float32 tensor "images" (N, C, H, W)
  OUT         written: a .safetensors file with "logits"
Needs torch and safetensors; the model is loaded with load_state_dict(strict=True), so any key or
shape that differs from PyTorch's definition fails here.
"""
import os, sys
from collections import OrderedDict
import torch, torch.nn as nn
from safetensors.torch import load_file, save_file

here = os.path.dirname(os.path.abspath(__file__))
for candidate in (os.path.join(here, "..", "..", "shared", "bench"), "/work/shared/bench"):
    if os.path.exists(os.path.join(candidate, "torch_reference.py")):
        sys.path.insert(0, candidate)
        break
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
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    arch, checkpoint, inputs, out = sys.argv[1:]
    state = load_file(checkpoint)
    classes = state["linear.weight" if arch != "smallcnn" else "classifier.fc3.weight"].shape[0]
    model = {"preact18": PreActResNet18, "wrn34-10": WRN34_10, "smallcnn": SmallCNN}[arch](classes)
    model.load_state_dict(state, strict=True)
    model.eval()
    with torch.no_grad():
        logits = model(load_file(inputs)["images"])
    save_file({"logits": logits.contiguous()}, out)


if __name__ == "__main__":
    main()
