#!/usr/bin/env python3
"""Turns a PyTorch model into a TorchScript file that `agr train --model-file` trains.

usage: export_model.py MODEL OUTPUT [--classes N] [--input-shape C,H,W] [--kwargs JSON] [--weights FILE]
  MODEL          a built-in name (wrn28-10-swish, wrn70-16-swish, preact18, wrn34-10, smallcnn),
                 or a class path: package.module:Class or path/to/file.py:Class
  OUTPUT         the .pt file written (torch.jit.script(model).save)
  --classes      class count, passed as the constructor's first argument (default 10) unless --kwargs is given
  --kwargs       the constructor's keyword arguments as JSON, e.g. '{"num_classes": 100, "depth": 28}'
  --input-shape  one image (C,H,W) for the checks below (default 3,32,32; smallcnn 1,28,28)
  --weights      a state dict (.pt/.pth via torch.load, or .safetensors) loaded with strict=True first

The model is scripted, not traced: torch.jit.trace records one run, so a traced BatchNorm keeps the mode it
had then (training=True or False frozen in the graph) and dropout stays on or off; `agr` refuses such files.
The scripted module is checked before it is written: forward(images) returns logits [batch, classes], equal to
the eager model's in train and in eval mode. Input normalisation: keep it inside forward, or leave it out and
train with `agr train --normalization MEAN/STD`.
"""
import argparse, importlib, importlib.util, json, os, sys
import torch, torch.nn as nn, torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))

HELP_WHEN_SCRIPTING_FAILS = """
torch.jit.script could not compile the model. What usually helps:
  - annotate arguments that are not tensors (def forward(self, x: torch.Tensor, flag: bool = False));
  - define every variable on all branches of an `if` (TorchScript types each name once);
  - no *args/**kwargs, no Python containers of modules other than nn.Sequential / nn.ModuleList / nn.ModuleDict
    (iterate a ModuleList with `for layer in self.layers:`);
  - a submodule that is None on some instances: test it with `if self.shortcut is not None:`;
  - Python-only helpers (logging, numpy) in forward: move them out, or mark them @torch.jit.unused;
  - a model that cannot be scripted at all cannot be trained by agr: tracing it instead (torch.jit.trace)
    would freeze BatchNorm and dropout in the mode of the trace, and agr refuses traced files.
"""


class SwishBlock(nn.Module):
    """The pre-activation block of RobustBench's DMWideResNet (Gowal et al. 2020, Rebuffi et al. 2021; same
    state_dict keys), written so that it scripts: their forward defines `out` on one branch only."""

    def __init__(self, in_planes: int, out_planes: int, stride: int):
        super().__init__()
        self.batchnorm_0 = nn.BatchNorm2d(in_planes, momentum=0.01)
        self.relu_0 = nn.SiLU()
        self.conv_0 = nn.Conv2d(in_planes, out_planes, 3, stride, 0, bias=False)
        self.batchnorm_1 = nn.BatchNorm2d(out_planes, momentum=0.01)
        self.relu_1 = nn.SiLU()
        self.conv_1 = nn.Conv2d(out_planes, out_planes, 3, 1, 1, bias=False)
        self.has_shortcut = in_planes != out_planes
        self.shortcut = nn.Conv2d(in_planes, out_planes, 1, stride, 0, bias=False) if self.has_shortcut else None
        self.pad = (1, 1, 1, 1) if stride == 1 else (0, 1, 0, 1)

    def forward(self, x):
        activated = self.relu_0(self.batchnorm_0(x))
        out = self.conv_1(self.relu_1(self.batchnorm_1(self.conv_0(F.pad(activated, self.pad)))))
        shortcut = self.shortcut
        if shortcut is not None:
            return shortcut(activated) + out
        return x + out


class SwishGroup(nn.Module):
    def __init__(self, blocks: int, in_planes: int, out_planes: int, stride: int):
        super().__init__()
        self.block = nn.Sequential(*[SwishBlock(in_planes if i == 0 else out_planes, out_planes, stride if i == 0 else 1)
                                     for i in range(blocks)])

    def forward(self, x):
        return self.block(x)


