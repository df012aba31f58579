#!/usr/bin/env python3
"""Writes the TorchScript fixtures of ScriptedClassifierTests (run from anywhere; needs torch 2.11.0):

  tiny_preact.pt         scripted: conv1 -> layer1 = one PreActBlock(8, 16, stride 2) -> bn -> linear (10 classes),
                         for 3x8x8 images; the block is torch_reference.py's, so the test's native twin is made of
                         agr's own PreActBlock (same state_dict keys) and must give the same logits, gradients and steps
  tiny_preact_traced.pt  the same model traced in train mode (BatchNorm's mode frozen): agr must refuse it
  wrong_output.pt        scripted, forward returns the feature map [batch, 8, 8, 8] instead of logits
  state_dict.pt          torch.save of a state dict (a zip archive, but not TorchScript): agr must say so
  tiny_grey_plain.pt     tiny_grey without BatchNorm: data-parallel ranks must train it as one process does
  tied.pt                scripted, one Linear's weight under two names (tied weights): agr must refuse it
  tiny_grey.pt           scripted: two conv-BatchNorm-ReLU stages and a linear layer for 1x28x28 images (10 classes),
                         for `agr train --model-file` runs on MNIST-format data in the command tests
"""
import os, sys
import torch, torch.nn as nn, torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "scripts"))
from reference_path import torch_reference_path
sys.path.insert(0, os.path.dirname(torch_reference_path()))
from torch_reference import PreActBlock


class TinyPreAct(nn.Module):
    def __init__(self, classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.layer1 = nn.Sequential(PreActBlock(8, 16, 2))
        self.bn = nn.BatchNorm2d(16)
        self.linear = nn.Linear(16, classes)

    def forward(self, x):
        out = self.layer1(self.conv1(x))
        return self.linear(F.adaptive_avg_pool2d(F.relu(self.bn(out)), 1).flatten(1))


class FeatureMap(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, 1, 1)

    def forward(self, x):
        return self.conv(x)


class TinyGrey(nn.Module):
    def __init__(self, classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                                      nn.Conv2d(8, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.classifier = nn.Linear(16, classes)

    def forward(self, x):
        return self.classifier(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


class TinyGreyPlain(nn.Module):
    def __init__(self, classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU())
        self.classifier = nn.Linear(16, classes)

    def forward(self, x):
        return self.classifier(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


class Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(3, 3, bias=False)
        self.decoder = nn.Linear(3, 3, bias=False)
        self.decoder.weight = self.encoder.weight
        self.head = nn.Linear(3, 10)

    def forward(self, x):
        return self.head(self.decoder(self.encoder(x.mean((2, 3)))))


def main():
    torch.manual_seed(19)
    model = TinyPreAct()
    with torch.no_grad():  # BatchNorm statistics and affine parameters away from their defaults
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    torch.jit.script(model).save(os.path.join(HERE, "tiny_preact.pt"))
    torch.jit.trace(model.train(), torch.rand(2, 3, 8, 8)).save(os.path.join(HERE, "tiny_preact_traced.pt"))
    torch.jit.script(FeatureMap()).save(os.path.join(HERE, "wrong_output.pt"))
    torch.jit.script(TinyGrey()).save(os.path.join(HERE, "tiny_grey.pt"))
    torch.save(FeatureMap().state_dict(), os.path.join(HERE, "state_dict.pt"))
    torch.jit.script(Tied()).save(os.path.join(HERE, "tied.pt"))
    torch.jit.script(TinyGreyPlain()).save(os.path.join(HERE, "tiny_grey_plain.pt"))


if __name__ == "__main__":
    main()
