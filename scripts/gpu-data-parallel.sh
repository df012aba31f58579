#!/usr/bin/env bash
# Data-parallel CUDA ranks on a lent GPU (one command, under 10 minutes), from the repository root:
#   1. a world-size-1 NCCL job (RANK/WORLD_SIZE/MASTER_* set by hand, as torchrun would) against the same
#      job in one process, and the one-process job repeated (the GPU's run-to-run difference);
#   2. a 2-rank job over Gloo on CUDA tensors, both ranks on the one GPU (AGR_CUDA_RANKS_SHARE_DEVICE=1),
#      against one process;
#      each check: weights within 1e-5 (the CPU tests' tolerance) or within twice the run-to-run difference,
#      and the same test accuracies (scripts/compare_runs.py);
#   3. NCCL's all-reduce: agr comm-bench of PreAct-ResNet-18's 44.7 MB bucket, and the training step's time
#      compute only / flat all-reduce / overlapped buckets (AT+AGR, PGD-10, batch 128): what NCCL adds per step.
# Needs carry/ from scripts/build-gpu-carry.sh (agr, libctorch_nccl.so, cifar10-jpeg.tar.gz).
# Rehearsal without a GPU: DEVICE=cpu runs every command on the CPU, over Gloo (nccl becomes gloo; small
# model, subset and batch), so that a flag or parsing mistake shows here. Its figures mean nothing.
# Usage: scripts/gpu-data-parallel.sh [carry-dir]     Environment: OUT (gpu-dp), DEVICE (cuda), TORCH_DIR
set -uo pipefail
cd "$(dirname "$0")/.."
CARRY=${1:-carry}
source scripts/gpu-env.sh
if [ -f "$CARRY/libctorch_nccl.so" ]; then
  AGR_NCCL_LIBRARY="$(cd "$CARRY" && pwd)/libctorch_nccl.so"
  export AGR_NCCL_LIBRARY
fi
DEVICE=${DEVICE:-cuda}; OUT=${OUT:-gpu-dp}
if [ "$DEVICE" = cpu ]; then
  BACKEND=gloo; MODEL_FLAGS=(--model smallcnn --dropout 0); TRAIN=64; TEST=32; BATCH=16
  STEP_FLAGS=(--image-size 8 --batch-size 4 --attack-steps 1 --iterations 1 --warmup 1 --rounds 1)
else
  BACKEND=nccl; MODEL_FLAGS=(--model preactresnet18); TRAIN=512; TEST=200; BATCH=128
  STEP_FLAGS=(--batch-size 128 --attack-steps 10 --iterations 5 --warmup 2 --rounds 3)
fi
[ -f "$CARRY/cifar10-jpeg.tar.gz" ] || { echo "$CARRY/cifar10-jpeg.tar.gz missing (build-gpu-carry.sh copies it)" >&2; exit 1; }
DATA=$(mktemp -d)
tar -xzf "$CARRY/cifar10-jpeg.tar.gz" -C "$DATA"
rm -rf "$OUT"; mkdir -p "$OUT"
failures=0
run() {  # WHAT COMMAND...
  local what=$1; shift
  echo "== $what"
  local start=$SECONDS
  if ! timeout 240 "$@"; then echo "FAIL: $what (exit $?)"; failures=$((failures + 1)); fi
  echo "   ($((SECONDS - start)) s)"
}
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# --sync-bn: BatchNorm over the global batch, so that 2 ranks equal one process (docs/distributed.md)
job=(train --dataset image-folder --data-dir "$DATA" "${MODEL_FLAGS[@]}" --sync-bn --method trades --agr --agr-start-epoch 1
     --epochs 1 --train-subset "$TRAIN" --test-subset "$TEST" --batch-size "$BATCH" --attack-steps 2 --eval-steps 2
     --lr-schedule constant --diagnostics-every 1 --seed 3 --device "$DEVICE")

"$AGR" doctor --device "$DEVICE" 2>&1 | tail -5
run "one process" "$AGR" "${job[@]}" --output "$OUT/single"
run "one process, again (run-to-run difference)" "$AGR" "${job[@]}" --output "$OUT/single-again"
run "world size 1 over $BACKEND (rank started by hand)" env RANK=0 WORLD_SIZE=1 LOCAL_RANK=0 MASTER_ADDR=127.0.0.1 \
  MASTER_PORT="$(free_port)" "$AGR" "${job[@]}" --dist-backend "$BACKEND" --output "$OUT/world1-$BACKEND"
run "2 ranks over Gloo on one $DEVICE device" env AGR_CUDA_RANKS_SHARE_DEVICE=1 "$AGR" "${job[@]}" --nproc-per-node 2 \
  --dist-backend gloo --output "$OUT/gloo2"
for r in "world1-$BACKEND" gloo2; do
  if [ -f "$OUT/$r/last.safetensors" ]; then
    "$PY" scripts/compare_runs.py "$OUT/single" "$OUT/$r" --noise "$OUT/single-again" || failures=$((failures + 1))
  fi
done
port() { echo env RANK=0 WORLD_SIZE=1 LOCAL_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT="$(free_port)"; }
run "$BACKEND all-reduce of 44.7 MB (world size 1)" $(port) "$AGR" comm-bench --device "$DEVICE" --dist-backend "$BACKEND" \
  --megabytes 44.7 --iterations 20
run "training step over $BACKEND: compute only / flat / overlapped (world size 1)" $(port) "$AGR" comm-bench \
  --device "$DEVICE" --dist-backend "$BACKEND" --model preactresnet18 --agr "${STEP_FLAGS[@]}"
echo "== $failures failure(s)"
exit $(( failures > 0 ))
