#!/usr/bin/env bash
# The short CIFAR-10 check on the GPU machine (no Swift there): PreAct-ResNet-18, AT and AT+AGR from the
# same seed (AGR in the last third), then PGD-20 on the test images and AutoAttack on the first 1,000, and
# `agr compare`. CIFAR-10 comes as the shared JPEG archive (19 MB), read as an image folder: the pixels
# are exactly those of the binary files get-cifar10.sh makes (ImageFolderLoadingTests).
# Needs carry/ from `scripts/build-gpu-carry.sh` with the archive (it copies it when ../shared has it).
# Usage: scripts/gpu-cifar10-short.sh [carry-dir]
# Environment: EPOCHS (15), TEST_SUBSET (test images evaluated each epoch, 10000), PGD_EXAMPLES (10000),
#              AA_EXAMPLES (1000; 0 skips), METHODS ("at+agr at"), TRAIN_SUBSET (all), DEVICE (cuda),
#              GRAPHS=1 (train with --cuda-graphs), TRAIN_FLAGS (more `agr train` flags, e.g. "--channels-last"),
#              TORCH_DIR, OUT (results are written there; default ./gpu-runs).
set -euo pipefail
cd "$(dirname "$0")/.."
CARRY=${1:-carry}
source scripts/gpu-env.sh
EPOCHS=${EPOCHS:-15}; TEST_SUBSET=${TEST_SUBSET:-10000}; AA_EXAMPLES=${AA_EXAMPLES:-1000}
METHODS=${METHODS:-"at+agr at"}; OUT=${OUT:-gpu-runs}; DEVICE=${DEVICE:-cuda}; PGD_EXAMPLES=${PGD_EXAMPLES:-10000}
subset=(); [ -n "${TRAIN_SUBSET:-}" ] && subset=(--train-subset "$TRAIN_SUBSET")
graphs=(); [ "${GRAPHS:-0}" = 1 ] && graphs=(--cuda-graphs)
read -ra extra <<< "${TRAIN_FLAGS:-}"
[ -f "$CARRY/cifar10-jpeg.tar.gz" ] || { echo "$CARRY/cifar10-jpeg.tar.gz missing (build-gpu-carry.sh copies it)" >&2; exit 1; }
DATA=$(mktemp -d)
tar -xzf "$CARRY/cifar10-jpeg.tar.gz" -C "$DATA"
mkdir -p "$OUT"

# AGR from the first epoch of the last third; lr x0.1 at 2/3 and 13/15 of the run (the preset's 10 and 13 of 15).
start=$(( EPOCHS * 2 / 3 + 1 )); m1=$(( EPOCHS * 2 / 3 )); m2=$(( EPOCHS * 13 / 15 ))
[ "$m2" -gt "$m1" ] || m2=$(( m1 + 1 ))
for method in $METHODS; do
  agr_flag=--agr; [ "$method" = at ] && agr_flag=--no-agr
  run="$OUT/cifar10-$method"
  rm -rf "$run"
  "$AGR" train --preset cifar10-short --dataset image-folder --data-dir "$DATA" --device "$DEVICE" --seed 0 \
    --epochs "$EPOCHS" --agr-start-epoch "$start" --lr-schedule "multistep:$m1,$m2" --test-subset "$TEST_SUBSET" \
    "${subset[@]}" "${graphs[@]}" "${extra[@]}" $agr_flag --output "$run"
  "$AGR" eval "$run/best.safetensors" --data-dir "$DATA" --attacks pgd20 --n-examples "$PGD_EXAMPLES" \
    --batch-size 500 --device "$DEVICE"
  if [ "$AA_EXAMPLES" -gt 0 ]; then
    "$AGR" eval "$run/best.safetensors" --data-dir "$DATA" --attacks aa --n-examples "$AA_EXAMPLES" --batch-size 500 \
      --device "$DEVICE" --output "$run/eval-aa.json"
  fi
done
runs=(); for method in $METHODS; do runs+=("$OUT/cifar10-$method"); done
"$AGR" compare "${runs[@]}" --output "$OUT/compare.html" || true
