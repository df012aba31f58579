#!/usr/bin/env bash
# Builds a self-contained `agr` (Swift runtime and Foundation linked in) and fills carry/ with what
# scripts/gpu-bench.sh needs on the GPU machine, which has torch 2.11.0 but no Swift toolchain:
#   carry/agr.gz               the release binary, stripped and gzipped (libtorch is found at run time via
#                              LD_LIBRARY_PATH)
#   carry/libctorch_cuda_graphs.so  CUDA graphs for --cuda-graphs (scripts/build-cuda-graphs.sh)
#   carry/libctorch_nccl.so    NCCL for data-parallel CUDA ranks (scripts/build-nccl.sh)
#   carry/torch_reference.py   the PyTorch eager peer (shared/bench/torch_reference.py)
#   carry/cifar10-jpeg.tar.gz  the shared CIFAR-10 archive, for scripts/gpu-cifar10-short.sh (NO_DATA=1: left out)
#   carry/bench-jpegs.tar      BENCH_JPEGS=N: N x 10 JPEGs of 400x350 for scripts/gpu-data-stream.sh, in place of the
#                              CIFAR-10 archive (BENCH_JPEGS=60: about 18 MB; $PYTHON must have Pillow)
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
if [ "${NO_DATA:-0}" != 1 ] && [ -z "${BENCH_JPEGS:-}" ]; then
  for c in shared/data/cifar10/cifar10-jpeg.tar.gz ../shared/data/cifar10/cifar10-jpeg.tar.gz; do
    [ -f "$c" ] && { install -m 0644 "$c" "$CARRY/"; break; }
  done
fi
# BENCH_JPEGS=N: N x 10 JPEGs of ImageNet-like size for scripts/gpu-data-stream.sh (about 30 KB each; needs a
# Python with Pillow: $PYTHON), instead of the CIFAR-10 archive, so that the carry stays under a call's 64 MiB.
rm -f "$CARRY/bench-jpegs.tar"
if [ -n "${BENCH_JPEGS:-}" ]; then
  rm -f "$CARRY/cifar10-jpeg.tar.gz"
  jpegs=$(mktemp -d)
  "${PYTHON:-python3}" scripts/make-bench-jpegs.py "$jpegs/bench-jpegs" --per-class "$BENCH_JPEGS" >/dev/null
  tar -cf "$CARRY/bench-jpegs.tar" -C "$jpegs" bench-jpegs && rm -rf "$jpegs"
fi
bytes=$(du -sb "$CARRY" | cut -f1)
if [ "$bytes" -gt $((64 * 1024 * 1024)) ]; then
  echo "build-gpu-carry: $CARRY/ holds $bytes bytes, over a device call's 64 MiB: carry fewer files (NO_DATA=1, a smaller BENCH_JPEGS)" >&2
  exit 1
fi
echo "filled $CARRY/: $(du -sh "$CARRY" | cut -f1) ($(ls "$CARRY" | tr '\n' ' '))"
echo "on the GPU machine, from the repository root: scripts/gpu-bench.sh $CARRY"
