#!/usr/bin/env bash
# Builds a self-contained `agr` (Swift runtime and Foundation linked in) and fills carry/ with what
# scripts/gpu-bench.sh needs on the GPU machine, which has torch 2.11.0 but no Swift toolchain:
#   carry/agr.gz               the release binary, stripped and gzipped (libtorch is found at run time via
#                              LD_LIBRARY_PATH)
#   carry/libctorch_cuda_graphs.so  CUDA graphs for --cuda-graphs (scripts/build-cuda-graphs.sh)
#   carry/libctorch_nccl.so    NCCL for data-parallel CUDA ranks (scripts/build-nccl.sh)
#   carry/torch_reference.py   the PyTorch eager peer (shared/bench/torch_reference.py)
#   carry/cifar10-jpeg.tar.gz  the shared CIFAR-10 archive, for scripts/gpu-cifar10-short.sh (NO_DATA=1: left out)
#   carry/bench-jpegs.tar      1,000 JPEGs of 400x350 for scripts/gpu-data-stream.sh (when $PYTHON has Pillow)
# carry/ is git-ignored. Usage: scripts/build-gpu-carry.sh [carry-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
CARRY=${1:-carry}
REF=${TORCH_REFERENCE:-}
if [ -z "$REF" ]; then
  for c in shared/bench/torch_reference.py ../shared/bench/torch_reference.py; do
    [ -f "$c" ] && { REF=$c; break; }
  done
fi
[ -n "$REF" ] && [ -f "$REF" ] || { echo "torch_reference.py not found (set TORCH_REFERENCE=path)" >&2; exit 1; }
# The static build shares .build/release with the plain one: only a successful build (checked, not
# just the binary's presence) and a binary without libswiftCore.so are packed.
log=$(swift build -c release --static-swift-stdlib --product agr 2>&1) \
  || { echo "$log" | grep -vE '^\[[0-9]+/[0-9]+\]' >&2; echo "build-gpu-carry: the build failed" >&2; exit 1; }
echo "$log" | grep -vE '^\[[0-9]+/[0-9]+\]|warning:|^ *[0-9]* \||^ *\|' || true
BIN=$(swift build -c release --static-swift-stdlib --product agr --show-bin-path)/agr
[ -x "$BIN" ] || { echo "build-gpu-carry: $BIN missing" >&2; exit 1; }
if ldd "$BIN" | grep -qE 'libswift|libFoundation|libjpeg'; then
  echo "build-gpu-carry: $BIN still needs Swift runtime or libjpeg shared libraries:" >&2
  ldd "$BIN" | grep -E 'libswift|libFoundation|libjpeg' >&2
  exit 1
fi
mkdir -p "$CARRY"
rm -f "$CARRY/agr" "$CARRY/agr.gz"
# Stripped and compressed: the static binary (ICU data inside) is ~60 MB stripped, and a device call
# carries at most 64 MiB; gpu-bench.sh unpacks it there.
strip -o "$CARRY/agr" "$BIN"
gzip -9 "$CARRY/agr"
scripts/build-cuda-graphs.sh "$CARRY" >/dev/null
scripts/build-nccl.sh "$CARRY" >/dev/null
install -m 0644 "$REF" "$CARRY/torch_reference.py"
# The CIFAR-10 JPEG archive for scripts/gpu-cifar10-short.sh (19 MB; the binary files would not fit a call).
if [ "${NO_DATA:-0}" != 1 ]; then
  for c in shared/data/cifar10/cifar10-jpeg.tar.gz ../shared/data/cifar10/cifar10-jpeg.tar.gz; do
    [ -f "$c" ] && { install -m 0644 "$c" "$CARRY/"; break; }
  done
fi
# 1,000 JPEGs of ImageNet-like size for scripts/gpu-data-stream.sh (needs a Python with Pillow: $PYTHON).
if [ "${NO_DATA:-0}" != 1 ] && "${PYTHON:-python3}" -c "import PIL" 2>/dev/null; then
  jpegs=$(mktemp -d)
  "${PYTHON:-python3}" scripts/make-bench-jpegs.py "$jpegs/bench-jpegs" --per-class 100 >/dev/null
  tar -cf "$CARRY/bench-jpegs.tar" -C "$jpegs" bench-jpegs && rm -rf "$jpegs"
fi
echo "filled $CARRY/: $(du -sh "$CARRY" | cut -f1) ($(ls "$CARRY" | tr '\n' ' '))"
echo "on the GPU machine, from the repository root: scripts/gpu-bench.sh $CARRY"
