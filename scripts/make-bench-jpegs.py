#!/usr/bin/env python3
"""Makes a JPEG folder of ImageNet-like sizes for `agr bench-data` and scripts/bench-data-torchvision.py: the
shared CIFAR-10 JPEGs (32x32) upscaled (bicubic) to 400x350 and saved at quality 90 (about 30 KB each), in the
ImageFolder layout OUT/train/<class>/NNNN.jpg, the first --per-class images of each class.

  /tmp/ptvenv/bin/python scripts/make-bench-jpegs.py /tmp/bench-jpegs --per-class 500
Needs Pillow. The archive: $CIFAR10_JPEG_ARCHIVE, else /work/shared/data/cifar10/cifar10-jpeg.tar.gz.
"""
import argparse, io, os, sys, tarfile

from PIL import Image

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("out")
parser.add_argument("--per-class", type=int, default=500)
parser.add_argument("--width", type=int, default=400)
parser.add_argument("--height", type=int, default=350)
parser.add_argument("--quality", type=int, default=90)
parser.add_argument("--archive", default=os.environ.get("CIFAR10_JPEG_ARCHIVE", "/work/shared/data/cifar10/cifar10-jpeg.tar.gz"))
args = parser.parse_args()
if not os.path.exists(args.archive):
    sys.exit(f"{args.archive}: not found (set CIFAR10_JPEG_ARCHIVE or --archive)")

written = {}
with tarfile.open(args.archive) as archive:
    for member in archive:
        parts = member.name.split("/")
        if not member.isfile() or len(parts) != 3 or parts[0] != "train" or not parts[2].endswith(".jpg"):
            continue
        label = parts[1]
        if written.get(label, 0) >= args.per_class:
            continue
        image = Image.open(io.BytesIO(archive.extractfile(member).read())).convert("RGB")
        image = image.resize((args.width, args.height), Image.BICUBIC)
        folder = os.path.join(args.out, "train", label)
        os.makedirs(folder, exist_ok=True)
        image.save(os.path.join(folder, parts[2]), quality=args.quality)
        written[label] = written.get(label, 0) + 1
total = sum(written.values())
print(f"{args.out}/train: {total} images in {len(written)} classes, {args.width}x{args.height}, quality {args.quality}")
