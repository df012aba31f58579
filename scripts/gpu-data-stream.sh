#!/usr/bin/env bash
# The streamed JPEG loader feeding a GPU (issue 28), one short device call, from the repository root:
#   1. `agr bench-data --device cpu` and `--device cuda` on the same JPEG folder and threads: the CUDA run decodes
#      into pinned memory and copies each batch on a side stream; both print each epoch's pixel checksum, which
#      must be equal (the copy changes nothing), and their images per second (the copies' cost);
#   2. the peer in the same call, when the machine's Python has torchvision: ImageFolder + RandomResizedCrop +
#      flip through a DataLoader with as many workers, pin_memory and non_blocking copies to the GPU
#      (scripts/bench-data-torchvision.py --device cuda).
# Needs carry/ from `BENCH_JPEGS=60 PYTHON=PY-WITH-PILLOW scripts/build-gpu-carry.sh` (agr, bench-jpegs.tar: 600
# JPEGs of 400x350 made by scripts/make-bench-jpegs.py, in place of the CIFAR-10 archive). Rehearsal without a GPU: DEVICE=cpu runs both agr runs on the CPU.
# Usage: scripts/gpu-data-stream.sh [carry-dir]    Environment: OUT (gpu-data), DEVICE (cuda), THREADS (nproc), EPOCHS (2)
set -uo pipefail
cd "$(dirname "$0")/.."
CARRY=${1:-carry}
source scripts/gpu-env.sh
DEVICE=${DEVICE:-cuda}; OUT=${OUT:-gpu-data}; THREADS=${THREADS:-$(nproc)}; EPOCHS=${EPOCHS:-2}
mkdir -p "$OUT"
exec > >(tee "$OUT/data-stream.log") 2>&1
FOLDER=$(mktemp -d)
trap 'rm -rf "$FOLDER"' EXIT
tar -xf "$CARRY/bench-jpegs.tar" -C "$FOLDER" || { echo "$CARRY/bench-jpegs.tar missing: see scripts/build-gpu-carry.sh"; exit 1; }
ROOT=$FOLDER/bench-jpegs
echo "== $(find "$ROOT" -type f | wc -l) JPEGs, $THREADS threads, device $DEVICE"
fail=0
"$AGR" bench-data "$ROOT" --threads "$THREADS" --epochs "$EPOCHS" --device cpu --checksum | tee "$OUT/cpu.txt" || fail=1
"$AGR" bench-data "$ROOT" --threads "$THREADS" --epochs "$EPOCHS" --device "$DEVICE" --checksum | tee "$OUT/device.txt" || fail=1
a=$(sed -n 's/.*checksum //p' "$OUT/cpu.txt"); b=$(sed -n 's/.*checksum //p' "$OUT/device.txt")
if [ -n "$a" ] && [ "$a" = "$b" ]; then echo "checksums equal: $(echo $a)"; else echo "FAIL: checksums differ: cpu [$a] $DEVICE [$b]"; fail=1; fi
if "$PY" -c "import torchvision" 2>/dev/null; then
  "$PY" scripts/bench-data-torchvision.py "$ROOT" --workers "$THREADS" --epochs "$EPOCHS" --device "$DEVICE" || fail=1
else
  echo "# the peer skipped: $PY has no torchvision"
fi
echo "# done in ${SECONDS}s, $([ $fail = 0 ] && echo 'no failures' || echo 'FAILURES')"
exit $fail
