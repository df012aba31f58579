#!/usr/bin/env python3
"""The peer of `agr bench-data`: images per second of torchvision's ImageNet training input pipeline,
ImageFolder(ROOT/train) + RandomResizedCrop(224) + RandomHorizontalFlip + ToTensor, through a DataLoader with
--workers worker processes (shuffled, batches of --batch-size), over the same files. Each epoch is timed from
the iterator's creation (workers starting included, as ours includes its threads starting) to its last batch.

  /tmp/ptvenv/bin/python scripts/bench-data-torchvision.py /tmp/bench-jpegs --workers 2 --epochs 2
Prints one line per epoch: "torchvision: epoch E: N images in S s: R images/s (W workers)".
Needs torch, torchvision and Pillow.
"""
import argparse, os, time

import torch
from torchvision import datasets, transforms

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("root", help="a folder holding train/<class>/*.jpg")
parser.add_argument("--workers", type=int, default=2)
parser.add_argument("--batch-size", type=int, default=256)
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--size", type=int, default=224)
parser.add_argument("--device", default="cpu",
                    help="cuda: pin_memory=True and each batch copied with non_blocking=True, as a GPU training script does")
args = parser.parse_args()

torch.set_num_threads(1)  # the work is in the workers, as in a training script
transform = transforms.Compose([
    transforms.RandomResizedCrop(args.size),
    transforms.RandomHorizontalFlip(),
    transforms.ToTensor(),
])
dataset = datasets.ImageFolder(os.path.join(args.root, "train"), transform=transform)
loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
                                     persistent_workers=False, pin_memory=args.device.startswith("cuda"))
device = torch.device(args.device)
for epoch in range(1, args.epochs + 1):
    start = time.perf_counter()
    count = 0
    for images, labels in loader:
        if device.type == "cuda":
            images = images.to(device, non_blocking=True)
        count += images.shape[0]
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    print(f"torchvision: epoch {epoch}: {count} images in {seconds:.2f} s: {count / seconds:.0f} images/s "
          f"({args.workers} workers, {args.device})", flush=True)