class DMWideResNet(nn.Module):
    """RobustBench's WRN-28-10 / WRN-70-16 with Swish, without the CIFAR mean/std inside (train it with
    `--normalization cifar10`, which is RobustBench's CIFAR-10 mean and std)."""

    def __init__(self, num_classes: int = 10, depth: int = 28, width: int = 10, num_input_channels: int = 3):
        super().__init__()
        channels = [16, 16 * width, 32 * width, 64 * width]
        blocks = (depth - 4) // 6
        self.init_conv = nn.Conv2d(num_input_channels, channels[0], 3, 1, 1, bias=False)
        self.layer = nn.Sequential(SwishGroup(blocks, channels[0], channels[1], 1),
                                   SwishGroup(blocks, channels[1], channels[2], 2),
                                   SwishGroup(blocks, channels[2], channels[3], 2))
        self.batchnorm = nn.BatchNorm2d(channels[3], momentum=0.01)
        self.relu = nn.SiLU()
        self.logits = nn.Linear(channels[3], num_classes)

    def forward(self, x):
        out = self.relu(self.batchnorm(self.layer(self.init_conv(x))))
        return self.logits(F.adaptive_avg_pool2d(out, 1).flatten(1))


def reference_models():
    """The PyTorch definitions of agr's own families (scripts/pytorch_logits.py), for like-for-like checks."""
    sys.path.insert(0, HERE)
    import pytorch_logits
    return {"preact18": pytorch_logits.PreActResNet18, "wrn34-10": pytorch_logits.WRN34_10,
            "smallcnn": pytorch_logits.SmallCNN}


def model_class(name):
    builtin = {"wrn28-10-swish": lambda classes: DMWideResNet(classes, 28, 10),
               "wrn70-16-swish": lambda classes: DMWideResNet(classes, 70, 16)}
    if name in builtin:
        return builtin[name]
    if name in ("preact18", "wrn34-10", "smallcnn"):
        return reference_models()[name]
    path, _, class_name = name.rpartition(":")
    if not path or not class_name:
        sys.exit(f"{name}: not a built-in model ({', '.join(list(builtin) + ['preact18', 'wrn34-10', 'smallcnn'])}) "
                 "nor a class path (package.module:Class or file.py:Class)")
    if path.endswith(".py"):
        spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(path)
    try:
        return getattr(module, class_name)
    except AttributeError:
        sys.exit(f"{path} has no class {class_name}")


def check(eager, scripted, shape, classes):
    """forward(images) -> logits [batch, classes], the same as eager in train and in eval mode."""
    images = torch.rand(4, *shape)
    for training in (True, False):
        eager.train(training)
        scripted.train(training)
        torch.manual_seed(0)
        theirs = eager(images)
        torch.manual_seed(0)
        ours = scripted(images)
        if not isinstance(ours, torch.Tensor) or ours.shape != (4, classes):
            what = type(ours).__name__ if not isinstance(ours, torch.Tensor) else f"a tensor of shape {list(ours.shape)}"
            sys.exit(f"forward returns {what}; agr needs logits of shape [batch, {classes}] from one image tensor")
        difference = (ours - theirs).abs().max().item()
        if difference > 1e-4:
            sys.exit(f"the scripted module's logits differ from the eager model's by {difference:.3g} "
                     f"({'train' if training else 'eval'} mode)")
    eager.train()
    scripted.train()


def main():
    p = argparse.ArgumentParser(usage=__doc__)
    p.add_argument("model")
    p.add_argument("output")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--kwargs")
    p.add_argument("--input-shape")
    p.add_argument("--weights")
    a = p.parse_args()
    shape = [int(v) for v in (a.input_shape or ("1,28,28" if a.model == "smallcnn" else "3,32,32")).split(",")]
    make = model_class(a.model)
    eager = make(**json.loads(a.kwargs)) if a.kwargs else make(a.classes)
    if a.weights:
        if a.weights.endswith(".safetensors"):
            from safetensors.torch import load_file
            state = load_file(a.weights)
        else:
            state = torch.load(a.weights, map_location="cpu")
        eager.load_state_dict(state, strict=True)
    eager.train()
    try:
        scripted = torch.jit.script(eager)
    except Exception as error:
        sys.exit(f"{error}\n{HELP_WHEN_SCRIPTING_FAILS}")
    with torch.no_grad():
        classes = eager(torch.rand(2, *shape)).shape[-1]
    check(eager, scripted, shape, classes)
    transient = [f"{prefix}{'.' if prefix else ''}{name}" for prefix, module in eager.named_modules()
                 for name in getattr(module, "_non_persistent_buffers_set", ())]
    if transient:
        print(f"warning: non-persistent buffers {', '.join(transient)}: TorchScript does not keep that flag, so agr's "
              f"checkpoints will hold them and load_state_dict(strict=True) into the Python class would report them as "
              f"unexpected keys; register them as persistent, or drop them from the state dict when loading",
              file=sys.stderr)
    scripted.save(a.output)
    count = sum(t.numel() for t in eager.parameters())
    print(f"{a.output}: {a.model}, {count:,} parameters, {classes} classes, input {'x'.join(map(str, shape))}; "
          f"train it with agr train --model-file {a.output}")


if __name__ == "__main__":
    main()
