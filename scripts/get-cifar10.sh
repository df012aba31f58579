#!/usr/bin/env bash
# Builds the CIFAR-10 binary files (data_batch_1..5.bin, test_batch.bin) into data/cifar10/
# from the JPEG archive in the shared data folder (../shared/data, else /work/shared/data).
# The tests that need real CIFAR-10 look there and are skipped when it is absent.
# Needs Python 3 with numpy and Pillow; they are installed into the project venv (.venv) if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=data/cifar10
die() { echo "get-cifar10: error: $*" >&2; exit 1; }
say() { echo "get-cifar10: $*"; }

if [ -f "$OUT/test_batch.bin" ] && [ -f "$OUT/data_batch_5.bin" ]; then
  say "already built in $OUT"
  exit 0
fi

shared=""
for candidate in ../shared/data /work/shared/data; do
  if [ -f "$candidate/cifar10/build_cifar10_bin.py" ]; then shared=$candidate; break; fi
done
[ -n "$shared" ] || die "no cifar10/build_cifar10_bin.py under ../shared/data or /work/shared/data"

has_deps() { "$1" -c 'import numpy, PIL' >/dev/null 2>&1; }
python=""
for candidate in .venv/bin/python python3; do
  if command -v "$candidate" >/dev/null && has_deps "$candidate"; then python=$candidate; break; fi
done
if [ -z "$python" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  say "installing numpy and Pillow into .venv"
  .venv/bin/pip install -q --disable-pip-version-check numpy pillow || die "pip could not install numpy and Pillow"
  python=.venv/bin/python
fi

say "building $OUT from $shared/cifar10 (about 20 s)"
"$python" "$shared/cifar10/build_cifar10_bin.py" "$OUT"
